-- Spend and order counts per customer over the fixed reporting windows and the policy's qualification
-- window, for every customer known on the as-of date (zeros without orders), from the carried order
-- summary. A window of N days as of D holds the local order dates d with D - N < d <= D.
{%- set windows = [30, 90, 365] %}

with

customers as (

    select customer_id from {{ ref('int_customers_joined') }}

),

summaries as (

    select * from {{ ref('int_customer_orders_summarised') }}

),

run_parameters as (

    select * from {{ ref('stg_tierflow__run_parameters') }}

),

final as (

    select
        customers.customer_id,
        {%- for days in windows %}
        cast(coalesce(summaries.spend_{{ days }}d, 0) as numeric(18, 2)) as spend_{{ days }}d,
        cast(coalesce(summaries.orders_{{ days }}d, 0) as integer) as orders_{{ days }}d,
        {%- endfor %}
        cast(coalesce(summaries.qualifying_spend, 0) as numeric(18, 2)) as qualifying_spend,
        cast(coalesce(summaries.qualifying_orders, 0) as integer) as qualifying_orders,
        cast(coalesce(summaries.lifetime_spend, 0) as numeric(18, 2)) as lifetime_spend,
        cast(coalesce(summaries.lifetime_orders, 0) as integer) as lifetime_orders,
        summaries.first_order_date,
        summaries.last_order_date,
        cast(
            {{ dbt.datediff('summaries.last_order_date', 'run_parameters.as_of_date', 'day') }} as integer
        ) as days_since_last_order

    from customers
    cross join run_parameters
    left join summaries
        on customers.customer_id = summaries.customer_id

)

select * from final
