-- The benefits of every tier of the policy in force, so a CRM can act on a tier without its own rules.
with

tiers as (

    select * from {{ ref('stg_tierflow__policy_tiers') }}

),

run_parameters as (

    select * from {{ ref('stg_tierflow__run_parameters') }}

),

final as (

    select
        tiers.tier_code as tier,
        tiers.tier_name,
        tiers.tier_rank,
        tiers.discount_pct,
        tiers.points_multiplier,
        tiers.has_free_shipping,
        tiers.has_priority_service,
        tiers.has_birthday_gift,
        tiers.benefits_note,
        run_parameters.as_of_date,
        run_parameters.policy_version,
        run_parameters.run_id

    from tiers
    cross join run_parameters

)

select * from final
