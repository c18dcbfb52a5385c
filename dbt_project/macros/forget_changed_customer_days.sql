{#- Pre-hook of the incremental int_customer_days_accumulated: delete the days of every customer whose facts
    are no longer those the rows were computed from (their checksum differs, or they have no facts by the
    as-of date any more). The model then computes exactly the customers missing from the table, so the table
    is correct after every run whatever changed: new orders, late refunds, an earlier as-of date, a new
    policy. A run killed between the delete and the insert only leaves customers to compute next time.
    A table from before the checksum column existed is emptied, and so rebuilt whole. -#}
{% macro forget_changed_customer_days(facts) -%}
    {%- if is_incremental() -%}
        {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
        {%- if 'input_checksum' in columns -%}
    delete from {{ this }} as stale
    where stale.customer_id in (
        -- Every row of a customer carries the checksum; the last row alone is read (1 row per customer).
        select stored.customer_id
        from {{ this }} as stored
        left join (
            select customer_id, {{ fact_checksum(customer_fact_columns()) }} as input_checksum
            from {{ facts }}
            group by customer_id
        ) as current_facts
            on stored.customer_id = current_facts.customer_id
        where stored.valid_until = {{ open_end_date() }}
            and (current_facts.input_checksum is null or current_facts.input_checksum <> stored.input_checksum)
    )
        {%- else -%}
    delete from {{ this }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- valid_until of a customer's last row in int_customer_days_accumulated. -#}
{% macro open_end_date() -%}
    cast('9999-12-31' as date)
{%- endmacro %}

{#- The columns of int_customer_facts_dated that a customer's days are computed from. -#}
{% macro customer_fact_columns() -%}
    {{ return(['fact_date', 'net_spend', 'order_count', 'points']) }}
{%- endmacro %}
