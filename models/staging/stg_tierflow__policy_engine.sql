with

source as (

    select * from {{ source('tierflow', 'policy_engine') }}

),

final as (

    select
        qualification_period,
        cast(pending_days as integer) as pending_days,
        downgrade_mode,
        cast(downgrade_every_months as integer) as downgrade_every_months,
        downgrade_anchor,
        cast(downgrade_max_drop as integer) as downgrade_max_drop,
        cast(downgrade_min_stay_days as integer) as downgrade_min_stay_days,
        cast(downgrade_inactive_days as integer) as downgrade_inactive_days,
        on_policy_change,
        cast(points_per_unit as numeric(10, 4)) as points_per_unit,
        cast(points_expire_days as integer) as points_expire_days,
        cast(notice_upgrade_within_spend as numeric(18, 2)) as notice_upgrade_within_spend,
        cast(notice_upgrade_within_share as numeric(5, 4)) as notice_upgrade_within_share,
        cast(notice_downgrade_days_before as integer) as notice_downgrade_days_before,
        cast(notice_points_days_before as integer) as notice_points_days_before,
        cast(notice_points_min_points as integer) as notice_points_min_points,
        pooling_by

    from source

)

select * from final
