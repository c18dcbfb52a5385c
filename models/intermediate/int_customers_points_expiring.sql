-- The points of every customer's balance that expire within the notice horizon (notices.points_expiring.
-- days_before), and the earliest date one of them expires. Points earned on a date expire points_expire_days
-- later, so those earned in (D - expire_days, D - expire_days + days_before] expire within the horizon.
-- Empty when points never expire or the notice is off.
with

facts as (

    select * from {{ ref('int_customer_days_accumulated') }}

),

engine as (

    select * from {{ ref('stg_tierflow__policy_engine') }}

),

run_parameters as (

    select * from {{ ref('stg_tierflow__run_parameters') }}

),

horizon as (

    select
        engine.points_expire_days,
        {{ days_before('run_parameters.as_of_date', 'engine.points_expire_days') }} as valid_start_date,
        {{ days_before(
            'run_parameters.as_of_date', 'engine.points_expire_days - engine.notice_points_days_before'
        ) }} as expiring_end_date

    from engine
    cross join run_parameters
    where engine.points_expire_days is not null
        and engine.notice_points_days_before is not null

),

final as (

    select
        facts.customer_id,
        cast(sum(facts.day_points) as bigint) as expiring_points,
        cast({{ dbt.dateadd(
            'day', 'horizon.points_expire_days', 'min(case when facts.day_points > 0 then facts.fact_date end)'
        ) }} as date) as first_expiry_date

    from facts
    cross join horizon
    where facts.fact_date > horizon.valid_start_date
        and facts.fact_date <= horizon.expiring_end_date
    group by facts.customer_id, horizon.points_expire_days

)

select * from final
