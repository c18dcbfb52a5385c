-- The published tier of every member over time (SCD type 2), derived from the append-only tier_changes:
-- a version starts at a change and ends where the next one starts (valid_to excluded; null while current).
with

changes as (

    select * from {{ ref('tier_changes') }}

),

run_parameters as (

    select * from {{ ref('stg_tierflow__run_parameters') }}

),

-- Several changes on one day (a re-run lifting the tier its first run set): the day ends in the last one.
last_of_day as (

    select
        changes.*,
        row_number() over (
            partition by customer_id, effective_date
            order by case when change_type = 'initial' then 0 else 1 end desc, source_run_id desc
        ) as change_order

    from changes

),

ordered as (

    select
        customer_id,
        to_tier as tier,
        effective_date as valid_from,
        lead(effective_date) over (partition by customer_id order by effective_date) as valid_to,
        reason

    from last_of_day
    where change_order = 1

),

final as (

    select
        ordered.customer_id,
        ordered.tier,
        ordered.valid_from,
        ordered.valid_to,
        ordered.reason,
        (ordered.valid_to is null) as is_current,
        run_parameters.as_of_date,
        run_parameters.policy_version,
        run_parameters.run_id

    from ordered
    cross join run_parameters

)

select * from final
