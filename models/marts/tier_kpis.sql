-- Tier-programme KPIs per as-of date and tier, with their history: the rows of earlier published runs
-- (other as-of dates) are carried over from published_state, so trends can be drawn. A re-run for the
-- same as-of date replaces that date's rows. The notice counts are the tier's members' notices in force
-- (tier_notices); rows published before notices existed carry null.
{%- set NOTICE_TYPES = notice_types() %}
with

customers as (

    select * from {{ ref('int_customers_kpi_ready') }}

),

tiers as (

    select * from {{ ref('stg_tierflow__policy_tiers') }}

),

run_parameters as (

    select * from {{ ref('stg_tierflow__run_parameters') }}

),

notices as (

    select * from {{ ref('tier_notices') }}

),

notice_counts as (

    select
        tier,
        {%- for notice_type in NOTICE_TYPES %}
        count(case when notice_type = '{{ notice_type }}' then 1 end) as notices_{{ notice_type }}
            {{- "," if not loop.last }}
        {%- endfor %}

    from notices
    group by tier

),

known as (

    select count(*) as customers from customers

),

current_kpis as (

    select
        run_parameters.as_of_date,
        tiers.tier_code as tier,
        tiers.tier_name,
        tiers.tier_rank,
        {{ kpi_aggregates('max(known.customers)') }},
        run_parameters.run_id as source_run_id,
        {%- for notice_type in NOTICE_TYPES %}
        cast(coalesce(max(notice_counts.notices_{{ notice_type }}), 0) as integer) as notices_{{ notice_type }}
            {{- "," if not loop.last }}
        {%- endfor %}

    from tiers
    cross join run_parameters
    cross join known
    left join customers
        on tiers.tier_code = customers.tier
    left join notice_counts
        on tiers.tier_code = notice_counts.tier
    group by run_parameters.as_of_date, tiers.tier_code, tiers.tier_name, tiers.tier_rank, run_parameters.run_id

),

-- Earlier as-of dates as last published; this run's date is recomputed above.
history as (

    select previous.*
    from {{ ref('stg_published_state__tier_kpis') }} as previous
    cross join run_parameters
    where previous.as_of_date <> run_parameters.as_of_date

),

combined as (

    select * from current_kpis
    union all
    select * from history

),

final as (

    select
        combined.*,
        run_parameters.policy_version,
        run_parameters.run_id

    from combined
    cross join run_parameters

)

select * from final
