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
        cast(ingested_at as timestamp) as ingested_at,
        -- The loads that brought and last changed the row, as they are: carried tables filter on them with
        -- constant bounds (macro changed_since).
        load_seq,
        updated_seq

    from source

)

select * from final
