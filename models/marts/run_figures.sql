-- Figures of this run that tierflow's Python side needs besides the published tables (it reads no staging
-- or intermediate model): the customers known and the orders staged, which the gates compare with the
-- landing data, and the customers whose occupation maps to no category (a data-quality figure of the report).
with

run_parameters as (

    select * from {{ ref('stg_tierflow__run_parameters') }}

),

orders as (

    select count(*) as staged_orders from {{ ref('stg_landing__orders') }}

),

customers as (

    select count(*) as known_customers from {{ ref('int_customers_joined') }}

),

profiles as (

    select count(*) as unmapped_occupation_customers
    from {{ ref('int_customers_profiled') }}
    where is_occupation_unmapped

),

final as (

    select
        run_parameters.run_id,
        run_parameters.as_of_date,
        customers.known_customers,
        orders.staged_orders,
        profiles.unmapped_occupation_customers

    from run_parameters
    cross join customers
    cross join orders
    cross join profiles

)

select * from final
