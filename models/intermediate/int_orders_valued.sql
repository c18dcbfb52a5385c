-- Orders up to the as-of date (point in time: later orders are invisible to this run, so back-dated runs and
-- backfills work), from the carried int_orders_converted. A view: every reader applies the cut while
-- scanning, and nothing is rewritten per run.
{{ config(materialized='view') }}

with

orders as (

    select * from {{ ref('int_orders_converted') }}

),

run_parameters as (

    select * from {{ ref('stg_tierflow__run_parameters') }}

),

final as (

    select orders.*
    from orders
    cross join run_parameters
    where orders.order_date <= run_parameters.as_of_date

)

select * from final
