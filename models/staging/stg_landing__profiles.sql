with

source as (

    select * from {{ source('landing', 'profiles') }}

),

-- A customer re-sent in a later file is an update: keep the most recently loaded version.
ranked as (

    select
        *,
        row_number() over (
            partition by customer_id order by load_seq desc, source_row desc
        ) as version_rank

    from source

),

final as (

    select
        customer_id,
        cast(signup_date as date) as signup_date,
        cast(birth_date as date) as birth_date,
        nullif(trim(gender), '') as gender,
        nullif(trim(region), '') as region,
        nullif(trim(city), '') as city,
        nullif(trim(occupation), '') as occupation,
        nullif(trim(interests), '') as interests,
        email,
        phone,
        marketing_opt_in as is_marketing_opt_in,
        source_file,
        cast(ingested_at as timestamp) as ingested_at

    from ranked
    where version_rank = 1

)

select * from final
