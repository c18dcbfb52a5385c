{#- Generic test: every column of `values` (a mapping column -> its accepted values) holds one of them or
    null, as dbt's accepted_values checks one column. One scan and one dbt node per model instead of one per
    column. A string is compared quoted, a number or boolean as it is (accepted_values' `quote: false`). On
    failure it returns one row per column and value outside the list: column_name, unaccepted_value (as
    text) and n_records. The scan keeps only rows with such a value, so a passing table joins nothing. -#}
{% test accepted_values_by_column(model, values) %}
    with flagged as (
        select
            {%- for column, accepted in values.items() %}
            {{ column }},
            {{ column }} not in ({{ accepted_value_literals(accepted) }}) as {{ column }}__is_outside
            {{- "," if not loop.last }}
            {%- endfor %}
        from {{ model }}
    ),

    rows_outside as (
        select *
        from flagged
        where
            {%- for column in values %}
            {{ column }}__is_outside{{ " or" if not loop.last }}
            {%- endfor %}
    ),

    checked_columns as (
        {%- for column in values %}
        select '{{ column }}' as column_name{{ " union all" if not loop.last }}
        {%- endfor %}
    ),

    unaccepted as (
        select
            checked_columns.column_name,
            case
                {%- for column in values %}
                when checked_columns.column_name = '{{ column }}' and rows_outside.{{ column }}__is_outside
                    then cast(rows_outside.{{ column }} as {{ dbt.type_string() }})
                {%- endfor %}
            end as unaccepted_value
        from rows_outside
        cross join checked_columns
    ),

    final as (
        select
            column_name,
            unaccepted_value,
            count(*) as n_records
        from unaccepted
        where unaccepted_value is not null
        group by column_name, unaccepted_value
    )

    select * from final
{% endtest %}

{#- The SQL literals of a list of accepted values: strings quoted (escaped for the adapter), booleans as
    true/false, numbers as they are. -#}
{% macro accepted_value_literals(accepted) -%}
    {%- for value in accepted -%}
        {%- if value is string -%}
            '{{ dbt.escape_single_quotes(value) }}'
        {%- elif value is sameas true or value is sameas false -%}
            {{ 'true' if value else 'false' }}
        {%- else -%}
            {{ value }}
        {%- endif -%}
        {{- ", " if not loop.last -}}
    {%- endfor -%}
{%- endmacro %}
