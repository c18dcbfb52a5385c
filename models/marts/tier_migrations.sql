-- Customers per (previous tier, current tier) from the previous published run to this one: every pair of
-- the policy's tiers (0 when none moved that way) plus customers new since then (from_tier null).
with

migrated as (

    select * from {{ ref('int_customers_migrated') }}

),

tiers as (

    select * from {{ ref('stg_tierflow__policy_tiers') }}

),

run_parameters as (

    select * from {{ ref('stg_tierflow__run_parameters') }}

),

moves as (

    select
        previous_tier as from_tier,
        previous_tier_rank as from_tier_rank,
        tier as to_tier,
        tier_rank as to_tier_rank,
        count(*) as customers

    from migrated
    group by previous_tier, previous_tier_rank, tier, tier_rank

),

policy_pairs as (

    select
        from_tiers.tier_code as from_tier,
        from_tiers.tier_rank as from_tier_rank,
        to_tiers.tier_code as to_tier,
        to_tiers.tier_rank as to_tier_rank

    from tiers as from_tiers
    cross join tiers as to_tiers

),

cells as (

    select from_tier, from_tier_rank, to_tier, to_tier_rank from policy_pairs
    union
    select from_tier, from_tier_rank, to_tier, to_tier_rank from moves

),

previous_run as (

    select max(previous_as_of_date) as previous_as_of_date from migrated

),

final as (

    select
        run_parameters.as_of_date,
        previous_run.previous_as_of_date,
        cells.from_tier,
        cells.from_tier_rank,
        cells.to_tier,
        cells.to_tier_rank,
        cast(coalesce(moves.customers, 0) as integer) as customers,
        run_parameters.policy_version,
        run_parameters.run_id

    from cells
    cross join run_parameters
    cross join previous_run
    left join moves
        on coalesce(cells.from_tier, '') = coalesce(moves.from_tier, '')
        and cells.to_tier = moves.to_tier

)

select * from final
