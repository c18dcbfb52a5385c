{#- How a daily run updates the carried order summaries (int_customer_orders_summarised and
    int_customer_order_groups_summarised) without reading every order again.

    Between the mark's as-of date M and the run's D (D >= M, same policy and rates), an order's place in a
    window of N days changes only if it enters (dated in (M, D]) or leaves (dated in (M - N, D - N]). A
    customer whose rows did not change otherwise is updated from their previous row plus those orders alone,
    each weighted by window_change (+1 entering, -1 leaving, 0 otherwise): sums and counts add up, first and
    last dates take the least or greatest. Only a customer with an order changed in place (a late refund, a
    correction), a new order dated on or before M, or under `cadence: personal` any new order (the median
    gap needs every gap) is summarised again from their whole history (customers_summarised_whole). -#}

{#- Pre-hook of a carried order summary table (`windows`: its window lengths, in days back from the as-of
    date; 0 for the days the run newly reaches): with a usable mark, write `<table>__recomputed`, one row per
    customer whose rows change: is_rebuilt for those summarised whole, and for the others their previous row's
    columns (null where they had none); then delete them all. The model computes them again. Without a mark,
    delete every row. -#}
{% macro forget_changed_order_summaries(windows, rebuild_entered=false) -%}
    {%- if is_incremental() -%}
    drop table if exists {{ recomputed_customers_relation() }};
        {%- set mark = carried_mark(require_as_of=true) -%}
        {%- if mark is not none %}
            {%- set kept = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower')
                | reject('equalto', 'customer_id') | list %}
    create table {{ recomputed_customers_relation() }} as
    select
        reached.customer_id,
        (whole.customer_id is not null) as is_rebuilt
        {%- for column in kept %},
        previous.{{ column }}
        {%- endfor %}
    from (
        select distinct any_reached.customer_id
        from ({{ customers_with_orders_reached(mark, windows) | indent(8) }}) as any_reached
    ) as reached
    left join (
        select distinct any_whole.customer_id
        from ({{ customers_summarised_whole(mark, rebuild_entered) | indent(8) }}) as any_whole
    ) as whole
        on reached.customer_id = whole.customer_id
    left join {{ this }} as previous
        on reached.customer_id = previous.customer_id
        and whole.customer_id is null;
    delete from {{ this }}
    where customer_id in (select recomputed.customer_id from {{ recomputed_customers_relation() }} as recomputed)
        {%- else %}
    delete from {{ this }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- The first CTEs of a carried order summary's SQL (order_summaries, order_groups): `orders`, the valued orders
    of the customers computed whole, left out before any join, in batch `batch` of `batches`. On a daily run
    (a usable `mark`) those `<table>__recomputed` marks is_rebuilt, the CTE `recomputed` holding that table;
    otherwise the customers missing from the table (every customer on a full build). -#}
{% macro summarised_orders_ctes(mark, batch, batches) %}
{%- if mark is not none %}
recomputed as (

    select * from {{ recomputed_customers_relation() }}

),

rebuilt_customers as (

    select customer_id from recomputed where is_rebuilt

),
{%- elif is_incremental() %}
kept_customers as (

    select customer_id from {{ this }}

),
{%- endif %}

orders as (

    select * from {{ ref('int_orders_valued') }} as orders
    {{ _without_customers(
        'orders', 'kept_customers' if is_incremental() and mark is none else none, batch, batches,
        only_customers=('rebuilt_customers' if mark is not none else none)
    ) }}

),
{%- endmacro %}

{#- Customers whose summary cannot be updated from the orders that enter or leave windows: an order of theirs
    changed in place since the mark's load, a new order dated on or before the mark's as-of date, and with
    `entered` any order dated after it. Read by constant bounds on load sequence, date and changed_seq. -#}
{% macro customers_summarised_whole(mark, entered=false) -%}
    {%- set since = "cast('" ~ mark['as_of_date'] ~ "' as date)" -%}
    select orders.customer_id
    from {{ ref('stg_landing__orders') }} as orders
    where {{ changed_in_place_since(mark['changed_seq']) }}
    union
    select orders.customer_id
    from {{ ref('int_orders_valued') }} as orders
    where orders.order_date <= {{ since }}
        and orders.changed_seq > {{ mark['changed_seq'] }}
    {%- if entered %}
    union
    select orders.customer_id
    from {{ ref('int_orders_valued') }} as orders
    where orders.order_date > {{ since }}
    {%- endif %}
{%- endmacro %}

{#- The valued orders dated on a day that one of `offsets` (days back from the as-of date: numbers, or
    columns of the policy engine or the run parameters) passes between the mark's as-of date and the run's:
    order dates in (M - offset, D - offset]. The offsets and D are read first, so each range is a constant
    bound on order_date by which DuckDB skips the row groups of other dates (a null offset, a window over all
    history, has no edge). -#}
{% macro orders_reached(mark, offsets) -%}
    {%- set since = "cast('" ~ mark['as_of_date'] ~ "' as date)" -%}
    {%- set values = run_constants(offsets) -%}
    {%- set as_of = "cast('" ~ values[0] ~ "' as date)" -%}
    (
    {%- for days in values[1:] | reject('none') | unique %}
        {%- if not loop.first %}
        union
        {%- endif %}
        select orders.*
        from {{ ref('int_orders_valued') }} as orders
        where orders.order_date > {{ days_before(since, days) }}
            and orders.order_date <= {{ days_before(as_of, days) }}
    {%- else %}
        select orders.* from {{ ref('int_orders_valued') }} as orders where 1 = 0
    {%- endfor %}
    )
{%- endmacro %}

{#- [the run's as-of date as text, then the value of each of `expressions`] (columns of the run parameters, or
    of the policy engine as `engine.`). -#}
{% macro run_constants(expressions) -%}
    {%- set engine = (
        " cross join " ~ ref('stg_tierflow__policy_engine') ~ " as engine"
        if 'engine.' in expressions | join(' ') else ''
    ) -%}
    {%- set columns = ['cast(run_parameters.as_of_date as varchar)'] + expressions -%}
    {{ return(run_query(
        "select " ~ (columns | join(', ')) ~ " from " ~ ref('stg_tierflow__run_parameters') ~ " as run_parameters"
        ~ engine
    ).rows[0]) }}
{%- endmacro %}

{#- +1 if the order dated `date_column` is in the window of `days` (none: every day up to the as-of date;
    a column may be null for the same) as of the run but was not as of the mark's as-of date, -1 the other
    way round, else 0. -#}
{% macro window_change(date_column, days, mark) -%}
    ({{ _in_window(date_column, 'run_parameters.as_of_date', days) }}
        - {{ _in_window(date_column, "cast('" ~ mark['as_of_date'] ~ "' as date)", days) }})
{%- endmacro %}

{% macro _in_window(date_column, as_of, days) -%}
    case
        when {{ date_column }} <= {{ as_of }}
            {%- if days is not none %}
            and ({{ days }} is null or {{ date_column }} > {{ days_before(as_of, days) }})
            {%- endif %}
            then 1
        else 0
    end
{%- endmacro %}

{#- Whether the run's policy sets `lifecycle.cadence: personal` (its summaries need every counted order's gap). -#}
{% macro personal_cadence() -%}
    {%- if not execute -%}{{ return(false) }}{%- endif -%}
    {%- set rows = run_query(
        "select max(lifecycle_cadence) from " ~ ref('stg_tierflow__run_parameters')
    ).rows -%}
    {{ return(rows | length == 1 and rows[0][0] == 'personal') }}
{%- endmacro %}

{#- The earlier (later) of two dates, either of which may be null. -#}
{% macro earliest(a, b) -%}coalesce(least({{ a }}, {{ b }}), {{ a }}, {{ b }}){%- endmacro %}

{% macro latest(a, b) -%}coalesce(greatest({{ a }}, {{ b }}), {{ a }}, {{ b }}){%- endmacro %}
