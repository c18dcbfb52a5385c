{#- Generic test: none of `columns` holds a null. One scan and one dbt node per model: a not_null test per
    column cost ~0.1 s of dbt overhead each (compile, run, events), most of a small run's dbt time. Keys
    keep their own unique + not_null tests. A row returned names a column and how many rows are null. -#}
{% test not_null_columns(model, columns) %}
    with null_counts as (
        select
            {%- for column in columns %}
            sum(case when {{ column }} is null then 1 else 0 end) as nulls_{{ loop.index }}{{ "," if not loop.last }}
            {%- endfor %}
        from {{ model }}
    ),

    final as (
        {%- for column in columns %}
        select '{{ column }}' as column_name, nulls_{{ loop.index }} as null_rows
        from null_counts
        where nulls_{{ loop.index }} > 0
        {{ "union all" if not loop.last }}
        {%- endfor %}
    )

    select * from final
{% endtest %}
