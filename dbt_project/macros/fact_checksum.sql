{#- An order-independent checksum of a group of rows: the sum of a 64-bit hash of each row's `columns`, so it
    changes when a row is added, removed or changed. int_customer_days_accumulated keeps one per customer to
    recompute only the customers whose facts changed. -#}
{% macro fact_checksum(columns) -%}
    cast(sum(cast({{ row_hash(columns) }} as numeric(38, 0))) as numeric(38, 0))
{%- endmacro %}

{#- A 64-bit hash of the values of `columns` (a list of column expressions); engines name it differently. -#}
{% macro row_hash(columns) -%}
    {{ return(adapter.dispatch('row_hash', 'tierflow')(columns)) }}
{%- endmacro %}

{% macro default__row_hash(columns) -%}
    {{ exceptions.raise_compiler_error("row_hash is not implemented for adapter " ~ adapter.type()) }}
{%- endmacro %}

{% macro duckdb__row_hash(columns) -%}
    hash({{ columns | join(', ') }})
{%- endmacro %}

{% macro postgres__row_hash(columns) -%}
    hashtextextended(concat_ws('|', {{ columns | join(', ') }}), 0)
{%- endmacro %}

{% macro spark__row_hash(columns) -%}
    xxhash64({{ columns | join(', ') }})
{%- endmacro %}
