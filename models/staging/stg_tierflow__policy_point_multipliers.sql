with

source as (

    select * from {{ source('tierflow', 'policy_point_multipliers') }}

),

final as (

    select
        multiplier_name,
        cast(start_date as date) as start_date,
        cast(end_date as date) as end_date,
        product_category,
        cast(factor as numeric(12, 4)) as factor

    from source

)

select * from final
