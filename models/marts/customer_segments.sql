-- Marketing's view of every known customer: lifecycle stage, RFM scores and segment, demographic and
-- interest classification, purchase-behaviour flags and the fields campaigns select on.
with

tiers as (

    select * from {{ ref('customer_tiers') }}

),

scored as (

    select * from {{ ref('int_customers_rfm_scored') }}

),

profiled as (

    select * from {{ ref('int_customers_profiled') }}

),

flagged as (

    select * from {{ ref('int_customers_behaviour_flagged') }}

),

final as (

    select
        tiers.customer_id,
        tiers.as_of_date,
        tiers.tier,
        tiers.lifecycle_stage,
        scored.rfm_recency_score,
        scored.rfm_frequency_score,
        scored.rfm_monetary_score,
        scored.rfm_segment,
        profiled.age_band,
        profiled.gender,
        profiled.region,
        profiled.city,
        profiled.occupation,
        profiled.interests,
        profiled.preferred_category,
        profiled.preferred_category_share,
        flagged.is_discount_seeker,
        flagged.is_big_ticket,
        flagged.is_frequent_small,
        flagged.is_omnichannel,
        flagged.is_refund_prone,
        flagged.behaviour_class,
        profiled.birthday_month,
        profiled.is_marketing_opt_in,
        tiers.policy_version,
        tiers.run_id

    from tiers
    inner join scored
        on tiers.customer_id = scored.customer_id
    inner join profiled
        on tiers.customer_id = profiled.customer_id
    inner join flagged
        on tiers.customer_id = flagged.customer_id

)

select * from final
