-- The advance notices in force on the as-of date, so a CRM can act before a tier changes: one row per
-- customer and notice type the policy switches on (notices: in the policy). The CRM export compares them
-- with the last exported ones by notice_key: new keys are raised, keys no longer here are withdrawn.
with

customer_tiers as (

    select * from {{ ref('customer_tiers') }}

),

tiered as (

    select * from {{ ref('int_customers_tiered') }}

),

expiring as (

    select * from {{ ref('int_customers_points_expiring') }}

),

profiles as (

    select customer_id, is_marketing_opt_in from {{ ref('int_customers_joined') }}

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

-- Within an amount, or a share, of the next tier's spend threshold. A fixed override holds the member
-- whatever they spend, so it gets none.
approaching_upgrades as (

    select
        customer_tiers.customer_id,
        'approaching_upgrade' as notice_type,
        cast(null as date) as due_date,
        customer_tiers.spend_to_next_tier as amount_needed,
        cast(null as bigint) as points,
        customer_tiers.next_tier as target_tier

    from customer_tiers
    cross join engine
    inner join tiered
        on customer_tiers.customer_id = tiered.customer_id
    inner join tiers as next_tier
        on customer_tiers.next_tier = next_tier.tier_code
    where customer_tiers.spend_to_next_tier > 0
        and coalesce(tiered.override_mode, 'none') <> 'fixed'
        and (
            customer_tiers.spend_to_next_tier <= engine.notice_upgrade_within_spend
            or customer_tiers.spend_to_next_tier <= engine.notice_upgrade_within_share * next_tier.min_spend
        )

),

-- Not yet keeping the tier, and the next periodic evaluation is near: the gap is what keeps it, the target
-- the tier the evaluation would leave on the figures so far. Only where the evaluation can downgrade: no
-- override holds the member above the computed tier, and the minimum stay is over by then.
downgrade_warnings as (

    select
        customer_tiers.customer_id,
        'downgrade_warning' as notice_type,
        customer_tiers.next_evaluation_date as due_date,
        customer_tiers.keep_spend_gap as amount_needed,
        cast(null as bigint) as points,
        target_tier.tier_code as target_tier

    from customer_tiers
    cross join engine
    inner join tiered
        on customer_tiers.customer_id = tiered.customer_id
    inner join tiers as target_tier
        on tiered.evaluated_tier_rank = target_tier.tier_rank
    where engine.downgrade_mode = 'periodic'
        and customer_tiers.keep_spend_gap > 0
        and tiered.evaluated_tier_rank < tiered.computed_tier_rank
        and tiered.published_tier_rank = tiered.computed_tier_rank
        and coalesce(tiered.override_mode, 'none') <> 'fixed'
        and {{ dbt.datediff('customer_tiers.as_of_date', 'customer_tiers.next_evaluation_date', 'day') }}
            <= engine.notice_downgrade_days_before
        and {{ dbt.datediff('customer_tiers.tier_since', 'customer_tiers.next_evaluation_date', 'day') }}
            >= engine.downgrade_min_stay_days

),

points_expiring as (

    select
        customer_tiers.customer_id,
        'points_expiring' as notice_type,
        expiring.first_expiry_date as due_date,
        cast(null as numeric(18, 2)) as amount_needed,
        expiring.expiring_points as points,
        cast(null as {{ dbt.type_string() }}) as target_tier

    from customer_tiers
    cross join engine
    inner join expiring
        on customer_tiers.customer_id = expiring.customer_id
    where expiring.expiring_points >= engine.notice_points_min_points

),

notices as (

    select * from approaching_upgrades
    union all
    select * from downgrade_warnings
    union all
    select * from points_expiring

),

final as (

    select
        notices.customer_id,
        notices.notice_type,
        run_parameters.as_of_date,
        notices.due_date,
        cast(notices.amount_needed as numeric(18, 2)) as amount_needed,
        cast(notices.points as bigint) as points,
        customer_tiers.tier,
        notices.target_tier,
        -- Stable from one night to the next while the notice holds, so the CRM is not sent it twice.
        {{ dbt.concat([
            'notices.customer_id', "':'", 'notices.notice_type', "':'", "coalesce(notices.target_tier, '-')",
            "':'", "coalesce(cast(notices.due_date as " ~ dbt.type_string() ~ "), '-')"
        ]) }} as notice_key,
        coalesce(profiles.is_marketing_opt_in, false) as is_marketing_opt_in,
        run_parameters.policy_version,
        run_parameters.run_id

    from notices
    cross join run_parameters
    inner join customer_tiers
        on notices.customer_id = customer_tiers.customer_id
    left join profiles
        on notices.customer_id = profiles.customer_id

)

select * from final
