with

source as (

    select * from {{ source('tierflow', 'overrides') }}

),

final as (

    select
        customer_id,
        lower(tier_code) as tier_code,
        reason,
        cast(valid_from as date) as valid_from,
        cast(valid_until as date) as valid_until,
        override_mode,
        cast(source_row as integer) as source_row

    from source

)

select * from final
