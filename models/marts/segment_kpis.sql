-- The tier-programme KPIs per RFM segment and per lifecycle stage (dimension + segment), per as-of date,
-- with the history of earlier published runs carried over like tier_kpis.
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

-- Earlier as-of dates as last published; this run's date is recomputed above.
history as (

    select previous.*
    from {{ ref('stg_published_state__segment_kpis') }} as previous
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
