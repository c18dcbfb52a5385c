-- Net spend, counted orders and points per customer per *counted* local date, with running totals, so the
-- total over any window (start, end] is a lookup: cumulative(end) - cumulative(start) (see cumulative_lookups).
--
-- Incremental where the engine can delete (DuckDB, PostgreSQL): a daily run must not recompute two years of
-- days for every member. The pre-hook deletes the rows of customers whose facts changed (new or late-refunded
-- orders, new events, pending orders maturing; on a daily run found from the landing rows loaded since the
-- table's mark and the days the run newly reaches, otherwise by a checksum of every customer's facts) and
-- this model computes the customers missing from the table; the post-hook records the mark. Spark's Parquet
-- tables cannot delete rows, so Spark rebuilds the table.
{{
    config(
        materialized=('table' if target.type == 'spark' else 'incremental'),
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook="{{ forget_changed_customer_days(ref('int_customer_facts_dated')) }}",
        post_hook=([] if target.type == 'spark' else ["{{ write_carried_mark() }}"]),
    )
}}

-- The hooks read the facts, the landing rows by load and date, and what the facts depend on:
-- depends_on: {{ ref('int_customer_facts_dated') }}
-- depends_on: {{ ref('stg_landing__orders') }}
-- depends_on: {{ ref('stg_landing__events') }}
-- depends_on: {{ ref('int_orders_valued') }}
-- depends_on: {{ ref('stg_tierflow__policy_engine') }}
-- depends_on: {{ ref('stg_tierflow__run_parameters') }}
-- depends_on: {{ ref('fx_rates') }}

with

{% if is_incremental() %}
kept_customers as (

    -- One row per customer: the last (the pre-hook left only customers whose facts did not change).
    select customer_id from {{ this }} where valid_until = {{ open_end_date() }}

),
{% endif %}

-- Facts of the customers missing from the table (all of them on a full build), left out before any join.
changed_facts as (

    {{ customer_facts(except_customers=('kept_customers' if is_incremental() else none)) | indent(4) }}

),

run_parameters as (

    select * from {{ ref('stg_tierflow__run_parameters') }}

),

checksums as (

    select
        customer_id,
        {{ fact_checksum(customer_fact_columns()) }} as input_checksum

    from changed_facts
    group by customer_id

),

per_day as (

    select
        customer_id,
        fact_date,
        sum(net_spend) as day_spend,
        sum(order_count) as day_orders,
        sum(points) as day_points

    from changed_facts
    group by customer_id, fact_date

),

final as (

    select
        per_day.customer_id,
        per_day.fact_date,
        cast(per_day.day_spend as numeric(18, 2)) as day_spend,
        cast(per_day.day_orders as integer) as day_orders,
        cast(per_day.day_points as bigint) as day_points,
        cast(sum(per_day.day_spend) over (
            partition by per_day.customer_id order by per_day.fact_date
            rows between unbounded preceding and current row
        ) as numeric(18, 2)) as cumulative_spend,
        cast(sum(per_day.day_orders) over (
            partition by per_day.customer_id order by per_day.fact_date
            rows between unbounded preceding and current row
        ) as integer) as cumulative_orders,
        cast(sum(per_day.day_points) over (
            partition by per_day.customer_id order by per_day.fact_date
            rows between unbounded preceding and current row
        ) as bigint) as cumulative_points,
        per_day.fact_date as valid_from,
        coalesce(
            lead(per_day.fact_date) over (partition by per_day.customer_id order by per_day.fact_date),
            {{ open_end_date() }}
        ) as valid_until,
        checksums.input_checksum,
        -- The run that computed the customer: tests on daily runs judge only these customers (changed_customers).
        run_parameters.run_id as computed_run_id

    from per_day
    inner join checksums
        on per_day.customer_id = checksums.customer_id
    cross join run_parameters

)

select * from final
