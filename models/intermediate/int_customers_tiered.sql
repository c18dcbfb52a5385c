-- The computed tier state of every customer on the as-of date (the last day of the engine's spine), with
-- what keeps or lifts it and the points figures.
with

stepped as (

    select * from {{ ref('int_customer_tiers_stepped') }}

),

published as (

    select * from {{ ref('int_customer_tiers_published') }}

),

spine as (

    select * from {{ ref('int_customer_days_evaluated') }}

),

facts as (

    select * from {{ ref('int_customer_days_accumulated') }}

),

run_parameters as (

    select * from {{ ref('stg_tierflow__run_parameters') }}

),

engine as (

    select * from {{ ref('stg_tierflow__policy_engine') }}

),

tiers as (

    select * from {{ ref('stg_tierflow__policy_tiers') }}

),

last_days as (

    select customer_id, max(day_index) as day_index
    from spine
    group by customer_id

),

current_state as (

    select
        stepped.customer_id,
        stepped.tier_rank,
        published.published_rank,
        published.override_mode,
        stepped.tier_since,
        stepped.next_evaluation_date,
        spine.entry_rank,
        spine.period_spend,
        spine.household_id,
        spine.household_members,
        spine.qualifying_spend as household_qualifying_spend,
        spine.qualifying_orders as household_qualifying_orders,
        run_parameters.as_of_date,
        -- The spend that will still be in the qualification window at the next evaluation counts from here.
        case
            when engine.qualification_period = 'rolling'
                then {{ days_before('stepped.next_evaluation_date', 'run_parameters.qualification_window_days') }}
            else spine.period_start_date
        end as keep_window_start_date,
        {{ days_before('run_parameters.as_of_date', 'coalesce(engine.points_expire_days, 36600)') }}
            as points_valid_start_date,
        {{ days_before('run_parameters.as_of_date', 365) }} as year_start_date,
        {{ days_before('stepped.next_evaluation_date', 'coalesce(engine.downgrade_inactive_days, 0)') }}
            as evaluation_inactivity_start_date,
        {{ days_before('run_parameters.as_of_date', 'coalesce(engine.points_expire_days, 36600) - 30') }}
            as points_expiring_end_date

    from stepped
    inner join last_days
        on stepped.customer_id = last_days.customer_id
        and stepped.day_index = last_days.day_index
    inner join spine
        on stepped.customer_id = spine.customer_id
        and stepped.day_index = spine.day_index
    inner join published
        on stepped.customer_id = published.customer_id
        and stepped.day_index = published.day_index
    cross join run_parameters
    cross join engine

),

cumulative as (

    {{ cumulative_lookups('current_state', ['customer_id'], {
        'at_day': 'as_of_date',
        'at_keep_start': 'keep_window_start_date',
        'at_points_start': 'points_valid_start_date',
        'at_year_start': 'year_start_date',
        'at_expiring_end': 'points_expiring_end_date',
        'at_evaluation_inactivity_start': 'evaluation_inactivity_start_date',
    }) }}

),

measured as (

    select
        current_state.*,
        {%- for measure in ['spend', 'orders', 'points'] %}
        {{ cumulative_between('cumulative', 'at_keep_start', 'at_day', measure) }} as keep_window_{{ measure }},
        {%- endfor %}
        -- No spend so far in the inactivity window that ends on the next evaluation.
        (
            engine.downgrade_inactive_days is not null
            and {{ cumulative_between('cumulative', 'at_evaluation_inactivity_start', 'at_day', 'spend') }} <= 0
        ) as is_inactive_at_evaluation,
        {{ cumulative_between('cumulative', 'at_points_start', 'at_day', 'points') }} as points_balance,
        {{ cumulative_between('cumulative', 'at_year_start', 'at_day', 'points') }} as points_earned_365d,
        -- Points earned in (D - expire_days, D - expire_days + 30] expire within the next 30 days.
        case
            when engine.points_expire_days is null then 0
            else {{ cumulative_between('cumulative', 'at_points_start', 'at_expiring_end', 'points') }}
        end as points_expiring_30d

    from current_state
    cross join engine
    left join cumulative
        on current_state.customer_id = cumulative.customer_id

),

-- What keeps the tier: the member's own keep-window figures, or with pooling their household's (the sums of
-- its members' own), and inactivity only when no member spent.
household_keeping as (

    select
        household_id,
        sum(keep_window_spend) as keep_window_spend,
        sum(keep_window_orders) as keep_window_orders,
        sum(keep_window_points) as keep_window_points,
        min(case when is_inactive_at_evaluation then 1 else 0 end) = 1 as is_inactive_at_evaluation

    from measured
    where household_id is not null
    group by household_id

),

keeping as (

    select
        measured.customer_id,
        {%- for measure in ['spend', 'orders', 'points'] %}
        coalesce(household_keeping.keep_window_{{ measure }}, measured.keep_window_{{ measure }})
            as keep_window_{{ measure }},
        {%- endfor %}
        coalesce(household_keeping.is_inactive_at_evaluation, measured.is_inactive_at_evaluation)
            as is_inactive_at_evaluation

    from measured
    left join household_keeping
        on measured.household_id = household_keeping.household_id

),

-- The rank the next evaluation would leave on the figures so far (no further spend): the highest tier whose
-- keep thresholds hold over the keep window, at most max_drop below, or the lowest after inactivity. It
-- decides the target tier of a downgrade warning.
projected as (

    select
        measured.customer_id,
        case
            when max(case when keeping.is_inactive_at_evaluation then 1 else 0 end) = 1 then 1
            else greatest(
                max(case
                    when {{ meets_thresholds('tiers', 'keep_', 'keeping.keep_window_spend',
                        'keeping.keep_window_orders', 'keeping.keep_window_points') }} then tiers.tier_rank
                end),
                max(measured.tier_rank) - coalesce(max(engine.downgrade_max_drop), count(*))
            )
        end as evaluated_tier_rank

    from measured
    inner join keeping
        on measured.customer_id = keeping.customer_id
    cross join tiers
    cross join engine
    group by measured.customer_id

),

final as (

    select
        measured.customer_id,
        computed.tier_code as computed_tier,
        measured.tier_rank as computed_tier_rank,
        measured.published_rank as published_tier_rank,
        measured.override_mode,
        qualified.tier_code as qualified_tier,
        measured.entry_rank as qualified_tier_rank,
        measured.tier_since,
        measured.next_evaluation_date,
        cast(measured.period_spend as numeric(18, 2)) as qualifying_spend,
        -- The lowest tier needs no keeping.
        case
            when measured.tier_rank > 1 and computed.keep_min_spend is not null
                then cast(greatest(computed.keep_min_spend - keeping.keep_window_spend, 0) as numeric(18, 2))
        end as keep_spend_gap,
        cast(measured.points_balance as bigint) as points_balance,
        cast(measured.points_earned_365d as bigint) as points_earned_365d,
        cast(measured.points_expiring_30d as bigint) as points_expiring_30d,
        cast(least(projected.evaluated_tier_rank, measured.tier_rank) as integer) as evaluated_tier_rank,
        measured.household_id,
        measured.household_members,
        case when measured.household_id is not null
            then cast(measured.household_qualifying_spend as numeric(18, 2)) end as household_qualifying_spend,
        case when measured.household_id is not null
            then cast(measured.household_qualifying_orders as integer) end as household_qualifying_orders

    from measured
    inner join keeping
        on measured.customer_id = keeping.customer_id
    inner join projected
        on measured.customer_id = projected.customer_id
    inner join tiers as computed
        on measured.tier_rank = computed.tier_rank
    inner join tiers as qualified
        on measured.entry_rank = qualified.tier_rank

)

select * from final
