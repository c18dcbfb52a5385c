-- The tier engine: the computed tier of every customer on every day of the spine, stepped day by day from
-- its starting state (the last published state, or the entry-qualified tier on the customer's first day).
-- Each day: upgrade at once when the entry-qualified tier is higher; on an evaluation day (the state's next
-- evaluation has come, or a new policy version re-evaluates at once) drop to the kept tier, at most max_drop
-- tiers (soft landing), to the lowest tier after inactive_days without spend, and not within min_stay_days
-- of entering the tier (the evaluation then waits until the stay is over).
{%- set is_upgrade = 'spine.entry_rank > steps.tier_rank' %}
{%- set is_evaluated -%}
    ((spine.day_number >= steps.next_evaluation_day_number or spine.is_reevaluation_day)
        and spine.day_number - steps.since_day_number >= spine.min_stay_days)
{%- endset %}
{%- set evaluated_rank -%}
    (case
        when spine.is_inactive then 1
        else greatest(spine.keep_rank, steps.tier_rank - spine.max_drop)
    end)
{%- endset %}
{%- set is_downgrade = is_evaluated ~ ' and ' ~ evaluated_rank ~ ' < steps.tier_rank' %}

{#- The anchor and the recursive term cast every column: engines type a recursive CTE by its anchor
    (PostgreSQL, Spark) and reject a wider type in the recursive term. #}
with recursive

spine as (

    select * from {{ ref('int_customer_days_evaluated') }}

),

tiers as (

    select * from {{ ref('stg_tierflow__policy_tiers') }}

),

started as (

    select * from {{ ref('int_customers_state_started') }}

),

first_days as (

    select
        spine.customer_id,
        spine.day_index,
        spine.day_number,
        spine.entry_rank,
        spine.next_anchor_day_number,
        started.has_state,
        started.is_policy_changed,
        started.previous_tier_since,
        started.previous_next_evaluation_date,
        previous_tier.tier_rank as previous_rank,
        -- A re-run of the published date that qualifies higher (late facts) lifts the start at once.
        coalesce(coalesce(started.is_rerun, false) and spine.entry_rank > previous_tier.tier_rank, false)
            as is_lifted

    from spine
    inner join started
        on spine.customer_id = started.customer_id
    left join tiers as previous_tier
        on started.previous_tier = previous_tier.tier_code
    where spine.day_index = 0

),

starting as (

    select
        customer_id,
        cast(day_index as integer) as day_index,
        -- A tier the new policy no longer has: start from the tier qualified for now.
        cast(case when is_lifted then entry_rank else coalesce(previous_rank, entry_rank) end as integer)
            as tier_rank,
        cast(
            case
                when is_lifted or previous_rank is null then day_number
                else {{ day_number('previous_tier_since') }}
            end as integer
        ) as since_day_number,
        cast(
            case
                -- Under a new policy version the evaluation calendar is the new one's.
                when previous_rank is not null and not is_policy_changed and not is_lifted
                    then {{ day_number('previous_next_evaluation_date') }}
                else next_anchor_day_number
            end as integer
        ) as next_evaluation_day_number,
        cast(case when is_lifted then previous_rank end as integer) as from_rank,
        cast(
            case
                when not has_state then 'initial'
                when is_lifted then 'qualified'
            end as {{ dbt.type_string() }}
        ) as change_reason

    from first_days

),

steps as (

    select * from starting

    union all

    select
        spine.customer_id,
        cast(spine.day_index as integer) as day_index,
        cast(
            case
                when {{ is_upgrade }} then spine.entry_rank
                when {{ is_downgrade }} then {{ evaluated_rank }}
                else steps.tier_rank
            end as integer
        ) as tier_rank,
        cast(
            case
                when {{ is_upgrade }} or ({{ is_downgrade }}) then spine.day_number
                else steps.since_day_number
            end as integer
        ) as since_day_number,
        cast(
            case
                when {{ is_upgrade }} or {{ is_evaluated }} then spine.next_anchor_day_number
                else steps.next_evaluation_day_number
            end as integer
        ) as next_evaluation_day_number,
        cast(steps.tier_rank as integer) as from_rank,
        cast(
            case
                when {{ is_upgrade }} or ({{ is_downgrade }}) then
                    case
                        when spine.is_policy_change_day then 'policy_change'
                        when {{ is_upgrade }} then 'qualified'
                        when spine.is_inactive then 'inactivity'
                        else 'evaluation'
                    end
            end as {{ dbt.type_string() }}
        ) as change_reason

    from steps
    inner join spine
        on steps.customer_id = spine.customer_id
        and steps.day_index + 1 = spine.day_index

),

final as (

    select
        steps.customer_id,
        steps.day_index,
        spine.day_date,
        steps.tier_rank,
        steps.from_rank,
        {{ date_of_day_number('steps.since_day_number') }} as tier_since,
        {{ date_of_day_number('steps.next_evaluation_day_number') }} as next_evaluation_date,
        steps.change_reason

    from steps
    inner join spine
        on steps.customer_id = spine.customer_id
        and steps.day_index = spine.day_index

)

select * from final
