{#- The relation holding `table` as of the last published run (schema published_state, written by the
    publish step), or none before the first publication. Callers fall back to an empty set:

        {%- set previous = previous_published('customer_tiers') %}
        {% if previous %} select ... from {{ previous }} {% else %} select ... where 1 = 0 {% endif %}
-#}
{% macro previous_published(table) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(adapter.get_relation(database=target.database, schema='published_state', identifier=table)) }}
{%- endmacro %}
