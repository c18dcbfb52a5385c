-- Who belongs to which household when: one row per membership spell [valid_from, valid_until) of a member,
-- from the profile versions that carry a household (joining, moving, leaving), applied in load order like any
-- other profile update. A version that repeats the member's household changes nothing.
with

changes as (

    select * from {{ ref('stg_landing__household_changes') }}

),

run_parameters as (

    select * from {{ ref('stg_tierflow__run_parameters') }}

),

ordered as (

    select
        changes.customer_id,
        changes.household_id,
        coalesce(changes.effective_date, run_parameters.as_of_date) as effective_date,
        changes.load_seq,
        changes.source_row,
        lag(changes.household_id) over (
            partition by changes.customer_id order by changes.load_seq, changes.source_row
        ) as previous_household_id,
        row_number() over (
            partition by changes.customer_id order by changes.load_seq, changes.source_row
        ) as version_number

    from changes
    cross join run_parameters

),

moves as (

    select * from ordered
    where version_number = 1 or coalesce(household_id, '') <> coalesce(previous_household_id, '')

),

spells as (

    select
        customer_id,
        household_id,
        effective_date as valid_from,
        -- Ends at the earliest start of any later move, not only the next one: a later version dated
        -- earlier overrides everything from its date, so spells never overlap.
        coalesce(
            min(effective_date) over (
                partition by customer_id order by load_seq, source_row
                rows between 1 following and unbounded following
            ),
            {{ open_end_date() }}
        ) as valid_until

    from moves

),

final as (

    select customer_id, household_id, valid_from, valid_until
    from spells
    -- A later move dated on or before this one's start leaves nothing of it.
    where household_id is not null and valid_until > valid_from

)

select * from final
