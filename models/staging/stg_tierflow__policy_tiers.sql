with

source as (

    select * from {{ source('tierflow', 'policy_tiers') }}

),

final as (

    select
        tier_code,
        tier_name,
        cast(tier_rank as integer) as tier_rank,
        cast(min_spend as numeric(18, 2)) as min_spend,
        cast(min_orders as integer) as min_orders,
        match_mode

    from source

)

select * from final
