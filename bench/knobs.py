"""What DuckDB memory settings tierflow actually runs with, read from the real connection helper (the
pipeline's own connections) and dbt's profile, not from documentation."""

import os
import tempfile
from pathlib import Path

import yaml

from tierflow import warehouse
from tierflow.paths import DBT_PROJECT_DIR, Home
from tierflow.settings import Settings

SETTINGS = ("memory_limit", "temp_directory", "preserve_insertion_order", "threads")
MEMORY_LIMIT_ENV = "TIERFLOW_DUCKDB_MEMORY_LIMIT"


def memory_knobs() -> dict:
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
        "memory_limit_setting": getattr(warehouse, "MEMORY_LIMIT_ENV", None) == MEMORY_LIMIT_ENV
        or "duckdb_memory_limit" in Settings.model_fields,
        "memory_limit_env": os.environ.get(MEMORY_LIMIT_ENV),
    }
