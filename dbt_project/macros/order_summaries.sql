{#- The SQL of int_customer_orders_summarised for batch `batch` of `batches` of its customers (see the model). -#}
{% macro order_summaries(batch=0, batches=1) %}
{%- set windows = [30, 90, 365] %}
with

{%- set forward = carried_forward_mark() is not none %}
{% if forward %}
recomputed_customers as (

    select customer_id from {{ recomputed_customers_relation() }}

),
{% elif is_incremental() %}
kept_customers as (

    select customer_id from {{ this }}

),
{% endif %}

-- The orders of the customers the pre-hook deleted on a daily run, else of the customers missing from the
-- table (every customer on a full build), left out before any join.
orders as (

    select * from {{ ref('int_orders_valued') }} as orders
    {{ _without_customers(
        'orders', 'kept_customers' if is_incremental() and not forward else none, batch, batches,
        only_customers=('recomputed_customers' if forward else none)
    ) }}

),

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
        extract(month from orders.order_date) * 100 + extract(day from orders.order_date) as order_month_day,
        (run_parameters.lifecycle_cadence = 'personal') as is_personal_cadence

    from orders
    cross join run_parameters

),

-- The month-days some promotion covers (at most 366): orders find theirs by equality, where a range join of
-- every order with the promotions took a fifth of the behaviour model's time.
promotion_days as (

    select distinct order_days.order_month_day

    from (select distinct order_month_day from dated where is_in_365d) as order_days
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
        count(distinct case when dated.is_in_365d and dated.is_counted_order then dated.sales_channel end)
            as channels_365d,
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

category_spend as (

    select
        customer_id,
        product_category,
        sum(net_spend) as category_spend

    from dated
    where is_in_365d and product_category is not null
    group by customer_id, product_category

),

-- Highest net spend wins; ties go to the alphabetically first category.
preferred_categories as (

    select
        customer_id,
        product_category,
        category_spend,
        row_number() over (
            partition by customer_id order by category_spend desc, product_category
        ) as category_rank

    from category_spend
    where category_spend > 0

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

final as (

    select
        per_customer.customer_id,
        {%- for days in windows %}
        cast(per_customer.spend_{{ days }}d as numeric(18, 2)) as spend_{{ days }}d,
        cast(per_customer.orders_{{ days }}d as integer) as orders_{{ days }}d,
        {%- endfor %}
        cast(per_customer.qualifying_spend as numeric(18, 2)) as qualifying_spend,
        cast(per_customer.qualifying_orders as integer) as qualifying_orders,
        cast(per_customer.lifetime_spend as numeric(18, 2)) as lifetime_spend,
        cast(per_customer.lifetime_orders as integer) as lifetime_orders,
        per_customer.first_order_date,
        per_customer.last_order_date,
        per_customer.first_any_order_date,
        cast(per_customer.rfm_monetary as numeric(18, 2)) as rfm_monetary,
        cast(per_customer.rfm_frequency as integer) as rfm_frequency,
        cast(per_customer.promotion_orders_365d as integer) as promotion_orders_365d,
        cast(per_customer.channels_365d as integer) as channels_365d,
        cast(per_customer.gross_spend_365d as numeric(18, 2)) as gross_spend_365d,
        cast(per_customer.refunded_spend_365d as numeric(18, 2)) as refunded_spend_365d,
        per_customer.first_recent_order_date,
        per_customer.last_earlier_order_date,
        preferred_categories.product_category as preferred_category,
        cast(preferred_categories.category_spend as numeric(18, 2)) as preferred_category_spend,
        cast(median_gaps.median_gap_days as numeric(10, 1)) as median_gap_days,
        -- The run that summarised the customer: a daily run's tests judge only these customers.
        run_parameters.run_id as computed_run_id

    from per_customer
    cross join run_parameters
    left join preferred_categories
        on per_customer.customer_id = preferred_categories.customer_id
        and preferred_categories.category_rank = 1
    left join median_gaps
        on per_customer.customer_id = median_gaps.customer_id

)

select * from final
{% endmacro %}

{#- The landing tables the order summaries are computed from (what customer_batches sizes a build by). -#}
{% macro order_summary_inputs() -%}{{ return(['orders']) }}{%- endmacro %}
