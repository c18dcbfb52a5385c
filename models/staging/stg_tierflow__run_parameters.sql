with

source as (

    select * from {{ source('tierflow', 'run_parameters') }}

),

final as (

    select
        run_id,
        cast(as_of_date as date) as as_of_date,
        policy_version,
        policy_checksum,
        cast(is_full_audit as boolean) as is_full_audit,
        policy_currency,
        policy_timezone,
        cast(qualification_window_days as integer) as qualification_window_days,
        cast(active_days as integer) as active_days,
        cast(new_days as integer) as new_days,
        cast(dormant_days as integer) as dormant_days,
        cast(churned_days as integer) as churned_days,
        lifecycle_cadence,
        cast(rfm_window_days as integer) as rfm_window_days,
        cast(discount_seeker_share as numeric(5, 4)) as discount_seeker_share,
        cast(big_ticket_percentile as numeric(5, 4)) as big_ticket_percentile,
        cast(frequent_small_percentile as numeric(5, 4)) as frequent_small_percentile,
        cast(omnichannel_min_channels as integer) as omnichannel_min_channels,
        cast(refund_prone_share as numeric(5, 4)) as refund_prone_share

    from source

)

select * from final
