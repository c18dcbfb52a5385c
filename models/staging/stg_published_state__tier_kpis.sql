-- The tier KPI history as last published before this run's as-of date (the columns tier_kpis computes;
-- rows published before notices existed carry null counts, see tierflow/publish/state.py).
{%- set notices = [] %}
{%- for notice_type in notice_types() %}{% do notices.append('notices_' ~ notice_type) %}{% endfor %}
{{ last_published(
    'tier_kpis', ['as_of_date', 'tier', 'tier_name', 'tier_rank'] + kpi_columns() + ['source_run_id'] + notices
) }}
