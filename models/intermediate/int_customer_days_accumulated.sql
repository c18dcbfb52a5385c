-- Net spend, counted orders and points per customer per *counted* local date, with running totals, so the
-- total over any window (start, end] is a lookup: cumulative(end) - cumulative(start) (see cumulative_lookups).
--
-- Incremental where the engine can delete (DuckDB, PostgreSQL): a daily run must not recompute two years of
-- days for every member. The pre-hook deletes the rows of customers whose facts changed (new or late-refunded
-- orders, new events, pending orders maturing; on a daily run found from the landing rows loaded since the
-- table's mark and the days the run newly reaches, otherwise by a checksum of every customer's facts) and
-- this model computes the customers missing from the table. On a daily run, customers whose new facts all
-- fall after their last day keep their rows and get the new days appended instead (customer_day_extensions).
-- The post-hooks append those days and record the mark. Spark's Parquet tables cannot delete rows, so Spark
-- rebuilds the table. The SQL is the macro customer_days: a build too large for one statement runs it once per
-- batch of customers (macros/customer_batches.sql).
{{
    config(
        materialized=('table' if target.type == 'spark' else 'incremental'),
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook="{{ forget_changed_customer_days(ref('int_customer_facts_dated')) }}",
        post_hook=([] if target.type == 'spark' else [
            "{{ insert_customer_batches(customer_days, customer_day_inputs()) }}",
            "{{ extend_customer_days() }}",
            "{{ write_carried_mark() }}",
        ]),
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

{{ customer_days(0, customer_batches(customer_day_inputs())) }}
