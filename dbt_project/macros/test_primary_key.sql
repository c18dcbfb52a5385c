{#- Generic test: `columns` are the model's key, so none of them is null and no two rows share their values;
    `not_null` names the model's other required columns, none of which may be null either. One scan and one
    dbt node per key, where `unique` and `not_null` per key column (or a uniqueness test of the combination
    plus a not_null per column), or a separate not_null_columns test of the other columns, cost a node each,
    ~0.1 s of dbt overhead apiece. On failure it returns one row per offending key: its values (a null among
    them), how many rows hold it and, per `not_null` column, how many of them hold a null there. -#}
{% test primary_key(model, columns, not_null=[]) %}
    with rows_per_key as (
        select
            {{ columns | join(', ') }},
            count(*) as rows_per_key
            {%- for column in not_null %},
            sum(case when {{ column }} is null then 1 else 0 end) as {{ column }}_nulls
            {%- endfor %}
        from {{ model }}
        group by {{ columns | join(', ') }}
    ),

    final as (
        select *
        from rows_per_key
        where
            rows_per_key > 1
            {%- for column in columns %}
            or {{ column }} is null
            {%- endfor %}
            {%- for column in not_null %}
            or {{ column }}_nulls > 0
            {%- endfor %}
    )

    select * from final
{% endtest %}
