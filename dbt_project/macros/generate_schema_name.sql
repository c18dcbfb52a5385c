{#- Use the folder's schema (staging, intermediate, marts, reference) as it is, not prefixed with the
    target schema: the published tables must have stable, predictable names. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
