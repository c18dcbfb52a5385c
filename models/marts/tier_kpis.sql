-- Tier-programme KPIs per as-of date and tier, with their history: the rows of earlier published runs
-- (other as-of dates) are carried over from published_state, so trends can be drawn. A re-run for the
-- same as-of date replaces that date's rows.
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
        run_parameters.run_id as source_run_id

    from tiers
    cross join run_parameters
    cross join known
    left join customers
        on tiers.tier_code = customers.tier
    group by run_parameters.as_of_date, tiers.tier_code, tiers.tier_name, tiers.tier_rank, run_parameters.run_id

),

history as (

    {{ published_history('tier_kpis', 'current_kpis') }}

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
