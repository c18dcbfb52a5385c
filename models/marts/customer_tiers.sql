with

customers as (

    select * from {{ ref('int_customers_aggregated') }}

),

qualified as (

    select * from {{ ref('int_customers_qualified') }}

),

lifecycle as (

    select * from {{ ref('int_customers_lifecycle_assigned') }}

),

profiles as (

    select customer_id, has_profile from {{ ref('int_customers_joined') }}

),

run_parameters as (

    select * from {{ ref('stg_tierflow__run_parameters') }}

),

final as (

    select
        customers.customer_id,
        run_parameters.as_of_date,
        -- Until tier history arrives, the published tier is the tier qualified for on the as-of date.
        qualified.qualified_tier as tier,
        qualified.qualified_tier_name as tier_name,
        qualified.qualified_tier_rank as tier_rank,
        qualified.qualified_tier,
        customers.spend_30d,
        customers.orders_30d,
        customers.spend_90d,
        customers.orders_90d,
        customers.spend_365d,
        customers.orders_365d,
        customers.lifetime_spend,
        customers.lifetime_orders,
        customers.first_order_date,
        customers.last_order_date,
        customers.days_since_last_order,
        qualified.next_tier,
        qualified.spend_to_next_tier,
        lifecycle.lifecycle_stage,
        profiles.has_profile,
        run_parameters.policy_version,
        run_parameters.run_id

    from customers
    cross join run_parameters
    inner join qualified
        on customers.customer_id = qualified.customer_id
    inner join profiles
        on customers.customer_id = profiles.customer_id
    inner join lifecycle
        on customers.customer_id = lifecycle.customer_id

)

select * from final
