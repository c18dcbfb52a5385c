{#- Generic test: none of `columns` holds a null. One scan and one dbt node per model: a not_null test per
    column cost ~0.1 s of dbt overhead each (compile, run, events), most of a small run's dbt time. For
    models without a key only: a model with one lists its required columns in primary_key's `not_null`
    (test_primary_key.sql), which checks them in the key's scan and node. On failure it returns one row:
    every column's null count. -#}
{% test not_null_columns(model, columns) %}
    with null_counts as (
        select
            {%- for column in columns %}
            sum(case when {{ column }} is null then 1 else 0 end) as {{ column }}_nulls{{ "," if not loop.last }}
            {%- endfor %}
        from {{ model }}
    ),

    final as (
        select *
        from null_counts
        where
            {%- for column in columns %}
            {{ column }}_nulls > 0{{ " or" if not loop.last }}
            {%- endfor %}
    )

    select * from final
{% endtest %}
