{#- Spark runs inside the dbt process, so tierflow exchanges tables with it through Parquet folders listed in
    TIERFLOW__TARGET_EXCHANGE (see tierflow/targets/spark.py). Other engines read and write in place:
    both hooks render nothing for them. -#}

{% macro target_register_inputs() -%}
    {%- if target.type == 'spark' and execute -%}
        {%- set exchange = fromjson(env_var('TIERFLOW__TARGET_EXCHANGE', '{"inputs": [], "outputs": []}')) -%}
        {%- for schema in exchange.inputs | map(attribute='schema') | unique -%}
            {%- do run_query('create database if not exists ' ~ schema) -%}
        {%- endfor -%}
        {%- for table in exchange.inputs -%}
            {%- do run_query('drop table if exists ' ~ table.schema ~ '.' ~ table.name) -%}
            {%- do run_query('create table ' ~ table.schema ~ '.' ~ table.name ~ " using parquet location '" ~ table.path ~ "'") -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{% macro target_export_outputs() -%}
    {%- if target.type == 'spark' and execute -%}
        {%- set exchange = fromjson(env_var('TIERFLOW__TARGET_EXCHANGE', '{"inputs": [], "outputs": []}')) -%}
        {%- for table in exchange.outputs -%}
            {%- if adapter.get_relation(database=none, schema=table.schema, identifier=table.name) -%}
                {%- do run_query("insert overwrite directory '" ~ table.path ~ "' using parquet select * from " ~ table.schema ~ '.' ~ table.name) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
