{#- Tests on the big intermediate tables judge only the customers this run recomputed. Their `where` config
    says `__changed_customers__`, `__resummarised_customers__` or `__regrouped_customers__`; dbt calls
    get_where_subquery when it runs a test, and this override puts in its place the customers whose carried
    rows this run computed (the rows' computed_run_id is this run's id). A full build computes every customer,
    so it tests whole tables; so does a run whose run parameters say is_full_audit (read only if that column
    exists). Published marts keep whole-table tests. The placeholder is resolved at run time, not at parse
    time, because the run id is only known then. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where == '__loaded_this_run__' -%}
        {{ return('(' ~ loaded_this_run(relation) ~ ') dbt_subquery') }}
    {%- elif where -%}
        {#- a namespace: a plain set inside a loop does not outlive it -#}
        {%- set resolved = namespace(where=where) -%}
        {%- for placeholder, carried in changed_customer_placeholders().items() if placeholder in where -%}
            {%- set resolved.where = resolved.where | replace(placeholder, changed_customers_filter(*carried)) -%}
        {%- endfor -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ resolved.where }}) dbt_subquery
        {%- endset -%}
        {{ return(filtered) }}
    {%- else -%}
        {{ return(relation) }}
    {%- endif -%}
{%- endmacro %}

{#- The placeholders a test's where config may hold: the carried table whose recomputed customers each stands
    for, the customer days (what the tier engine recomputes) or the order summaries, and which of its rows
    to read (a customer's last day is enough). -#}
{% macro changed_customer_placeholders() -%}
    {{ return({
        '__changed_customers__': ('int_customer_days_accumulated', 'recomputed.valid_until = ' ~ open_end_date()),
        '__resummarised_customers__': ('int_customer_orders_summarised', '1=1'),
        '__regrouped_customers__': ('int_customer_order_groups_summarised', '1=1'),
    }) }}
{%- endmacro %}

{#- `customer_id in (...)` for the customers this run recomputed in the carried table `carried` (rows whose
    computed_run_id is this run's), or `1=1` on a full audit. Relations are looked up in the graph rather than
    with ref(): a test's where config cannot add dependencies. -#}
{% macro changed_customers_filter(carried, rows) -%}
    {%- set recomputed = carried_node_relation(carried) -%}
    {%- set parameters = carried_node_relation('stg_tierflow__run_parameters') -%}
    {%- if recomputed is none or parameters is none -%}{{ return('1=1') }}{%- endif -%}
    {%- if is_full_audit(parameters) -%}{{ return('1=1') }}{%- endif -%}
    {{ return(
        'customer_id in (select recomputed.customer_id from ' ~ recomputed ~ ' as recomputed'
        ~ ' where ' ~ rows ~ ' and recomputed.computed_run_id in (select run_id from ' ~ parameters ~ '))'
    ) }}
{%- endmacro %}

{#- Whether this run is a full audit (its run parameters say is_full_audit; read only if that column exists). -#}
{% macro is_full_audit(parameters) -%}
    {%- set parameter_columns = adapter.get_columns_in_relation(parameters) | map(attribute='name') | map('lower') | list -%}
    {%- if 'is_full_audit' not in parameter_columns -%}{{ return(false) }}{%- endif -%}
    {%- set audit = run_query('select bool_or(is_full_audit) from ' ~ parameters).rows -%}
    {{ return(audit | length == 1 and audit[0][0]) }}
{%- endmacro %}

{#- `where: __loaded_this_run__` on a landing staging view: its tests judge the rows this run loaded or changed
    in place, as the landing suites do (orchestration/defs/gates.py, judged_rows); earlier rows were judged by
    the run that loaded them. Every row on a full audit, and on an engine without the file bookkeeping
    (landing.ingested_files stays in the DuckDB warehouse). A run's loads are the latest, so its rows are
    those changed since the load before its first (changed_since, which lets DuckDB skip earlier loads). -#}
{% macro loaded_this_run(relation) -%}
    {%- set everything = 'select * from ' ~ relation -%}
    {%- set parameters = carried_node_relation('stg_tierflow__run_parameters') -%}
    {%- if parameters is none or is_full_audit(parameters) -%}{{ return(everything) }}{%- endif -%}
    {%- set files = adapter.get_relation(database=parameters.database, schema='landing', identifier='ingested_files') -%}
    {%- if files is none -%}{{ return(everything) }}{%- endif -%}
    {%- set bounds = run_query(
        'select min(load_seq) from ' ~ files ~ ' where run_id in (select run_id from ' ~ parameters ~ ')'
    ).rows -%}
    {%- if bounds[0][0] is none -%}{{ return(everything ~ ' where false') }}{%- endif -%}
    {{ return('select * from ' ~ changed_since(relation, bounds[0][0] - 1) ~ ' as loaded') }}
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
