-- The qualified tier of each customer: the highest tier whose thresholds hold over the qualification
-- window (`match: all` needs every given threshold, `match: any` one of them; the lowest tier has none).
with

customers as (

    select * from {{ ref('int_customers_aggregated') }}

),

tiers as (

    select * from {{ ref('stg_tierflow__policy_tiers') }}

),

tier_checks as (

    select
        customers.customer_id,
        tiers.tier_rank,
        case
            when tiers.min_spend is null and tiers.min_orders is null then true
            when tiers.match_mode = 'any' then
                coalesce(customers.qualifying_spend >= tiers.min_spend, false)
                or coalesce(customers.qualifying_orders >= tiers.min_orders, false)
            else
                coalesce(customers.qualifying_spend >= tiers.min_spend, true)
                and coalesce(customers.qualifying_orders >= tiers.min_orders, true)
        end as is_qualified

    from customers
    cross join tiers

),

qualified as (

    select
        customer_id,
        max(tier_rank) as qualified_tier_rank

    from tier_checks
    where is_qualified
    group by customer_id

),

final as (

    select
        customers.customer_id,
        customers.qualifying_spend,
        customers.qualifying_orders,
        qualified_tier.tier_code as qualified_tier,
        qualified_tier.tier_name as qualified_tier_name,
        qualified.qualified_tier_rank,
        next_tier.tier_code as next_tier,
        case
            when next_tier.min_spend is not null
                then cast(
                    case
                        when next_tier.min_spend > customers.qualifying_spend
                            then next_tier.min_spend - customers.qualifying_spend
                        else 0
                    end as numeric(18, 2)
                )
        end as spend_to_next_tier

    from customers
    inner join qualified
        on customers.customer_id = qualified.customer_id
    inner join tiers as qualified_tier
        on qualified.qualified_tier_rank = qualified_tier.tier_rank
    left join tiers as next_tier
        on qualified.qualified_tier_rank + 1 = next_tier.tier_rank

)

select * from final
