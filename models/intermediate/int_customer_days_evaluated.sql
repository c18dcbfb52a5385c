-- The tier engine's spine: one row per customer and day the run steps through, with everything the
-- recursion in int_customer_tiers_stepped needs precomputed (so its recursive term is joins and integers).
-- Day 0 of a customer is where its state starts: the as-of date of the last *published* run for members
-- it knows (a blocked run never advances the state), the first day the customer exists for those it does
-- not, or the as-of date itself on the very first run. Days 1..n are (start, as-of], applied in order, so
-- daily runs, weekly runs and one run over the whole range end in the same state (int_customers_state_started
-- says where each customer starts).

with

started as (

    select * from {{ ref('int_customers_state_started') }}

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

memberships as (

    select * from {{ ref('int_household_memberships_dated') }}

),

-- 0, 1, ... up to the longest stretch any customer steps through (at most 10,000 days in one run), from a
-- cross join of digits: portable, where a recursive series is not (and needs no recursion limit).
digits as (

    {% for digit in range(10) -%}
    select {{ digit }} as digit{% if not loop.last %} union all {% endif %}
    {% endfor %}

),

day_offsets as (

    select
        cast(ones.digit + 10 * tens.digit + 100 * hundreds.digit + 1000 * thousands.digit as integer) as day_index

    from digits as ones
    cross join digits as tens
    cross join digits as hundreds
    cross join digits as thousands
    where ones.digit + 10 * tens.digit + 100 * hundreds.digit + 1000 * thousands.digit <= (
        select max({{ dbt.datediff('started.start_date', 'run_parameters.as_of_date', 'day') }})
        from started
        cross join run_parameters
    )

),

days as (

    select
        started.customer_id,
        started.has_state,
        started.is_policy_changed,
        started.membership_start_date,
        day_offsets.day_index,
        cast({{ dbt.dateadd('day', 'day_offsets.day_index', 'started.start_date') }} as date) as day_date

    from started
    cross join run_parameters
    inner join day_offsets
        on day_offsets.day_index <= {{ dbt.datediff('started.start_date', 'run_parameters.as_of_date', 'day') }}

),

membership_years as (

    select
        days.*,
        cast({{ dbt.dateadd(
            'year', '(' ~ dbt.datediff('days.membership_start_date', 'days.day_date', 'year') ~ ')',
            'days.membership_start_date'
        ) }} as date) as anniversary_this_year

    from days

),

periods as (

    select
        membership_years.customer_id,
        membership_years.has_state,
        membership_years.is_policy_changed,
        membership_years.day_index,
        membership_years.day_date,
        -- The qualification period is (period_start_date, day_date]; the one completed before it is
        -- (previous_period_start_date, period_start_date] (empty for rolling windows).
        case
            when engine.qualification_period = 'calendar_year'
                then cast({{ dbt.dateadd('day', -1, dbt.date_trunc('year', 'membership_years.day_date')) }} as date)
            when engine.qualification_period = 'membership_year'
                then cast({{ dbt.dateadd('day', -1, "case when membership_years.anniversary_this_year
                    > membership_years.day_date then " ~ dbt.dateadd('year', -1, 'membership_years.anniversary_this_year')
                    ~ " else membership_years.anniversary_this_year end") }} as date)
            else {{ days_before('membership_years.day_date', 'run_parameters.qualification_window_days') }}
        end as period_start_date,
        {{ days_before('membership_years.day_date', 'coalesce(engine.downgrade_inactive_days, 0)') }}
            as inactivity_start_date,
        case
            when engine.downgrade_mode = 'immediate'
                then cast({{ dbt.dateadd('day', 1, 'membership_years.day_date') }} as date)
            when engine.downgrade_anchor = 'anniversary'
                then cast({{ dbt.dateadd('month', 'engine.downgrade_every_months', 'membership_years.day_date') }}
                    as date)
            -- Calendar anchors: the first day of every every_months-th month counted from January 2000. The
            -- datediff is parenthesised: on Spark it renders as a sum of two terms.
            else cast({{ dbt.dateadd(
                'month',
                '(cast(floor((' ~ dbt.datediff("cast('2000-01-01' as date)", 'membership_years.day_date', 'month')
                ~ ') * 1.0 / engine.downgrade_every_months) as integer) + 1) * engine.downgrade_every_months',
                "cast('2000-01-01' as date)"
            ) }} as date)
        end as next_anchor_date,
        engine.qualification_period,
        engine.on_policy_change,
        engine.downgrade_inactive_days,
        engine.downgrade_min_stay_days,
        engine.downgrade_max_drop

    from membership_years
    cross join engine
    cross join run_parameters

),

bounded as (

    select
        periods.*,
        case
            when periods.qualification_period = 'rolling' then periods.period_start_date
            else cast({{ dbt.dateadd('day', -1, dbt.dateadd('year', -1, dbt.dateadd('day', 1, 'periods.period_start_date'))) }}
                as date)
        end as previous_period_start_date

    from periods

),

cumulative as (

    {{ cumulative_lookups('bounded', ['customer_id', 'day_index'], {
        'at_day': 'day_date',
        'at_period_start': 'period_start_date',
        'at_previous_period_start': 'previous_period_start_date',
        'at_inactivity_start': 'inactivity_start_date',
    }) }}

),

measured as (

    select
        bounded.*,
        {%- for measure in ['spend', 'orders', 'points'] %}
        {{ cumulative_between('cumulative', 'at_period_start', 'at_day', measure) }} as period_{{ measure }},
        {{ cumulative_between('cumulative', 'at_previous_period_start', 'at_period_start', measure) }}
            as previous_period_{{ measure }},
        {%- endfor %}
        {{ cumulative_between('cumulative', 'at_inactivity_start', 'at_day', 'spend') }} as inactivity_window_spend

    from bounded
    left join cumulative
        on bounded.customer_id = cumulative.customer_id
        and bounded.day_index = cumulative.day_index

),

-- With pooling by household: the household each customer belongs to on each day, and the household's
-- figures that day, the sums of its members' own figures (each over their own windows).
{%- set pooled_measures = [
    ('period_spend', 'qualifying_spend'),
    ('period_orders', 'qualifying_orders'),
    ('period_points', 'qualifying_points'),
    ('previous_period_spend', 'qualifying_previous_spend'),
    ('previous_period_orders', 'qualifying_previous_orders'),
    ('previous_period_points', 'qualifying_previous_points'),
    ('inactivity_window_spend', 'qualifying_inactivity_spend'),
] %}
housed as (

    select
        measured.customer_id,
        measured.day_index,
        measured.day_date,
        memberships.household_id

    from measured
    cross join engine
    inner join memberships
        on measured.customer_id = memberships.customer_id
        and measured.day_date >= memberships.valid_from
        and measured.day_date < memberships.valid_until
    where engine.pooling_by = 'household'

),

households as (

    select
        housed.household_id,
        housed.day_date,
        count(*) as household_members,
        {%- for measure, _ in pooled_measures %}
        sum(measured.{{ measure }}) as {{ measure }}{% if not loop.last %},{% endif %}
        {%- endfor %}

    from housed
    inner join measured
        on housed.customer_id = measured.customer_id
        and housed.day_index = measured.day_index
    group by housed.household_id, housed.day_date

),

-- The figures a customer enters, keeps and is lifted on: the household's where pooled, else their own.
qualifying as (

    select
        measured.customer_id,
        measured.day_index,
        housed.household_id,
        households.household_members,
        {%- for measure, qualifying in pooled_measures %}
        coalesce(households.{{ measure }}, measured.{{ measure }}) as {{ qualifying }}{% if not loop.last %},{% endif %}
        {%- endfor %}

    from measured
    left join housed
        on measured.customer_id = housed.customer_id
        and measured.day_index = housed.day_index
    left join households
        on housed.household_id = households.household_id
        and housed.day_date = households.day_date

),

ranked as (

    select
        qualifying.customer_id,
        qualifying.day_index,
        max(case
            when {{ meets_thresholds('tiers', '', 'qualifying.qualifying_spend', 'qualifying.qualifying_orders',
                'qualifying.qualifying_points') }} then tiers.tier_rank
        end) as entry_rank,
        -- Keeping looks at the period so far and, for calendar and membership years, the year just completed.
        max(case
            when {{ meets_thresholds('tiers', 'keep_', 'qualifying.qualifying_spend', 'qualifying.qualifying_orders',
                'qualifying.qualifying_points') }}
                or {{ meets_thresholds('tiers', 'keep_', 'qualifying.qualifying_previous_spend',
                    'qualifying.qualifying_previous_orders', 'qualifying.qualifying_previous_points') }}
                then tiers.tier_rank
        end) as keep_rank,
        count(*) as tier_count

    from qualifying
    cross join tiers
    group by qualifying.customer_id, qualifying.day_index

),

final as (

    select
        measured.customer_id,
        measured.day_index,
        measured.day_date,
        {{ day_number('measured.day_date') }} as day_number,
        ranked.entry_rank,
        greatest(ranked.keep_rank, ranked.entry_rank) as keep_rank,
        (measured.downgrade_inactive_days is not null and qualifying.qualifying_inactivity_spend <= 0) as is_inactive,
        measured.next_anchor_date,
        {{ day_number('measured.next_anchor_date') }} as next_anchor_day_number,
        measured.has_state,
        (measured.has_state and measured.is_policy_changed and measured.day_index = 1) as is_policy_change_day,
        (
            measured.has_state and measured.is_policy_changed and measured.day_index = 1
            and measured.on_policy_change = 'immediate'
        ) as is_reevaluation_day,
        measured.downgrade_min_stay_days as min_stay_days,
        coalesce(measured.downgrade_max_drop, ranked.tier_count) as max_drop,
        cast(measured.period_spend as numeric(18, 2)) as period_spend,
        cast(measured.period_orders as integer) as period_orders,
        cast(measured.period_points as bigint) as period_points,
        measured.period_start_date,
        qualifying.household_id,
        cast(qualifying.household_members as integer) as household_members,
        cast(qualifying.qualifying_spend as numeric(18, 2)) as qualifying_spend,
        cast(qualifying.qualifying_orders as integer) as qualifying_orders,
        cast(qualifying.qualifying_points as bigint) as qualifying_points

    from measured
    inner join ranked
        on measured.customer_id = ranked.customer_id
        and measured.day_index = ranked.day_index
    inner join qualifying
        on measured.customer_id = qualifying.customer_id
        and measured.day_index = qualifying.day_index

)

select * from final
