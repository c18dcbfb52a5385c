-- What CRM systems receive: one row per known customer with the segment fields, never raw e-mail or phone.
with

tiers as (

    select * from {{ ref('customer_tiers') }}

),

profiles as (

    select * from {{ ref('int_customers_joined') }}

),

final as (

    select
        tiers.customer_id,
        tiers.as_of_date,
        tiers.tier,
        tiers.tier_name,
        tiers.tier_rank,
        tiers.lifecycle_stage,
        tiers.spend_365d,
        tiers.orders_365d,
        tiers.next_tier,
        tiers.spend_to_next_tier,
        tiers.last_order_date,
        profiles.region,
        profiles.city,
        profiles.gender,
        profiles.is_marketing_opt_in,
        tiers.policy_version,
        tiers.run_id

    from tiers
    inner join profiles
        on tiers.customer_id = profiles.customer_id

)

select * from final
