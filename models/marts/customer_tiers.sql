with

customers as (

    select * from {{ ref('int_customers_aggregated') }}

),

tiered as (

    select * from {{ ref('int_customers_tiered') }}

),

tiers as (

    select * from {{ ref('stg_tierflow__policy_tiers') }}

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
        published_tier.tier_code as tier,
        published_tier.tier_name,
        published_tier.tier_rank,
        tiered.qualified_tier,
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
        next_tier.tier_code as next_tier,
        case
            when next_tier.min_spend is not null
                then cast(greatest(
                    next_tier.min_spend - coalesce(tiered.household_qualifying_spend, tiered.qualifying_spend), 0
                ) as numeric(18, 2))
        end as spend_to_next_tier,
        lifecycle.lifecycle_stage,
        profiles.has_profile,
        tiered.computed_tier,
        tiered.tier_since,
        tiered.next_evaluation_date,
        tiered.keep_spend_gap,
        tiered.points_balance,
        tiered.points_earned_365d,
        tiered.points_expiring_30d,
        tiered.household_id,
        tiered.household_members,
        tiered.household_qualifying_spend,
        tiered.household_qualifying_orders,
        run_parameters.policy_version,
        run_parameters.run_id

    from customers
    cross join run_parameters
    inner join tiered
        on customers.customer_id = tiered.customer_id
    inner join tiers as published_tier
        on tiered.published_tier_rank = published_tier.tier_rank
    left join tiers as next_tier
        on tiered.published_tier_rank + 1 = next_tier.tier_rank
    inner join profiles
        on customers.customer_id = profiles.customer_id
    inner join lifecycle
        on customers.customer_id = lifecycle.customer_id

)

select * from final
