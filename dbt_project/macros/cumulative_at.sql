{#- Join the cumulative facts row of `customer_expr` that is valid on `date_expr` (the running totals of
    every counted date up to and including it). With no fact by then nothing joins: treat the totals as 0.
    A sum over the window (start, end] is then cum(end) - cum(start), with no aggregate at the lookup:

        {{ cumulative_at('facts', 'at_end', 'spine.customer_id', 'spine.day_date') }}
-#}
{% macro cumulative_at(alias, join_alias, customer_expr, date_expr) -%}
    left join {{ alias }} as {{ join_alias }}
        on {{ join_alias }}.customer_id = {{ customer_expr }}
        and {{ join_alias }}.valid_from <= {{ date_expr }}
        and {{ date_expr }} < {{ join_alias }}.valid_until
{%- endmacro %}

{#- The total of `measure` over (start, end] from two cumulative_at joins. -#}
{% macro cumulative_between(start_alias, end_alias, measure) -%}
    (coalesce({{ end_alias }}.cumulative_{{ measure }}, 0) - coalesce({{ start_alias }}.cumulative_{{ measure }}, 0))
{%- endmacro %}

{#- The day number of a date (days since 1970-01-01), so the tier engine's recursion compares integers. -#}
{% macro day_number(date_expr) -%}
    cast({{ dbt.datediff("cast('1970-01-01' as date)", date_expr, 'day') }} as integer)
{%- endmacro %}

{#- The date of a day number. -#}
{% macro date_of_day_number(number_expr) -%}
    cast({{ dbt.dateadd('day', number_expr, "cast('1970-01-01' as date)") }} as date)
{%- endmacro %}
