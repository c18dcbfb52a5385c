-- Every change of a member's tier, append-only: the changes published before plus the ones this run found
-- on the days it stepped through. A re-run of a published date steps through no day again, so it never
-- repeats a change; a late order changes the state from the run that first sees it, never the past.
-- source_run_id and policy_version are those of the run that recorded a change; as_of_date and run_id
-- those of the run publishing the table (as in every published table).
with

published as (

    select * from {{ ref('int_customer_tiers_published') }}

),

tiers as (

    select * from {{ ref('stg_tierflow__policy_tiers') }}

),

run_parameters as (

    select * from {{ ref('stg_tierflow__run_parameters') }}

),

previous_changes as (

    select * from {{ ref('stg_published_state__tier_changes') }}

),

new_changes as (

    select
        published.customer_id,
        published.day_date as effective_date,
        from_tier.tier_code as from_tier,
        to_tier.tier_code as to_tier,
        published.change_type,
        published.change_reason as reason,
        run_parameters.policy_version,
        run_parameters.run_id as source_run_id

    from published
    cross join run_parameters
    inner join tiers as to_tier
        on published.published_rank = to_tier.tier_rank
    left join tiers as from_tier
        on published.previous_published_rank = from_tier.tier_rank
        and published.change_type <> 'initial'
    where published.change_type is not null

),

unseen_changes as (

    select new_changes.*
    from new_changes
    left join previous_changes
        on new_changes.customer_id = previous_changes.customer_id
        and new_changes.effective_date = previous_changes.effective_date
        and new_changes.change_type = previous_changes.change_type
    where previous_changes.customer_id is null

),

all_changes as (

    select * from previous_changes
    union all
    select * from unseen_changes

),

final as (

    select
        all_changes.*,
        run_parameters.as_of_date,
        run_parameters.run_id

    from all_changes
    cross join run_parameters

)

select * from final
