-- Customers whose published tier moved since the previous published run, with their 365-day spend then
-- and now: the report's largest movers and its upgrade and downgrade counts.
with

migrated as (

    select * from {{ ref('int_customers_migrated') }}

),

final as (

    select
        customer_id,
        previous_tier,
        tier,
        tier_rank_change,
        previous_spend_365d,
        spend_365d

    from migrated
    where tier_rank_change <> 0

)

select * from final
