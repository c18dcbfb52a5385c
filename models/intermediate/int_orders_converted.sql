-- Every order valued in the policy currency and dated in the policy time zone, carried from run to run: the
-- valuation does not depend on the as-of date (int_orders_valued cuts at it), so a daily run values only the
-- orders loaded or changed in place since the table's mark (new orders, late refunds and cancellations) and
-- keeps the rest. Another policy or other exchange rates revalue every order (the mark no longer matches);
-- Spark's Parquet tables cannot delete rows, so Spark rebuilds the table.
{{
    config(
        materialized=('table' if target.type == 'spark' else 'incremental'),
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook="{{ forget_changed_orders() }}",
        post_hook=([] if target.type == 'spark' else ["{{ write_carried_mark() }}"]),
    )
}}

-- The hooks read the landing orders by load, and what the valuation depends on:
-- depends_on: {{ ref('stg_tierflow__run_parameters') }}
-- depends_on: {{ ref('stg_landing__events') }}

{%- set mark = carried_mark(require_as_of=false) if is_incremental() else none %}

with

orders as (

    {%- if mark is not none %}
    select * from {{ changed_since(ref('stg_landing__orders'), mark['changed_seq']) }} as changed
    {%- else %}
    select * from {{ ref('stg_landing__orders') }}
    {%- endif %}

),

run_parameters as (

    select * from {{ ref('stg_tierflow__run_parameters') }}

),

fx_rates as (

    select * from {{ ref('fx_rates') }}

),

localised as (

    select
        orders.*,
        {{ to_local_date('orders.ordered_at', 'run_parameters.policy_timezone') }} as order_date,
        run_parameters.policy_currency

    from orders
    cross join run_parameters

),

valued as (

    select
        localised.*,
        -- Cancelled and fully refunded orders are worth nothing; a partial refund reduces the order.
        case
            when localised.order_status in ('cancelled', 'refunded') then 0
            else localised.amount - localised.refunded_amount
        end as net_amount,
        -- Gross and refunded amounts of orders that went through (refund-prone rule); cancelled ones are 0.
        case when localised.order_status = 'cancelled' then 0 else localised.amount end as gross_amount,
        case
            when localised.order_status = 'cancelled' then 0
            when localised.order_status = 'refunded' then localised.amount
            else localised.refunded_amount
        end as refund_amount,
        case
            when localised.currency_code = localised.policy_currency then 1.0
            else policy_rate.units_per_usd / order_rate.units_per_usd
        end as conversion_rate

    from localised
    left join fx_rates as order_rate
        on localised.currency_code = order_rate.currency_code
    left join fx_rates as policy_rate
        on localised.policy_currency = policy_rate.currency_code

),

final as (

    select
        order_id,
        customer_id,
        order_date,
        cast(round(net_amount * conversion_rate, 2) as numeric(18, 2)) as net_spend,
        cast(round(gross_amount * conversion_rate, 2) as numeric(18, 2)) as gross_spend,
        cast(round(refund_amount * conversion_rate, 2) as numeric(18, 2)) as refunded_spend,
        -- An order counts unless it was fully refunded: a free order (amount 0, nothing refunded) counts.
        (order_status = 'completed' and (refunded_amount = 0 or refunded_amount < amount)) as is_counted_order,
        product_category,
        sales_channel,
        -- The load that brought or last changed the order (an update's load is later than the row's own):
        -- a daily run reads the orders changed since a mark by it, and DuckDB skips the rest by statistics.
        coalesce(updated_seq, load_seq) as changed_seq

    from valued

)

select * from final
