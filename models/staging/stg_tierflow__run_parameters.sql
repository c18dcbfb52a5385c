with

source as (

    select * from {{ source('tierflow', 'run_parameters') }}

),

final as (

    select
        run_id,
        cast(as_of_date as date) as as_of_date,
        policy_version,
        policy_currency,
        policy_timezone,
        cast(qualification_window_days as integer) as qualification_window_days,
        cast(active_days as integer) as active_days

    from source

)

select * from final
