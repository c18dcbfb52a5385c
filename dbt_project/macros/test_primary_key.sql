{#- Generic test: `columns` are the model's key, so none of them is null and no two rows share their values.
    One scan and one dbt node per key, where `unique` and `not_null` per key column (or a uniqueness test of
    the combination plus a not_null per column) cost a node each, ~0.1 s of dbt overhead apiece. On failure
    it returns one row per offending key: its values (a null among them) and how many rows hold it. -#}
{% test primary_key(model, columns) %}
    with rows_per_key as (
        select
            {{ columns | join(', ') }},
            count(*) as rows_per_key
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
    )

    select * from final
{% endtest %}
