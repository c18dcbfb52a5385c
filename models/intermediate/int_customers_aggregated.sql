-- Spend and order counts per customer over the fixed reporting windows and the policy's qualification
-- window. A window of N days as of D holds the local order dates d with D - N < d <= D.
{%- set windows = [30, 90, 365] %}

with

customers as (

    select customer_id from {{ ref('int_customers_joined') }}

),

orders as (

    select * from {{ ref('int_orders_valued') }}

),

run_parameters as (

    select * from {{ ref('stg_tierflow__run_parameters') }}

),

order_windows as (

    select
        orders.customer_id,
        orders.net_spend,
        orders.is_counted_order,
        orders.order_date,
        {%- for days in windows %}
        (orders.order_date > {{ days_before('run_parameters.as_of_date', days) }}) as is_in_{{ days }}d,
        {%- endfor %}
        (
            orders.order_date
            > {{ days_before('run_parameters.as_of_date', 'run_parameters.qualification_window_days') }}
        ) as is_in_qualification_window

    from orders
    cross join run_parameters

),

per_customer as (

    select
        customer_id,
        {%- for days in windows %}
        sum(case when is_in_{{ days }}d then net_spend else 0 end) as spend_{{ days }}d,
        sum(case when is_in_{{ days }}d and is_counted_order then 1 else 0 end) as orders_{{ days }}d,
        {%- endfor %}
        sum(case when is_in_qualification_window then net_spend else 0 end) as qualifying_spend,
        sum(case when is_in_qualification_window and is_counted_order then 1 else 0 end) as qualifying_orders,
        sum(net_spend) as lifetime_spend,
        sum(case when is_counted_order then 1 else 0 end) as lifetime_orders,
        min(case when is_counted_order then order_date end) as first_order_date,
        max(case when is_counted_order then order_date end) as last_order_date

    from order_windows
    group by customer_id

),

final as (

    select
        customers.customer_id,
        {%- for days in windows %}
        cast(coalesce(per_customer.spend_{{ days }}d, 0) as numeric(18, 2)) as spend_{{ days }}d,
        cast(coalesce(per_customer.orders_{{ days }}d, 0) as integer) as orders_{{ days }}d,
        {%- endfor %}
        cast(coalesce(per_customer.qualifying_spend, 0) as numeric(18, 2)) as qualifying_spend,
        cast(coalesce(per_customer.qualifying_orders, 0) as integer) as qualifying_orders,
        cast(coalesce(per_customer.lifetime_spend, 0) as numeric(18, 2)) as lifetime_spend,
        cast(coalesce(per_customer.lifetime_orders, 0) as integer) as lifetime_orders,
        per_customer.first_order_date,
        per_customer.last_order_date,
        cast(
            {{ dbt.datediff('per_customer.last_order_date', 'run_parameters.as_of_date', 'day') }} as integer
        ) as days_since_last_order

    from customers
    cross join run_parameters
    left join per_customer
        on customers.customer_id = per_customer.customer_id

)

select * from final
