{#- The rows of `table` as last published, for as-of dates other than this run's: the history that KPI
    marts carry forward (a re-run of a date replaces that date's rows). Before the first publication it is
    an empty set shaped like `empty_like`. The caller has a `run_parameters` CTE and selects its own columns
    in the published table's order, followed by policy_version and run_id. `added` ({column: expression})
    names columns added to the table after it was first published, last in the caller's order: a
    publication without them gets the expression (null, typically). -#}
{% macro published_history(table, empty_like, added={}) -%}
    {%- set previous = previous_published(table) -%}
    {%- if previous -%}
        {%- set columns = adapter.get_columns_in_relation(previous)
            | map(attribute='name') | reject('in', ['policy_version', 'run_id']) | list -%}
        {%- set missing = [] -%}
        {%- for column, default in added.items() if column not in columns -%}
            {%- do missing.append(default ~ ' as ' ~ column) -%}
        {%- endfor %}
    select
        {% for column in columns %}previous.{{ column }}{{ ", " if not loop.last }}{% endfor %}
        {%- for expression in missing %}, {{ expression }}{% endfor %}
    from {{ previous }} as previous
    cross join run_parameters
    where previous.as_of_date <> run_parameters.as_of_date
    {%- else -%}
    select * from {{ empty_like }} where 1 = 0
    {%- endif -%}
{%- endmacro %}
