with

source as (

    select * from {{ source('landing', 'profiles') }}

),

final as (

    select
        customer_id,
        nullif(household_id, '') as household_id,
        coalesce(cast(household_since as date), cast(loaded_as_of as date)) as effective_date,
        load_seq,
        source_row

    from source
    -- null: the file had no household_id column, which leaves the household as it was
    where household_id is not null

)

select * from final
