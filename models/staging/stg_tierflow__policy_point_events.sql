with

source as (

    select * from {{ source('tierflow', 'policy_point_events') }}

),

final as (

    select
        lower(event_type) as event_type,
        cast(points as integer) as points

    from source

)

select * from final
