with

source as (

    select * from {{ source('tierflow', 'policy_promotions') }}

),

final as (

    select
        promotion_name,
        cast(start_month_day as integer) as start_month_day,
        cast(end_month_day as integer) as end_month_day

    from source

)

select * from final
