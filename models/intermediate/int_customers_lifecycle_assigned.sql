-- The lifecycle stage of every customer as of the as-of date; the first matching rule wins:
-- prospect (no order) > new (first order within new_days) > reactivated (the first order within new_days
-- came more than dormant_days after the order before it) > active (last order within active_days, or
-- within twice the member's median gap under `cadence: personal` with 3+ orders) > at_risk (up to
-- dormant_days) > dormant (up to churned_days) > churned.
with

customers as (

    select * from {{ ref('int_customers_aggregated') }}

),

summaries as (

    select * from {{ ref('int_customer_orders_summarised') }}

),

run_parameters as (

    select * from {{ ref('stg_tierflow__run_parameters') }}

),

thresholds as (

    select
        customers.customer_id,
        customers.lifetime_orders,
        customers.first_order_date,
        customers.days_since_last_order,
        summaries.first_recent_order_date,
        summaries.last_earlier_order_date,
        summaries.median_gap_days,
        run_parameters.as_of_date,
        run_parameters.new_days,
        run_parameters.dormant_days,
        run_parameters.churned_days,
        case
            when run_parameters.lifecycle_cadence = 'personal' and customers.lifetime_orders >= 3
                then 2 * summaries.median_gap_days
            else run_parameters.active_days
        end as at_risk_after_days

    from customers
    cross join run_parameters
    left join summaries
        on customers.customer_id = summaries.customer_id

),

final as (

    select
        customer_id,
        cast(median_gap_days as numeric(10, 1)) as median_gap_days,
        cast(at_risk_after_days as numeric(10, 1)) as at_risk_after_days,
        case
            when lifetime_orders = 0 then 'prospect'
            when first_order_date > {{ days_before('as_of_date', 'new_days') }} then 'new'
            when
                first_recent_order_date is not null
                and {{ dbt.datediff('last_earlier_order_date', 'first_recent_order_date', 'day') }} > dormant_days
                then 'reactivated'
            when days_since_last_order <= at_risk_after_days then 'active'
            when days_since_last_order <= dormant_days then 'at_risk'
            when days_since_last_order <= churned_days then 'dormant'
            else 'churned'
        end as lifecycle_stage

    from thresholds

)

select * from final
