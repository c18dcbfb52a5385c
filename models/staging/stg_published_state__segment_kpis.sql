-- The segment KPI history as last published before this run's as-of date (the columns segment_kpis computes).
{{ last_published('segment_kpis', ['as_of_date', 'dimension', 'segment'] + kpi_columns() + ['source_run_id']) }}
