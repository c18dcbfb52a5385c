-- The published tier of every customer on every day of the spine: the computed tier, or a valid manual
-- override on top of it (fixed sets it, floor keeps the member at least there; a fixed override wins over a
-- floor, then the latest to start). The computed state goes on underneath. A change is recorded on a day
-- the published tier moves or an override starts or ends; a computed change an override hides is not one.
with

stepped as (

    select * from {{ ref('int_customer_tiers_stepped') }}

),

overrides as (

    select * from {{ ref('int_overrides_checked') }}
    where issue is null

),

daily_overrides as (

    select
        stepped.customer_id,
        stepped.day_index,
        overrides.tier_rank as override_rank,
        overrides.override_mode,
        overrides.source_row as override_row,
        row_number() over (
            partition by stepped.customer_id, stepped.day_index
            order by
                case when overrides.override_mode = 'fixed' then 0 else 1 end,
                overrides.valid_from desc,
                overrides.source_row desc
        ) as override_priority

    from stepped
    inner join overrides
        on stepped.customer_id = overrides.customer_id
        and stepped.day_date >= overrides.valid_from
        and (overrides.valid_until is null or stepped.day_date <= overrides.valid_until)

),

published as (

    select
        stepped.*,
        daily_overrides.override_mode,
        daily_overrides.override_row,
        case
            when daily_overrides.override_mode = 'fixed' then daily_overrides.override_rank
            when daily_overrides.override_mode = 'floor'
                then greatest(stepped.tier_rank, daily_overrides.override_rank)
            else stepped.tier_rank
        end as published_rank

    from stepped
    left join daily_overrides
        on stepped.customer_id = daily_overrides.customer_id
        and stepped.day_index = daily_overrides.day_index
        and daily_overrides.override_priority = 1

),

compared as (

    select
        published.*,
        coalesce(
            lag(published.published_rank) over (partition by published.customer_id order by published.day_index),
            published.from_rank
        ) as previous_published_rank,
        lag(published.override_row) over (
            partition by published.customer_id order by published.day_index
        ) as previous_override_row

    from published

),

final as (

    select
        customer_id,
        day_index,
        day_date,
        tier_rank as computed_rank,
        published_rank,
        previous_published_rank,
        override_mode,
        case
            when change_reason = 'initial' then 'initial'
            when day_index = 0 and change_reason = 'qualified' then 'upgrade'
            when day_index = 0 then null
            when override_row is not null
                and (previous_override_row is null or previous_override_row <> override_row) then 'override_start'
            when override_row is null and previous_override_row is not null then 'override_end'
            when published_rank > previous_published_rank then 'upgrade'
            when published_rank < previous_published_rank then 'downgrade'
        end as change_type,
        case
            when change_reason = 'initial' then 'qualified'
            when override_row is not null
                and (previous_override_row is null or previous_override_row <> override_row) then 'override'
            when override_row is null and previous_override_row is not null then 'override'
            else change_reason
        end as change_reason

    from compared

)

select * from final
