-- Purchase-behaviour flags over the last 365 days, from the policy's rules. A customer may carry several;
-- behaviour_class is the first in the order discount_seeker, big_ticket, frequent_small, omnichannel,
-- refund_prone, else regular. Percentiles are over the customers with 365-day orders, interpolated like
-- percentile_cont.
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

buyers as (

    select
        customers.customer_id,
        customers.orders_365d,
        customers.spend_365d / customers.orders_365d as average_order_value,
        row_number() over (order by customers.spend_365d / customers.orders_365d) as aov_index,
        row_number() over (order by customers.orders_365d) as orders_index,
        count(*) over () as buyers

    from customers
    where customers.orders_365d > 0

),

positioned as (

    select
        buyers.*,
        1 + run_parameters.big_ticket_percentile * (buyers.buyers - 1) as big_ticket_position,
        1 + 0.5 * (buyers.buyers - 1) as median_position,
        1 + run_parameters.frequent_small_percentile * (buyers.buyers - 1) as frequent_position

    from buyers
    cross join run_parameters

),

cuts as (

    select
        {{ interpolated_percentile('average_order_value', 'aov_index', 'big_ticket_position') }}
            as big_ticket_min_value,
        {{ interpolated_percentile('average_order_value', 'aov_index', 'median_position') }}
            as median_order_value,
        {{ interpolated_percentile('orders_365d', 'orders_index', 'frequent_position') }}
            as frequent_min_orders

    from positioned

),

flagged as (

    select
        customers.customer_id,
        cast(buyers.average_order_value as numeric(18, 2)) as average_order_value_365d,
        coalesce(summaries.promotion_orders_365d, 0) as promotion_orders_365d,
        coalesce(summaries.channels_365d, 0) as channels_365d,
        coalesce(
            customers.orders_365d > 0
            and summaries.promotion_orders_365d > run_parameters.discount_seeker_share * customers.orders_365d,
            false
        ) as is_discount_seeker,
        coalesce(buyers.average_order_value >= cuts.big_ticket_min_value, false) as is_big_ticket,
        coalesce(
            buyers.orders_365d >= cuts.frequent_min_orders and buyers.average_order_value < cuts.median_order_value,
            false
        ) as is_frequent_small,
        coalesce(summaries.channels_365d >= run_parameters.omnichannel_min_channels, false) as is_omnichannel,
        coalesce(
            summaries.refunded_spend_365d > run_parameters.refund_prone_share * summaries.gross_spend_365d,
            false
        ) as is_refund_prone

    from customers
    cross join run_parameters
    cross join cuts
    left join buyers
        on customers.customer_id = buyers.customer_id
    left join summaries
        on customers.customer_id = summaries.customer_id

),

final as (

    select
        *,
        case
            when is_discount_seeker then 'discount_seeker'
            when is_big_ticket then 'big_ticket'
            when is_frequent_small then 'frequent_small'
            when is_omnichannel then 'omnichannel'
            when is_refund_prone then 'refund_prone'
            else 'regular'
        end as behaviour_class

    from flagged

)

select * from final
