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
        match_mode,
        cast(discount_pct as numeric(5, 2)) as discount_pct,
        cast(points_multiplier as numeric(6, 2)) as points_multiplier,
        has_free_shipping,
        has_priority_service,
        has_birthday_gift,
        benefits_note,
        cast(min_points as integer) as min_points,
        cast(keep_min_spend as numeric(18, 2)) as keep_min_spend,
        cast(keep_min_orders as integer) as keep_min_orders,
        cast(keep_min_points as integer) as keep_min_points

    from source

)

select * from final
