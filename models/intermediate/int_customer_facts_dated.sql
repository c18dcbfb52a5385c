-- Every order and engagement event of a customer as one fact, dated on the local day it counts, with its net
-- spend, counted orders and points; only facts counted by the as-of date (point in time). The SQL is the macro
-- customer_facts, which int_customer_days_accumulated also runs for only the customers it must compute.
-- A view: the pre-hook of int_customer_days_accumulated reads it once per run (a checksum per customer).
{{ config(materialized='view') }}

{{ customer_facts() }}
