{#- The SQL of int_customer_orders_summarised for batch `batch` of `batches` of its customers (see the model).
    On a daily run (a usable mark) the customers of `<table>__recomputed` alone: those marked is_rebuilt from
    their whole history, the others from their previous row plus the orders entering or leaving a window
    (macros/order_summary_updates.sql). The preferred category and the channel count of every customer it
    computes come from int_customer_order_groups_summarised. -#}
{% macro order_summaries(batch=0, batches=1) %}
{%- set windows = [30, 90, 365] %}
{%- set mark = carried_forward_mark() %}
with
{{ summarised_orders_ctes(mark, batch, batches) }}

run_parameters as (

    select * from {{ ref('stg_tierflow__run_parameters') }}

),

promotions as (

    select * from {{ ref('stg_tierflow__policy_promotions') }}

),

dated as (

    select
        orders.customer_id,
        orders.order_id,
        orders.order_date,
        orders.net_spend,
        orders.gross_spend,
        orders.refunded_spend,
        orders.is_counted_order,
        orders.sales_channel,
        lower(orders.product_category) as product_category,
        {%- for days in windows %}
        (orders.order_date > {{ days_before('run_parameters.as_of_date', days) }}) as is_in_{{ days }}d,
        {%- endfor %}
        (
            orders.order_date
            > {{ days_before('run_parameters.as_of_date', 'run_parameters.qualification_window_days') }}
        ) as is_in_qualification_window,
        (
            run_parameters.rfm_window_days is null
            or orders.order_date > {{ days_before('run_parameters.as_of_date', 'run_parameters.rfm_window_days') }}
        ) as is_in_rfm_window,
        (orders.order_date > {{ days_before('run_parameters.as_of_date', 'run_parameters.new_days') }}) as is_recent,
        {{ month_day('orders.order_date') }} as order_month_day,
        (run_parameters.lifecycle_cadence = 'personal') as is_personal_cadence

    from orders
    cross join run_parameters

),

{%- if mark is not none %}
{%- set constants = run_constants(['run_parameters.new_days']) %}
{%- set since = "cast('" ~ mark['as_of_date'] ~ "' as date)" %}
{%- set earlier_than = days_before("cast('" ~ constants[0] ~ "' as date)", constants[1]) %}

-- The orders entering or leaving a window of the customers updated from their previous row, with the change
-- of their place in each window (+1 in, -1 out, 0 unchanged).
moved as (

    select
        reached.customer_id,
        reached.order_date,
        reached.net_spend,
        reached.gross_spend,
        reached.refunded_spend,
        case when reached.is_counted_order then 1 else 0 end as counted,
        {{ month_day('reached.order_date') }} as order_month_day,
        {%- for days in windows %}
        {{ window_change('reached.order_date', days, mark) }} as change_{{ days }}d,
        {%- endfor %}
        {{ window_change('reached.order_date', 'run_parameters.qualification_window_days', mark) }}
            as change_qualification,
        {{ window_change('reached.order_date', 'run_parameters.rfm_window_days', mark) }} as change_rfm,
        {{ window_change('reached.order_date', none, mark) }} as change_lifetime,
        (reached.order_date > {{ days_before('run_parameters.as_of_date', 'run_parameters.new_days') }}) as is_recent

    from {{ orders_reached(mark, summary_window_days()) }} as reached
    cross join run_parameters
    where reached.customer_id in (select recomputed.customer_id from recomputed where not recomputed.is_rebuilt)

),
{%- endif %}

-- The month-days some promotion covers (at most 366): orders find theirs by equality, where a range join of
-- every order with the promotions took a fifth of the behaviour model's time.
promotion_days as (

    select distinct order_days.order_month_day

    from (
        select order_month_day from dated where is_in_365d
        {%- if mark is not none %}
        union
        select order_month_day from moved
        {%- endif %}
    ) as order_days
    inner join promotions
        on order_days.order_month_day between promotions.start_month_day and promotions.end_month_day

),

per_customer as (

    select
        dated.customer_id,
        {%- for days in windows %}
        sum(case when dated.is_in_{{ days }}d then dated.net_spend else 0 end) as spend_{{ days }}d,
        sum(case when dated.is_in_{{ days }}d and dated.is_counted_order then 1 else 0 end) as orders_{{ days }}d,
        {%- endfor %}
        sum(case when dated.is_in_qualification_window then dated.net_spend else 0 end) as qualifying_spend,
        sum(case when dated.is_in_qualification_window and dated.is_counted_order then 1 else 0 end)
            as qualifying_orders,
        sum(dated.net_spend) as lifetime_spend,
        sum(case when dated.is_counted_order then 1 else 0 end) as lifetime_orders,
        min(case when dated.is_counted_order then dated.order_date end) as first_order_date,
        max(case when dated.is_counted_order then dated.order_date end) as last_order_date,
        min(dated.order_date) as first_any_order_date,
        sum(case when dated.is_in_rfm_window then dated.net_spend else 0 end) as rfm_monetary,
        sum(case when dated.is_in_rfm_window and dated.is_counted_order then 1 else 0 end) as rfm_frequency,
        sum(
            case
                when dated.is_in_365d and dated.is_counted_order and promotion_days.order_month_day is not null
                    then 1
                else 0
            end
        ) as promotion_orders_365d,
        sum(case when dated.is_in_365d then dated.gross_spend else 0 end) as gross_spend_365d,
        sum(case when dated.is_in_365d then dated.refunded_spend else 0 end) as refunded_spend_365d,
        min(case when dated.is_counted_order and dated.is_recent then dated.order_date end)
            as first_recent_order_date,
        max(case when dated.is_counted_order and not dated.is_recent then dated.order_date end)
            as last_earlier_order_date

    from dated
    left join promotion_days
        on dated.order_month_day = promotion_days.order_month_day
    group by dated.customer_id

),

-- Only `cadence: personal` uses the median gap: under the fixed cadence no order reaches the window sorts
-- below and median_gap_days stays null.
-- Gaps in days between consecutive counted orders of a customer (0 for two orders on one day).
sequenced as (

    select
        customer_id,
        {{ dbt.datediff(
            'lag(order_date) over (partition by customer_id order by order_date, order_id)', 'order_date', 'day'
        ) }} as gap_days

    from dated
    where is_counted_order and is_personal_cadence

),

gaps as (

    select
        customer_id,
        gap_days,
        row_number() over (partition by customer_id order by gap_days) as gap_index,
        1 + 0.5 * (count(*) over (partition by customer_id) - 1) as median_position

    from sequenced
    where gap_days is not null

),

median_gaps as (

    select
        customer_id,
        {{ interpolated_percentile('gap_days', 'gap_index', 'median_position') }} as median_gap_days

    from gaps
    group by customer_id

),
{%- set sums = [] %}
{%- for days in windows %}{% do sums.extend(['spend_' ~ days ~ 'd', 'orders_' ~ days ~ 'd']) %}{% endfor %}
{%- do sums.extend(['qualifying_spend', 'qualifying_orders', 'lifetime_spend', 'lifetime_orders', 'rfm_monetary',
                    'rfm_frequency', 'promotion_orders_365d', 'gross_spend_365d', 'refunded_spend_365d']) %}
{%- set dates = ['first_order_date', 'last_order_date', 'first_any_order_date', 'first_recent_order_date',
                 'last_earlier_order_date'] %}

{%- if mark is not none %}
moved_sums as (

    select
        moved.customer_id,
        {%- for days in windows %}
        sum(moved.change_{{ days }}d * moved.net_spend) as spend_{{ days }}d,
        sum(moved.change_{{ days }}d * moved.counted) as orders_{{ days }}d,
        {%- endfor %}
        sum(moved.change_qualification * moved.net_spend) as qualifying_spend,
        sum(moved.change_qualification * moved.counted) as qualifying_orders,
        sum(moved.change_lifetime * moved.net_spend) as lifetime_spend,
        sum(moved.change_lifetime * moved.counted) as lifetime_orders,
        sum(moved.change_rfm * moved.net_spend) as rfm_monetary,
        sum(moved.change_rfm * moved.counted) as rfm_frequency,
        sum(
            case when promotion_days.order_month_day is not null then moved.change_365d * moved.counted else 0 end
        ) as promotion_orders_365d,
        sum(moved.change_365d * moved.gross_spend) as gross_spend_365d,
        sum(moved.change_365d * moved.refunded_spend) as refunded_spend_365d,
        -- Orders only enter the history (the run's as-of date is not earlier than the mark's).
        min(case when moved.change_lifetime = 1 and moved.counted = 1 then moved.order_date end) as first_order_date,
        max(case when moved.change_lifetime = 1 and moved.counted = 1 then moved.order_date end) as last_order_date,
        min(case when moved.change_lifetime = 1 then moved.order_date end) as first_any_order_date,
        -- Counted orders now within new_days entered with the run; those now before it include every order
        -- that left that window or entered already before it (a larger max changes nothing).
        min(case when moved.counted = 1 and moved.is_recent then moved.order_date end) as first_recent_order_date,
        max(case when moved.counted = 1 and not moved.is_recent then moved.order_date end) as last_earlier_order_date

    from moved
    left join promotion_days
        on moved.order_month_day = promotion_days.order_month_day
    group by moved.customer_id

),

-- The first counted order within new_days of the customers whose first one there left the window: read from
-- the days that stay in it (a constant date range).
recent_orders as (

    select
        orders.customer_id,
        min(orders.order_date) as first_recent_order_date

    from {{ ref('int_orders_valued') }} as orders
    where orders.order_date > {{ earlier_than }}
        and orders.order_date <= {{ since }}
        and orders.is_counted_order
        and orders.customer_id in (
            select recomputed.customer_id from recomputed
            where not recomputed.is_rebuilt and recomputed.first_recent_order_date <= {{ earlier_than }}
        )
    group by orders.customer_id

),

updated as (

    select
        recomputed.customer_id,
        {%- for column in sums %}
        coalesce(recomputed.{{ column }}, 0) + coalesce(moved_sums.{{ column }}, 0) as {{ column }},
        {%- endfor %}
        {{ earliest('recomputed.first_order_date', 'moved_sums.first_order_date') }} as first_order_date,
        {{ latest('recomputed.last_order_date', 'moved_sums.last_order_date') }} as last_order_date,
        {{ earliest('recomputed.first_any_order_date', 'moved_sums.first_any_order_date') }} as first_any_order_date,
        case
            when recomputed.first_recent_order_date > {{ earlier_than }}
                then {{ earliest('recomputed.first_recent_order_date', 'moved_sums.first_recent_order_date') }}
            else coalesce(recent_orders.first_recent_order_date, moved_sums.first_recent_order_date)
        end as first_recent_order_date,
        {{ latest('recomputed.last_earlier_order_date', 'moved_sums.last_earlier_order_date') }}
            as last_earlier_order_date,
        -- Under `cadence: personal` a customer with a new order is summarised whole: no gap changed here.
        recomputed.median_gap_days

    from recomputed
    left join moved_sums
        on recomputed.customer_id = moved_sums.customer_id
    left join recent_orders
        on recomputed.customer_id = recent_orders.customer_id
    where not recomputed.is_rebuilt
        and (recomputed.first_any_order_date is not null or moved_sums.first_any_order_date is not null)

),
{%- endif %}


summarised as (

    select
        per_customer.customer_id,
        {%- for column in sums + dates %}
        per_customer.{{ column }},
        {%- endfor %}
        median_gaps.median_gap_days

    from per_customer
    left join median_gaps
        on per_customer.customer_id = median_gaps.customer_id
    {%- if mark is not none %}

    union all

    select
        updated.customer_id,
        {%- for column in sums + dates %}
        updated.{{ column }},
        {%- endfor %}
        updated.median_gap_days

    from updated
    {%- endif %}

),
groups as (

    select * from {{ ref('int_customer_order_groups_summarised') }} as groups
    where groups.customer_id in (select summarised.customer_id from summarised)

),

channels as (

    select
        customer_id,
        count(*) as channels_365d

    from groups
    where group_kind = 'channel' and counted_orders_365d > 0
    group by customer_id

),

-- Highest net spend wins; ties go to the alphabetically first category.
preferred_categories as (

    select
        customer_id,
        group_value as product_category,
        net_spend_365d as category_spend,
        row_number() over (
            partition by customer_id order by net_spend_365d desc, group_value
        ) as category_rank

    from groups
    where group_kind = 'category' and net_spend_365d > 0

),

final as (

    select
        summarised.customer_id,
        {%- for days in windows %}
        cast(summarised.spend_{{ days }}d as numeric(18, 2)) as spend_{{ days }}d,
        cast(summarised.orders_{{ days }}d as integer) as orders_{{ days }}d,
        {%- endfor %}
        cast(summarised.qualifying_spend as numeric(18, 2)) as qualifying_spend,
        cast(summarised.qualifying_orders as integer) as qualifying_orders,
        cast(summarised.lifetime_spend as numeric(18, 2)) as lifetime_spend,
        cast(summarised.lifetime_orders as integer) as lifetime_orders,
        summarised.first_order_date,
        summarised.last_order_date,
        summarised.first_any_order_date,
        cast(summarised.rfm_monetary as numeric(18, 2)) as rfm_monetary,
        cast(summarised.rfm_frequency as integer) as rfm_frequency,
        cast(summarised.promotion_orders_365d as integer) as promotion_orders_365d,
        cast(coalesce(channels.channels_365d, 0) as integer) as channels_365d,
        cast(summarised.gross_spend_365d as numeric(18, 2)) as gross_spend_365d,
        cast(summarised.refunded_spend_365d as numeric(18, 2)) as refunded_spend_365d,
        summarised.first_recent_order_date,
        summarised.last_earlier_order_date,
        preferred_categories.product_category as preferred_category,
        cast(preferred_categories.category_spend as numeric(18, 2)) as preferred_category_spend,
        cast(summarised.median_gap_days as numeric(10, 1)) as median_gap_days,
        -- The run that summarised the customer: a daily run's tests judge only these customers.
        run_parameters.run_id as computed_run_id

    from summarised
    cross join run_parameters
    left join channels
        on summarised.customer_id = channels.customer_id
    left join preferred_categories
        on summarised.customer_id = preferred_categories.customer_id
        and preferred_categories.category_rank = 1

)

select * from final
{% endmacro %}

{#- The landing tables the order summaries are computed from (what customer_batches sizes a build by). -#}
{% macro order_summary_inputs() -%}{{ return(['orders']) }}{%- endmacro %}
