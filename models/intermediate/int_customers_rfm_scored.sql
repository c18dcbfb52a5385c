-- RFM scores over the customers with at least one counted order (in the RFM window): each score is
-- least(5, 1 + floor(5 * percent_rank())) ordered so that better is higher, so ties share a score and
-- the bottom tie group scores 1 on every engine. The segment comes from R and F through rfm_segment_rules.
with

customers as (

    select * from {{ ref('int_customers_aggregated') }}

),

summaries as (

    select * from {{ ref('int_customer_orders_summarised') }}

),

segment_rules as (

    select * from {{ ref('rfm_segment_rules') }}

),

buyers as (

    select
        customers.customer_id,
        customers.days_since_last_order,
        summaries.rfm_frequency as frequency,
        summaries.rfm_monetary as monetary

    from customers
    inner join summaries
        on customers.customer_id = summaries.customer_id
    where summaries.rfm_frequency > 0

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
