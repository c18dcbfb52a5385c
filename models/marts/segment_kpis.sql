-- The tier-programme KPIs per RFM segment and per lifecycle stage (dimension + segment), per as-of date,
-- with the history of earlier published runs carried over like tier_kpis.
{%- set previous = previous_published('segment_kpis') %}
with

customers as (

    select * from {{ ref('int_customers_kpi_ready') }}

),

run_parameters as (

    select * from {{ ref('stg_tierflow__run_parameters') }}

),

known as (

    select count(*) as customers from customers

),

grouped as (

    select 'rfm_segment' as dimension, rfm_segment as segment, customers.* from customers
    union all
    select 'lifecycle_stage' as dimension, lifecycle_stage as segment, customers.* from customers

),

current_kpis as (

    select
        run_parameters.as_of_date,
        grouped.dimension,
        grouped.segment,
        {{ kpi_aggregates('max(known.customers)') }},
        run_parameters.run_id as source_run_id

    from grouped
    cross join run_parameters
    cross join known
    group by run_parameters.as_of_date, grouped.dimension, grouped.segment, run_parameters.run_id

),

history as (

    {% if previous %}
    select
        previous.as_of_date, previous.dimension, previous.segment, previous.members, previous.member_share,
        previous.avg_spend_365d, previous.repurchase_rate, previous.active_rate, previous.upgrade_rate,
        previous.downgrade_rate, previous.avg_lifetime_spend, previous.churn_share, previous.source_run_id
    from {{ previous }} as previous
    cross join run_parameters
    where previous.as_of_date <> run_parameters.as_of_date
    {% else %}
    select * from current_kpis where 1 = 0
    {% endif %}

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
