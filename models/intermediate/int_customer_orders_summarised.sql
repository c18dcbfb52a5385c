-- Every customer's orders up to the as-of date, summarised once for all the customer models (windows, RFM,
-- behaviour, lifecycle edges, preferred category, median gap): they read this table, never the orders.
-- A window of N days as of D holds the local order dates d with D - N < d <= D.
--
-- Carried where the engine can delete (DuckDB, PostgreSQL): the pre-hook names the customers whose summary
-- this run changes (orders loaded or changed in place since the table's mark, and orders dated on a day that
-- enters or leaves one of the windows between the mark's as-of date and this run's), keeps their previous
-- rows aside and deletes them; this model updates each from their previous row and those orders, and
-- summarises whole only the customers an order changed in place or arrived late for
-- (macros/order_summary_updates.sql). Without a mark it summarises the customers missing from the table; the
-- post-hook records the mark. Another policy, other rates or an earlier as-of date rebuild it (the mark no
-- longer vouches for it). Spark's Parquet tables cannot delete rows, so Spark rebuilds the table. The SQL is
-- the macro order_summaries: a build too large for one statement runs it once per batch of customers
-- (macros/customer_batches.sql).
{{
    config(
        materialized=('table' if target.type == 'spark' else 'incremental'),
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook="{{ forget_changed_order_summaries(summary_window_days(), rebuild_entered=personal_cadence()) }}",
        post_hook=([] if target.type == 'spark' else [
            "{{ insert_customer_batches(order_summaries, order_summary_inputs()) }}",
            "{{ drop_recomputed_customers() }}",
            "{{ write_carried_mark() }}",
        ]),
    )
}}

-- The hooks read the landing rows by load, and what the summary depends on:
-- depends_on: {{ ref('stg_landing__orders') }}
-- depends_on: {{ ref('stg_landing__events') }}
-- depends_on: {{ ref('fx_rates') }}

{{ order_summaries(0, customer_batches(order_summary_inputs())) }}
