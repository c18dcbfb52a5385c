{#- Generic test: `columns` are the model's key, so none of them is null and no two rows share their values;
    `not_null` names the model's other required columns, none of which may be null either. One dbt node per
    key, where `unique` and `not_null` per key column (or a uniqueness test of the combination plus a not_null
    per column), or a separate not_null_columns test of the other columns, cost a node each, ~0.1 s of dbt
    overhead apiece. The null counts are one plain aggregate beside the key's group-by, not sums carried in
    it: a group-by over millions of keys holds every aggregate per key, and spills. On failure it returns one
    row per offending key (its values, a null among them, and how many rows hold it) and, when a required
    column holds a null, one row with every such column's null count. -#}
{% test primary_key(model, columns, not_null=[]) %}
    with rows_per_key as (
        select
            {{ columns | join(', ') }},
            count(*) as rows_per_key
        from {{ model }}
        group by {{ columns | join(', ') }}
    ),

    offending_keys as (
        select *
        from rows_per_key
        where
            rows_per_key > 1
            {%- for column in columns %}
            or {{ column }} is null
            {%- endfor %}
    ),

    {%- if not_null %}

    null_counts as (
        select
            {%- for column in not_null %}
            sum(case when {{ column }} is null then 1 else 0 end) as {{ column }}_nulls{{ "," if not loop.last }}
            {%- endfor %}
        from {{ model }}
    ),
    {%- endif %}

    final as (
        select
            offending_keys.*
            {%- for column in not_null %},
            cast(null as {{ dbt.type_bigint() }}) as {{ column }}_nulls
            {%- endfor %}
        from offending_keys
        {%- if not_null %}

        union all

        select
            {%- for column in columns %}
            null as {{ column }},
            {%- endfor %}
            cast(null as {{ dbt.type_bigint() }}) as rows_per_key
            {%- for column in not_null %},
            null_counts.{{ column }}_nulls
            {%- endfor %}
        from null_counts
        where
            {%- for column in not_null %}
            null_counts.{{ column }}_nulls > 0{{ " or" if not loop.last }}
            {%- endfor %}
        {%- endif %}
    )

    select * from final
{% endtest %}
