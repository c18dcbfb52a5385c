{#- Tests on the big intermediate tables judge only the customers this run recomputed. Their `where` config
    says `__changed_customers__`; dbt calls get_where_subquery when it runs a test, and this override puts in
    its place the customers whose carried days this run computed (int_customer_days_accumulated.computed_run_id
    is this run's id). A full build computes every customer, so it tests whole tables; so does a run whose
    run parameters say is_full_audit (read only if that column exists). Published marts keep whole-table
    tests. The placeholder is resolved at run time, not at parse time, because the run id is only known then. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- if '__changed_customers__' in where -%}
            {%- set where = where | replace('__changed_customers__', changed_customers_filter()) -%}
        {%- endif -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {{ return(filtered) }}
    {%- else -%}
        {{ return(relation) }}
    {%- endif -%}
{%- endmacro %}

{#- `customer_id in (...)` for the customers this run recomputed, or `1=1` on a full audit. Relations are
    looked up in the graph rather than with ref(): a test's where config cannot add dependencies. -#}
{% macro changed_customers_filter() -%}
    {%- set days = carried_node_relation('int_customer_days_accumulated') -%}
    {%- set parameters = carried_node_relation('stg_tierflow__run_parameters') -%}
    {%- if days is none or parameters is none -%}{{ return('1=1') }}{%- endif -%}
    {%- set parameter_columns = adapter.get_columns_in_relation(parameters) | map(attribute='name') | map('lower') | list -%}
    {%- if 'is_full_audit' in parameter_columns -%}
        {%- set audit = run_query('select bool_or(is_full_audit) from ' ~ parameters).rows -%}
        {%- if audit | length == 1 and audit[0][0] -%}{{ return('1=1') }}{%- endif -%}
    {%- endif -%}
    {{ return(
        'customer_id in (select recomputed.customer_id from ' ~ days ~ ' as recomputed'
        ~ ' where recomputed.valid_until = ' ~ open_end_date()
        ~ ' and recomputed.computed_run_id in (select run_id from ' ~ parameters ~ '))'
    ) }}
{%- endmacro %}

{#- The relation of a model of this project by name, from the graph; none outside execution. -#}
{% macro carried_node_relation(name) -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.name == name and node.package_name == project_name -%}
            {{ return(adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias)) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(none) }}
{%- endmacro %}
