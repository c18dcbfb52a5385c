-- What CRM systems receive: one row per known customer with the segment fields, never raw e-mail or phone.
with

tiers as (

    select * from {{ ref('customer_tiers') }}

),

profiles as (

    select * from {{ ref('int_customers_joined') }}

),

segments as (

    select * from {{ ref('customer_segments') }}

),

benefits as (

    select * from {{ ref('tier_benefits') }}

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
        segments.rfm_segment,
        segments.behaviour_class,
        segments.birthday_month,
        benefits.discount_pct,
        benefits.points_multiplier,
        benefits.has_free_shipping,
        benefits.has_priority_service,
        benefits.has_birthday_gift,
        tiers.policy_version,
        tiers.run_id

    from tiers
    inner join profiles
        on tiers.customer_id = profiles.customer_id
    inner join segments
        on tiers.customer_id = segments.customer_id
    inner join benefits
        on tiers.tier = benefits.tier

)

select * from final
