{#- Customer batches (issue 17). A carried per-customer table (int_customer_days_accumulated,
    int_customer_orders_summarised) that one statement over every customer would build past DuckDB's memory
    limit and spill bound is built in one statement per batch of customers, by a hash of the customer id: the
    model's SQL renders batch 0 and a post-hook inserts the others (insert_customer_batches), all in the
    model's transaction. A 10 M full build needed more than DuckDB's 14 GB and 36 GB of spill in one statement
    (measured 2026-12-07). A daily update, which the table's mark vouches for, recomputes only the changed
    customers in one statement; PostgreSQL and Spark spill by themselves: one batch. -#}

{#- Working set of one input row in such a build, in bytes, with a margin: at 10 M customers a batch of 110 M
    facts of the customer days beside a batch of 110 M orders of the summaries held DuckDB's 14 GB and spilled
    past 25 GB (more than 350 bytes a row). -#}
{% macro customer_batch_row_bytes() -%}{{ return(600) }}{%- endmacro %}

{#- How many batches a build over the landing tables `inputs` takes: the rows one statement may hold are
    (memory limit + half the spill bound) / 2 / customer_batch_row_bytes (dbt's two threads share both). One
    when the mark vouches for the table and no full refresh was asked: the same answer in the model's SQL and
    in its post-hook (is_incremental() is not: it turns true once the first build created the table). -#}
{% macro customer_batches(inputs) -%}
    {#- `this` is none in a unit test, which builds nothing. -#}
    {%- if not execute or target.type != 'duckdb' or this is none -%}{{ return(1) }}{%- endif -%}
    {%- if not flags.FULL_REFRESH and carried_mark(require_as_of=true) is not none -%}{{ return(1) }}{%- endif -%}
    {%- set names = "'" ~ (inputs | join("', '")) ~ "'" -%}
    {%- set row = run_query(
        "select (select coalesce(sum(estimated_size), 0) from duckdb_tables() where database_name = current_database()"
        ~ " and schema_name = 'landing' and table_name in (" ~ names ~ ")),"
        ~ " (select value from duckdb_settings() where name = 'memory_limit'),"
        ~ " (select value from duckdb_settings() where name = 'max_temp_directory_size')"
    ).rows[0] -%}
    {%- set budget = (_size_in_bytes(row[1]) + _size_in_bytes(row[2]) / 2) / 2 -%}
    {#- The var lets a test split a small build into batches. -#}
    {%- set per_batch = [var('customer_batch_rows', (budget / customer_batch_row_bytes()) | int) | int, 1] | max -%}
    {{ return([((row[0] + per_batch - 1) / per_batch) | int, 1] | max) }}
{%- endmacro %}

{#- DuckDB's rendering of a size setting ('13.0 GiB', '512.0 MiB', '0 bytes') in bytes. -#}
{% macro _size_in_bytes(value) -%}
    {%- set units = {'bytes': 1, 'KiB': 1024, 'MiB': 1024 ** 2, 'GiB': 1024 ** 3, 'TiB': 1024 ** 4,
                     'KB': 1000, 'MB': 1000 ** 2, 'GB': 1000 ** 3, 'TB': 1000 ** 4} -%}
    {%- set parts = (value or '0 bytes').split(' ') -%}
    {{ return((parts[0] | float) * units.get(parts[1] if parts | length > 1 else 'bytes', 1)) }}
{%- endmacro %}

{#- A predicate keeping the rows of customers in batch `batch` of `batches` (nothing when there is one). -#}
{% macro customer_batch_filter(column, batch, batches) -%}
    {%- if batches > 1 -%}hash({{ column }}) % {{ batches }} = {{ batch }}{%- endif -%}
{%- endmacro %}

{#- Post-hook: insert batches 1 .. batches - 1 of a model whose SQL is the macro `body(batch, batches)`. -#}
{% macro insert_customer_batches(body, inputs) -%}
    {%- set batches = customer_batches(inputs) -%}
    {%- if batches > 1 -%}
        {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | join(', ') -%}
        {%- for batch in range(1, batches) %}
    insert into {{ this }} ({{ columns }}) select {{ columns }} from (
        {{ body(batch, batches) }}
    ) as batch_rows;
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
