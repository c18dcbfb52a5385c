{#- The `columns` of `table` as of the last publication before this run's as-of date, for the staging models
    stg_published_state__<table> (their only caller). Publication keeps the last published tables in the
    published_state source and, when it moves to a new as-of date, the ones it replaced in published_base
    (see tierflow/publish/state.py): a re-run of the last published date reads published_base, so it computes
    exactly what the first run of that date computed. Both sources always exist (empty before the first
    publication), so the choice is made in SQL, not by inspecting the warehouse. -#}
{% macro last_published(table, columns) -%}
with

run_parameters as (

    select as_of_date from {{ source('tierflow', 'run_parameters') }}

),

publish_log as (

    select as_of_date, published_at from {{ source('published_state', 'publish_log') }}

),

last_publication as (

    select as_of_date
    from publish_log
    where published_at = (select max(published_at) from publish_log)

),

rerun as (

    select count(*) > 0 as is_rerun
    from last_publication
    inner join run_parameters
        on last_publication.as_of_date = run_parameters.as_of_date

),

current_state as (

    select * from {{ source('published_state', table) }}

),

base_state as (

    select * from {{ source('published_base', table) }}

),

final as (

    select {% for column in columns %}current_state.{{ column }}{{ ", " if not loop.last }}{% endfor %}
    from current_state
    cross join rerun
    where not rerun.is_rerun

    union all

    select {% for column in columns %}base_state.{{ column }}{{ ", " if not loop.last }}{% endfor %}
    from base_state
    cross join rerun
    where rerun.is_rerun

)

select * from final
{%- endmacro %}
