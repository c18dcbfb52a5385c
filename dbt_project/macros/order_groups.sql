{#- The SQL of int_customer_order_groups_summarised for batch `batch` of `batches` of its customers (see the
    model). On a daily run (a usable mark) the customers of `<table>__recomputed` alone: those marked
    is_rebuilt from their whole window, the others from their previous rows plus the orders entering or
    leaving the window, each weighted by window_change. -#}
{% macro order_groups(batch=0, batches=1) %}
{%- set mark = carried_forward_mark() %}
with
{{ summarised_orders_ctes(mark, batch, batches) }}

run_parameters as (

    select * from {{ ref('stg_tierflow__run_parameters') }}

),

-- The orders of the window: of the customers computed whole with weight 1, on a daily run also those
-- entering or leaving it of the others.
weighted as (

    select
        orders.customer_id,
        orders.product_category,
        orders.sales_channel,
        orders.is_counted_order,
        orders.net_spend,
        1 as weight

    from orders
    cross join run_parameters
    where orders.order_date > {{ days_before('run_parameters.as_of_date', 365) }}
    {%- if mark is not none %}

    union all

    select
        moved.customer_id,
        moved.product_category,
        moved.sales_channel,
        moved.is_counted_order,
        moved.net_spend,
        {{ window_change('moved.order_date', 365, mark) }} as weight

    from {{ orders_reached(mark, order_group_window_days()) }} as moved
    cross join run_parameters
    where moved.customer_id in (select recomputed.customer_id from recomputed where not recomputed.is_rebuilt)
    {%- endif %}

),

grouped as (
    {%- for kind, value in [('category', 'lower(product_category)'), ('channel', 'sales_channel')] %}
    {%- if not loop.first %}

    union all
    {%- endif %}

    select
        customer_id,
        '{{ kind }}' as group_kind,
        {{ value }} as group_value,
        weight as orders,
        case when is_counted_order then weight else 0 end as counted_orders,
        weight * net_spend as net_spend

    from weighted
    where {{ value }} is not null and weight <> 0
    {%- endfor %}
    {%- if mark is not none %}

    union all

    select
        customer_id,
        group_kind,
        group_value,
        orders_365d as orders,
        counted_orders_365d as counted_orders,
        net_spend_365d as net_spend

    from recomputed
    where not is_rebuilt and group_kind is not null
    {%- endif %}

),

final as (

    select
        grouped.customer_id,
        grouped.group_kind,
        grouped.group_value,
        cast(sum(grouped.orders) as integer) as orders_365d,
        cast(sum(grouped.counted_orders) as integer) as counted_orders_365d,
        cast(sum(grouped.net_spend) as numeric(18, 2)) as net_spend_365d,
        -- The run that computed the customer's groups: a daily run's tests judge only these customers.
        run_parameters.run_id as computed_run_id

    from grouped
    cross join run_parameters
    group by grouped.customer_id, grouped.group_kind, grouped.group_value, run_parameters.run_id
    having sum(grouped.orders) > 0

)

select * from final
{% endmacro %}

{#- The window of int_customer_order_groups_summarised, and the days the run newly reaches. -#}
{% macro order_group_window_days() -%}{{ return([0, 365]) }}{%- endmacro %}
