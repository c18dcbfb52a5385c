-- Why each customer holds their tier: when and why it was reached (the latest tier change), the thresholds
-- of the tier held (to enter and to keep it) and of the next one against the customer's own figures over the
-- qualification period (with pooling, the household's beside them), the next evaluation and what keeps or
-- lifts the tier. Support and CRM read it; `tierflow explain` prints the same row.
with

customer_tiers as (

    select * from {{ ref('customer_tiers') }}

),

tier_changes as (

    select * from {{ ref('tier_changes') }}

),

days as (

    select * from {{ ref('int_customer_days_evaluated') }}

),

tiers as (

    select * from {{ ref('stg_tierflow__policy_tiers') }}

),

engine as (

    select * from {{ ref('stg_tierflow__policy_engine') }}

),

run_parameters as (

    select * from {{ ref('stg_tierflow__run_parameters') }}

),

-- The figures on the as-of date, the last day the engine stepped through for every customer.
as_of_figures as (

    select
        days.customer_id,
        days.period_spend as qualifying_spend,
        days.period_orders as qualifying_orders,
        days.period_points as qualifying_points,
        -- Pooled where the member's household pools (else their own): what thresholds are met on.
        days.qualifying_orders as threshold_orders,
        days.qualifying_points as threshold_points

    from days
    cross join run_parameters
    where days.day_date = run_parameters.as_of_date

),

latest_changes as (

    select
        customer_id,
        effective_date,
        change_type,
        reason,
        row_number() over (
            partition by customer_id order by effective_date desc, change_type
        ) as change_number

    from tier_changes

),

final as (

    select
        customer_tiers.customer_id,
        customer_tiers.as_of_date,
        customer_tiers.tier,
        customer_tiers.tier_name,
        customer_tiers.tier_rank,
        customer_tiers.computed_tier,
        customer_tiers.tier_since,
        coalesce(latest_changes.reason, 'qualified') as tier_reason,
        latest_changes.change_type as tier_change_type,
        latest_changes.effective_date as tier_changed_date,
        engine.qualification_period,
        run_parameters.qualification_window_days,
        as_of_figures.qualifying_spend,
        as_of_figures.qualifying_orders,
        as_of_figures.qualifying_points,
        held.match_mode as tier_match_mode,
        held.min_spend as tier_min_spend,
        held.min_orders as tier_min_orders,
        held.min_points as tier_min_points,
        held.keep_min_spend,
        held.keep_min_orders,
        held.keep_min_points,
        customer_tiers.next_evaluation_date,
        customer_tiers.keep_spend_gap,
        customer_tiers.next_tier,
        next_tier.tier_name as next_tier_name,
        next_tier.match_mode as next_tier_match_mode,
        next_tier.min_spend as next_tier_min_spend,
        next_tier.min_orders as next_tier_min_orders,
        next_tier.min_points as next_tier_min_points,
        customer_tiers.spend_to_next_tier,
        case
            when next_tier.min_orders is not null
                then cast(greatest(next_tier.min_orders - as_of_figures.threshold_orders, 0) as integer)
        end as orders_to_next_tier,
        case
            when next_tier.min_points is not null
                then cast(greatest(next_tier.min_points - as_of_figures.threshold_points, 0) as bigint)
        end as points_to_next_tier,
        case
            when customer_tiers.tier <> customer_tiers.computed_tier
                then 'a manual override sets the tier while it is valid'
            when customer_tiers.tier_rank = 1
                then 'lowest tier: held without any threshold'
            when engine.downgrade_mode = 'immediate'
                then 'kept while its thresholds hold: the tier follows the qualified tier every day'
            else 'kept at the next evaluation if its keep thresholds (else its entry thresholds) hold then'
        end as keep_condition,
        case
            when next_tier.tier_code is null then 'top tier: nothing above it'
            when next_tier.match_mode = 'any' then 'reach any one threshold of the next tier: upgrade at once'
            else 'reach every threshold of the next tier: upgrade at once'
        end as lift_condition,
        customer_tiers.household_id,
        customer_tiers.household_members,
        customer_tiers.household_qualifying_spend,
        customer_tiers.household_qualifying_orders,
        customer_tiers.policy_version,
        customer_tiers.run_id

    from customer_tiers
    cross join run_parameters
    cross join engine
    inner join as_of_figures
        on customer_tiers.customer_id = as_of_figures.customer_id
    inner join tiers as held
        on customer_tiers.tier = held.tier_code
    left join tiers as next_tier
        on customer_tiers.next_tier = next_tier.tier_code
    left join latest_changes
        on customer_tiers.customer_id = latest_changes.customer_id
        and latest_changes.change_number = 1

)

select * from final
