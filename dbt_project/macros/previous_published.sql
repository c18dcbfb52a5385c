{#- The relation holding `table` as of the last published run before this run's as-of date, or none before
    the first publication. Publication keeps the last published tables in schema published_state and, when
    it moves to a new as-of date, the ones it replaced in published_base (see tierflow/publish/state.py):
    a re-run of the last published date compares with published_base, so it computes exactly what the first
    run of that date computed. Callers fall back to an empty set:

        {%- set previous = previous_published('customer_tiers') %}
        {% if previous %} select ... from {{ previous }} {% else %} select ... where 1 = 0 {% endif %}
-#}
{% macro previous_published(table) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set log = adapter.get_relation(database=target.database, schema='published_state', identifier='publish_log') -%}
    {%- set schema = 'published_state' -%}
    {%- set parameters = adapter.get_relation(database=target.database, schema='tierflow', identifier='run_parameters') -%}
    {%- if log and parameters -%}
        {%- set rerun = run_query(
            "select count(*) from (select as_of_date from " ~ log ~ " order by published_at desc limit 1) as last_run "
            ~ "join " ~ parameters ~ " as p on p.as_of_date = last_run.as_of_date") -%}
        {%- if rerun.columns[0].values()[0] > 0 -%}
            {%- set schema = 'published_base' -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(adapter.get_relation(database=target.database, schema=schema, identifier=table)) }}
{%- endmacro %}
