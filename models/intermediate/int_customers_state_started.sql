-- Where the tier engine starts for each customer known on the as-of date: from the state of the last
-- *published* run (a blocked or crashed run never advances it) on that run's as-of date, or, for a
-- customer that run did not know, on the first day the customer exists (the as-of date on the very first
-- run). This is the engine's only reader of published state.
with

customers as (

    select customer_id, signup_date from {{ ref('int_customers_joined') }}

),

summaries as (

    select customer_id, first_any_order_date from {{ ref('int_customer_orders_summarised') }}

),

run_parameters as (

    select * from {{ ref('stg_tierflow__run_parameters') }}

),

previous_state as (

    select customer_id, as_of_date, computed_tier, tier_since, next_evaluation_date, policy_version
    from {{ ref('stg_published_state__customer_tiers') }}

),

state_dates as (

    select max(as_of_date) as last_state_date from previous_state

),

existence as (

    select
        customers.customer_id,
        case
            when customers.signup_date is null or summaries.first_any_order_date < customers.signup_date
                then summaries.first_any_order_date
            else customers.signup_date
        end as first_seen_date,
        coalesce(customers.signup_date, summaries.first_any_order_date) as membership_start_date

    from customers
    left join summaries
        on customers.customer_id = summaries.customer_id

),

final as (

    select
        existence.customer_id,
        existence.first_seen_date,
        existence.membership_start_date,
        case
            -- A re-run or a back-dated run has no day to step through: the published state stands.
            when previous_state.customer_id is not null
                then least(previous_state.as_of_date, run_parameters.as_of_date)
            when state_dates.last_state_date is not null
                then least(
                    greatest(
                        existence.first_seen_date,
                        cast({{ dbt.dateadd('day', 1, 'state_dates.last_state_date') }} as date)
                    ),
                    run_parameters.as_of_date
                )
            else run_parameters.as_of_date
        end as start_date,
        (previous_state.customer_id is not null) as has_state,
        -- Re-running the published date: no day to step, but late facts may still lift the tier on it.
        coalesce(previous_state.as_of_date >= run_parameters.as_of_date, false) as is_rerun,
        coalesce(previous_state.policy_version <> run_parameters.policy_version, false) as is_policy_changed,
        previous_state.computed_tier as previous_tier,
        previous_state.tier_since as previous_tier_since,
        previous_state.next_evaluation_date as previous_next_evaluation_date

    from existence
    cross join run_parameters
    cross join state_dates
    left join previous_state
        on existence.customer_id = previous_state.customer_id

)

select * from final
