"""What DuckDB memory settings tierflow actually runs with, read from the real connection helper (the
pipeline's own connections) and dbt's profile, not from documentation."""

import tempfile
from pathlib import Path

import yaml

from tierflow import warehouse
from tierflow.paths import DBT_PROJECT_DIR, Home
from tierflow.settings import Settings

SETTINGS = ("memory_limit", "temp_directory", "preserve_insertion_order", "threads")


def memory_knobs() -> dict:
    settings = Settings.from_env()
    with tempfile.TemporaryDirectory() as tmp:
        # A connection to a warehouse in a throw-away home, opened exactly as the pipeline opens its own.
        with warehouse.connect(Home(Path(tmp)).warehouse) as con:
            pipeline = {name: str(con.execute("select current_setting(?)", [name]).fetchone()[0]) for name in SETTINGS}
        pipeline["temp_directory"] = pipeline["temp_directory"].replace(tmp, "<home>")
    profile = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text(encoding="utf-8"))
    output = profile["tierflow"]["outputs"]["duckdb"]
    return {
        "pipeline_connection": pipeline,
        # `config_options` are given when dbt-duckdb opens the database, `settings` are SET on every cursor.
        "dbt_profile_settings": {
            k: str(v) for k, v in {**(output.get("config_options") or {}), **(output.get("settings") or {})}.items()
        },
        "dbt_threads": output.get("threads"),
        "memory_limit_setting": "duckdb_memory_limit" in Settings.model_fields,
        # The limit only when it was set for this benchmark (TIERFLOW_DUCKDB_MEMORY_LIMIT), not the default.
        "memory_limit_env": settings.duckdb_memory_limit
        if "duckdb_memory_limit" in settings.model_fields_set
        else None,
    }
