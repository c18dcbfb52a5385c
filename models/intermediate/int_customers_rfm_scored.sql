-- RFM scores over the customers with at least one counted order (in the RFM window): each score is
-- least(5, 1 + floor(5 * percent_rank())) ordered so that better is higher, so ties share a score and
-- the bottom tie group scores 1 on every engine. The segment comes from R and F through rfm_segment_rules.
with

customers as (

    select * from {{ ref('int_customers_aggregated') }}

),

orders as (

    select * from {{ ref('int_orders_valued') }}

),

run_parameters as (

    select * from {{ ref('stg_tierflow__run_parameters') }}

),

segment_rules as (

    select * from {{ ref('rfm_segment_rules') }}

),

windowed as (

    select
        orders.customer_id,
        sum(orders.net_spend) as monetary,
        sum(case when orders.is_counted_order then 1 else 0 end) as frequency

    from orders
    cross join run_parameters
    where
        run_parameters.rfm_window_days is null
        or orders.order_date > {{ days_before('run_parameters.as_of_date', 'run_parameters.rfm_window_days') }}
    group by orders.customer_id

),

buyers as (

    select
        customers.customer_id,
        customers.days_since_last_order,
        windowed.frequency,
        windowed.monetary

    from customers
    inner join windowed
        on customers.customer_id = windowed.customer_id
    where windowed.frequency > 0

),

scored as (

    select
        customer_id,
        -- fewer days since the last order is better: rank the longest-ago first
        least(5, 1 + floor(5 * percent_rank() over (order by days_since_last_order desc))) as recency_score,
        least(5, 1 + floor(5 * percent_rank() over (order by frequency))) as frequency_score,
        least(5, 1 + floor(5 * percent_rank() over (order by monetary))) as monetary_score

    from buyers

),

final as (

    select
        customers.customer_id,
        cast(scored.recency_score as integer) as rfm_recency_score,
        cast(scored.frequency_score as integer) as rfm_frequency_score,
        cast(scored.monetary_score as integer) as rfm_monetary_score,
        case when scored.customer_id is null then 'no_purchase' else segment_rules.rfm_segment end as rfm_segment

    from customers
    left join scored
        on customers.customer_id = scored.customer_id
    left join segment_rules
        on scored.recency_score between segment_rules.recency_score_min and segment_rules.recency_score_max
        and scored.frequency_score between segment_rules.frequency_score_min and segment_rules.frequency_score_max

)

select * from final
