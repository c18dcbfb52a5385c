-- Each customer's tier now and at the previous published run (published_state, written only by runs that
-- published). Before the first publication there is no previous run and every previous field is null.
with

tiered as (

    select * from {{ ref('int_customers_tiered') }}

),

tiers as (

    select * from {{ ref('stg_tierflow__policy_tiers') }}

),

-- The published tier (the engine's state, or a manual override on top of it).
current_tiers as (

    select
        tiered.customer_id,
        tiers.tier_code as published_tier,
        tiered.published_tier_rank

    from tiered
    inner join tiers
        on tiered.published_tier_rank = tiers.tier_rank

),

aggregated as (

    select customer_id, spend_365d from {{ ref('int_customers_aggregated') }}

),

previous_tiers as (

    select
        customer_id,
        tier as previous_tier,
        cast(tier_rank as integer) as previous_tier_rank,
        cast(spend_365d as numeric(18, 2)) as previous_spend_365d,
        cast(as_of_date as date) as previous_as_of_date
    from {{ ref('stg_published_state__customer_tiers') }}

),

final as (

    select
        current_tiers.customer_id,
        current_tiers.published_tier as tier,
        current_tiers.published_tier_rank as tier_rank,
        aggregated.spend_365d,
        previous_tiers.previous_tier,
        previous_tiers.previous_tier_rank,
        previous_tiers.previous_spend_365d,
        previous_tiers.previous_as_of_date,
        (previous_tiers.customer_id is not null) as was_known_before,
        case
            when previous_tiers.previous_tier_rank is null then 0
            else current_tiers.published_tier_rank - previous_tiers.previous_tier_rank
        end as tier_rank_change

    from current_tiers
    inner join aggregated
        on current_tiers.customer_id = aggregated.customer_id
    left join previous_tiers
        on current_tiers.customer_id = previous_tiers.customer_id

)

select * from final
