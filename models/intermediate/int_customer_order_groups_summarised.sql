-- Every customer's orders of the last 365 days by product category and by sales channel: the orders, counted
-- orders and net spend of each, the state that the preferred category and the channel count of
-- int_customer_orders_summarised are read from. A row lives while an order of the window is in its group.
--
-- Carried like the order summaries (DuckDB, PostgreSQL): a daily run updates a customer from their previous
-- rows and the orders entering or leaving the 365 days (macros/order_summary_updates.sql); Spark rebuilds
-- the table. The SQL is the macro order_groups, run in batches of customers when a full build is too large
-- for one statement (macros/customer_batches.sql).
{{
    config(
        materialized=('table' if target.type == 'spark' else 'incremental'),
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook="{{ forget_changed_order_summaries(order_group_window_days()) }}",
        post_hook=([] if target.type == 'spark' else [
            "{{ insert_customer_batches(order_groups, order_summary_inputs()) }}",
            "{{ drop_recomputed_customers() }}",
            "{{ write_carried_mark() }}",
        ]),
    )
}}

-- The hooks read the landing rows by load, and what the groups depend on:
-- depends_on: {{ ref('stg_landing__orders') }}
-- depends_on: {{ ref('stg_landing__events') }}
-- depends_on: {{ ref('fx_rates') }}

{{ order_groups(0, customer_batches(order_summary_inputs())) }}
