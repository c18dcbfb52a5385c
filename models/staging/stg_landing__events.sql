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
        -- The load that last brought or changed the row: what carried tables compare with their mark.
        cast(coalesce(updated_seq, load_seq) as bigint) as changed_seq,
        -- The two raw sequences as they are: carried tables filter on them (macro changed_since).
        load_seq,
        updated_seq

    from source

)

select * from final
