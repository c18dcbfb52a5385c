{#- `date_expr` minus `days` days, as a date. A window of N days as of D holds the dates d with
    days_before(D, N) < d <= D. -#}
{% macro days_before(date_expr, days) -%}
    cast({{ dbt.dateadd('day', '-1 * (' ~ days ~ ')', date_expr) }} as date)
{%- endmacro %}
