-- Every published tier, tier name and rank agree with the policy in force (a row returned is a failure).
with

customer_tiers as (

    select * from {{ ref('customer_tiers') }}

),

policy_tiers as (

    select * from {{ ref('stg_tierflow__policy_tiers') }}

),

final as (

    select
        customer_tiers.customer_id,
        customer_tiers.tier,
        customer_tiers.tier_rank,
        policy_tiers.tier_rank as policy_rank

    from customer_tiers
    left join policy_tiers
        on customer_tiers.tier = policy_tiers.tier_code
    where
        policy_tiers.tier_code is null
        or customer_tiers.tier_rank <> policy_tiers.tier_rank
        or customer_tiers.tier_name <> policy_tiers.tier_name

)

select * from final
