with

source as (

    select * from {{ source('landing', 'events') }}

),

final as (

    select
        event_id,
        customer_id,
        cast(event_ts as timestamp) as occurred_at,
        lower(event_type) as event_type,
        source_file,
        cast(ingested_at as timestamp) as ingested_at

    from source

)

select * from final
