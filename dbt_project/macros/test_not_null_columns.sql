{#- Generic test: none of `columns` holds a null. One scan and one dbt node per model: a not_null test per
    column cost ~0.1 s of dbt overhead each (compile, run, events), most of a small run's dbt time. Key
    columns are left to primary_key (test_primary_key.sql). On failure it returns one row: every column's
    null count. -#}
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
