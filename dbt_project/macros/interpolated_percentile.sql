{#- An aggregate: the percentile of `value` at 1-based `position` among rows numbered by `row_index`
    (row_number() over (order by value)), interpolated linearly between the two nearest rows, like
    percentile_cont. Written with plain aggregates so the fraction may come from data (the policy):
    percentile_cont needs a constant on DuckDB, and Spark spells it differently. `position` is
    1 + fraction * (rows - 1) and is the same on every row of a group. -#}
{% macro interpolated_percentile(value, row_index, position) -%}
    (
        min(case when {{ row_index }} = floor({{ position }}) then {{ value }} end)
        + (max({{ position }}) - max(floor({{ position }})))
        * (
            min(case when {{ row_index }} = ceil({{ position }}) then {{ value }} end)
            - min(case when {{ row_index }} = floor({{ position }}) then {{ value }} end)
        )
    )
{%- endmacro %}
