"""The benchmark harness of issue 7: tierflow against a naive pandas computation and a single DuckDB query.

Modules: ``__main__`` (the command), ``landing`` (cached landing zones), ``measure`` (fresh process, wall
time, peak memory of the process tree), ``references`` (pandas and DuckDB), ``harness`` (one size and
format), ``stages`` (Dagster event log and dbt timings), ``knobs`` (DuckDB memory settings in effect),
``report`` (BENCHMARKS.md).
"""
