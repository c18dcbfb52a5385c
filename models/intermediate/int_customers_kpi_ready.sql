-- One row per customer with what the KPI marts group and measure: tier, lifecycle stage, RFM segment,
-- the spend and order figures, and the tier movement since the previous published run.
with

tiers as (

    select * from {{ ref('customer_tiers') }}

),

scored as (

    select * from {{ ref('int_customers_rfm_scored') }}

),

migrated as (

    select * from {{ ref('int_customers_migrated') }}

),

run_parameters as (

    select * from {{ ref('stg_tierflow__run_parameters') }}

),

final as (

    select
        tiers.customer_id,
        tiers.tier,
        tiers.tier_rank,
        tiers.lifecycle_stage,
        scored.rfm_segment,
        tiers.spend_365d,
        tiers.orders_365d,
        tiers.lifetime_spend,
        coalesce(tiers.days_since_last_order <= run_parameters.active_days, false) as is_active,
        migrated.was_known_before,
        migrated.tier_rank_change

    from tiers
    cross join run_parameters
    inner join scored
        on tiers.customer_id = scored.customer_id
    inner join migrated
        on tiers.customer_id = migrated.customer_id

)

select * from final
