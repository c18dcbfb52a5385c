-- Every manual override with what is wrong with it: an unknown customer or an unknown tier is reported
-- here (and counted in the run log), never applied.
with

overrides as (

    select * from {{ ref('stg_tierflow__overrides') }}

),

customers as (

    select customer_id from {{ ref('int_customers_joined') }}

),

tiers as (

    select * from {{ ref('stg_tierflow__policy_tiers') }}

),

final as (

    select
        overrides.customer_id,
        overrides.tier_code,
        tiers.tier_rank,
        overrides.reason,
        overrides.valid_from,
        overrides.valid_until,
        overrides.override_mode,
        overrides.source_row,
        case
            when customers.customer_id is null then 'unknown_customer'
            when tiers.tier_code is null then 'unknown_tier'
        end as issue

    from overrides
    left join customers
        on overrides.customer_id = customers.customer_id
    left join tiers
        on overrides.tier_code = tiers.tier_code

)

select * from final
