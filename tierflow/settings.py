"""Every setting of tierflow, from the environment with embedded defaults (the CLI's flags override them).

Each field `x` is read from `TIERFLOW_<X>`; secrets are `SecretStr` fields, never printed, logged or carried
into a Dagster resource's config. A `TIERFLOW_*` variable that is not a field is refused, so a typo cannot be
silently ignored. Variables named `TIERFLOW__*` (two underscores) are internal: tierflow sets them for its own
child processes (dbt's profile and macros) and tests set the fault-injection hook; they are listed in
`INTERNAL`, apart from the settings. `python -m tierflow.settings` prints the reference (docs/settings.md).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from tierflow.paths import EXPECTATIONS_DIR, Home
from tierflow.policy.schema import DEFAULT_POLICY_PATH

PREFIX = "TIERFLOW_"
INTERNAL_PREFIX = "TIERFLOW__"
# Names that end up in SQL as identifiers: validated, then quoted anyway.
IDENTIFIER = r"^[a-z_][a-z0-9_]{0,62}$"
BI_FILE_TARGETS = {"duckdb", "parquet"}
# Bounded, not DuckDB's own 80% of RAM: a run has two DuckDB processes at times (the pipeline and dbt's child).
# At 1 M customers the full run took no longer under 1500MB than under 2GB or unbounded, relative to the
# single-query floor, and the process tree peaked at 2.3 GB instead of 3.2 GB (2GB) or 14.5 GB (80%): see
# BENCHMARKS.md. Beyond it DuckDB spills into the home.
DEFAULT_MEMORY_LIMIT = "1500MB"

# Set by tierflow (or a test), never by a user: TIERFLOW__<name>.
INTERNAL = {
    "WAREHOUSE": "the DuckDB file dbt builds in (dbt_project/profiles.yml)",
    "DUCKDB_MEMORY_LIMIT": "dbt-duckdb's memory limit, from TIERFLOW_DUCKDB_MEMORY_LIMIT (profiles.yml)",
    "DUCKDB_TEMP_DIRECTORY": "where dbt-duckdb spills, inside the home (profiles.yml)",
    "DUCKDB_MAX_TEMP_SIZE": "dbt-duckdb's spill bound, from TIERFLOW_MAX_SPILL_GB (profiles.yml)",
    "DUCKDB_THREADS": "dbt-duckdb's DuckDB threads (profiles.yml)",
    "DBT_DUCKDB_CONNECT": "the warehouse file, spill directory and spill bound dbt-duckdb opens with, JSON "
    "(orchestration/adapters/dbt_duckdb.py)",
    "MAX_SPILL_GB": "the spill bound of the current run in GB, fixed when it starts (tierflow/warehouse.py)",
    "TARGET_PG_HOST": "host of the PostgreSQL target, from its DSN (profiles.yml)",
    "TARGET_PG_PORT": "port of the PostgreSQL target (profiles.yml)",
    "TARGET_PG_USER": "user of the PostgreSQL target (profiles.yml)",
    "TARGET_PG_PASSWORD": "password of the PostgreSQL target (profiles.yml)",
    "TARGET_PG_DBNAME": "database of the PostgreSQL target (profiles.yml)",
    "SPARK_HOME": "working directory of the local Spark target (profiles.yml)",
    "SPARK_LOG4J": "Spark's log4j2 configuration (profiles.yml)",
    "TARGET_EXCHANGE": "relations a target run reads and writes, JSON (macros/target_exchange.sql)",
    "DUCKDB_QUERY_LOG": "tests and diagnostics: a directory where dbt's DuckDB logs every query's SQL and rows "
    "scanned (orchestration/adapters/dbt_duckdb.py, read by `python -m bench.reads`)",
    "DUCKDB_MAX_VACUUM_TASKS": "tests: DuckDB's max_vacuum_tasks on every connection of a run; 0 stops "
    "checkpoints merging row groups, which keeps a test's small row groups (tests/test_incremental_reads.py)",
    "FAULT_POINT": "crash tests: kill the run at these named fault points (tierflow/faults.py)",
    "PLAIN_ADAPTERS": "benchmark: run without the private-API speed-ups, `1` or a comma list of libraries "
    "(orchestration/adapters)",
    "TEST_PG_DSN": "tests: the PostgreSQL database the test suite may create schemas and databases in",
    "TEST_PROFILE": "tests: `slow` runs the long profile of the property tests (100 or more examples)",
}


class SettingsError(ValueError):
    """A setting that cannot work; the message names the environment variable or flag."""


def variable(field: str) -> str:
    """The environment variable of a settings field."""
    return PREFIX + field.upper()


def internal_variable(name: str) -> str:
    if name not in INTERNAL:
        raise KeyError(f"{INTERNAL_PREFIX}{name} is not an internal variable of tierflow")
    return INTERNAL_PREFIX + name


def internal_value(name: str) -> str | None:
    """The value of an internal variable (TIERFLOW__<name>), None when unset or empty."""
    return os.environ.get(internal_variable(name)) or None


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    home: Path = Field(Path("tierflow_home"), description="Warehouse, published tables, exports, run history.")
    landing: Path | None = Field(None, description="Landing zone with orders/, profiles/, events/.")
    policy: Path = Field(DEFAULT_POLICY_PATH, description="Tier policy YAML (the shipped policy).")
    expectations: Path = Field(EXPECTATIONS_DIR, description="Directory of Great Expectations suites.")
    overrides: Path | None = Field(
        None,
        description="Manual tier overrides CSV, relative to the landing zone or the home (the policy's `overrides`).",
    )
    schedule_cron: str = Field("0 2 * * *", description="When the daily run starts (five-field cron).")
    schedule_timezone: str | None = Field(None, description="Time zone of the schedule (the policy's).")
    target: Literal["duckdb", "postgres", "spark"] = Field("duckdb", description="Where dbt builds the models.")
    target_pg_dsn: SecretStr | None = Field(
        None, description="PostgreSQL database dbt builds in with target postgres, when not TIERFLOW_PG_DSN's."
    )
    duckdb_memory_limit: str = Field(
        DEFAULT_MEMORY_LIMIT,
        pattern=r"^\s*\d+(\.\d+)?\s*([KMGT]i?B|B|%)\s*$",
        description="Memory limit of every DuckDB connection of a run, e.g. 2GB, 500MB, 60%; beyond it DuckDB "
        "spills into the home.",
    )
    max_spill_gb: float | None = Field(
        None,
        gt=0,
        description="Most disk, in GB, DuckDB may spill to during a run (every connection, dbt's too); unset: the "
        "smaller of 40 and half the free disk of the spill directory when the run starts. A run that would spill "
        "more stops (exit 1) naming the step; the published outputs stay as they were.",
    )
    bi_targets: str = Field("duckdb,parquet", description="BI file targets: duckdb and/or parquet (comma list).")
    pg_dsn: SecretStr | None = Field(
        None, description="PostgreSQL DSN; publishes there when set (and serves target postgres too)."
    )
    pg_schema: str = Field("tierflow", pattern=IDENTIFIER, description="PostgreSQL schema of the published tables.")
    pg_reader_role: str | None = Field(
        None, pattern=IDENTIFIER, description="PostgreSQL role granted SELECT on the published tables, nothing more."
    )
    retry_attempts: int = Field(3, ge=1, le=20, description="Tries of a transient failure (PostgreSQL unreachable).")
    retry_base_seconds: float = Field(10.0, ge=0, le=600, description="First wait between tries; doubled after each.")
    hash_salt: SecretStr = Field(
        SecretStr(""), description="Mixed into exported e-mail hashes so they cannot be matched to other lists."
    )
    crm_webhook_url: SecretStr | None = Field(None, description="CRM webhook; runs send their deltas there.")
    crm_webhook_token: SecretStr | None = Field(None, description="Bearer token sent to the CRM webhook.")
    crm_batch_size: int = Field(500, ge=1, le=10_000, description="CRM changes per webhook request.")
    crm_timeout_seconds: float = Field(10.0, gt=0, le=300, description="Timeout of one webhook request.")
    crm_rate_limit: float = Field(5.0, gt=0, le=1000, description="Webhook requests per second, at most.")
    crm_max_attempts: int = Field(5, ge=1, le=50, description="Tries of one webhook batch per run.")
    alert_webhook_url: SecretStr | None = Field(
        None, description="Failed runs POST a Slack-compatible alert there when set."
    )
    dagster_pg_url: SecretStr | None = Field(
        None,
        description="PostgreSQL storage of a deployed Dagster instance, read by Dagster from deploy/dagster.yaml "
        "(postgresql+psycopg2://…).",
    )

    @field_validator("schedule_cron")
    @classmethod
    def _five_fields(cls, value: str) -> str:
        if len(value.split()) != 5:
            raise ValueError(f"{value!r} is not a five-field cron expression such as '0 2 * * *'")
        return value

    @field_validator("bi_targets")
    @classmethod
    def _known_targets(cls, value: str) -> str:
        targets = [t.strip() for t in value.split(",") if t.strip()]
        unknown = sorted(set(targets) - BI_FILE_TARGETS)
        if unknown:
            raise ValueError(
                f"unknown target(s) {', '.join(unknown)}: use duckdb and/or parquet "
                "(PostgreSQL is enabled by TIERFLOW_PG_DSN)"
            )
        return ",".join(targets)

    @property
    def landing_dir(self) -> Path:
        return self.landing or self.home / "landing"

    @property
    def layout(self) -> Home:
        return Home(self.home.resolve())

    def secret(self, name: str) -> str | None:
        """The value of a secret field, None when unset or empty."""
        value = getattr(self, name)
        return value.get_secret_value() or None if value is not None else None

    @property
    def target_dsn(self) -> str | None:
        """The database dbt builds in with target postgres: its own DSN, else the publication's."""
        return self.secret("target_pg_dsn") or self.secret("pg_dsn")

    @classmethod
    def secret_fields(cls) -> list[str]:
        return [name for name, field in cls.model_fields.items() if "SecretStr" in str(field.annotation)]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from `environ` (the process environment), then `overrides` (the CLI's flags; None = unset)."""
        environ = os.environ if environ is None else environ
        unknown = sorted(
            name
            for name in environ
            if name.startswith(PREFIX)
            and not name.startswith(INTERNAL_PREFIX)
            and name.removeprefix(PREFIX).lower() not in cls.model_fields
        )
        if unknown:
            known = ", ".join(variable(name) for name in cls.model_fields)
            raise SettingsError(f"unknown setting {', '.join(unknown)}: tierflow knows {known} (see docs/settings.md)")
        from_env = {name: environ.get(variable(name)) or None for name in cls.model_fields}
        flags = {name: value for name, value in overrides.items() if value is not None}
        values = {name: value for name, value in {**from_env, **flags}.items() if value is not None}
        try:
            return cls(**values)
        except ValidationError as exc:
            problems = []
            for error in exc.errors():
                name = str(error["loc"][0]) if error["loc"] else ""
                where = f"--{name.replace('_', '-')}" if name in flags else variable(name)
                shown = "" if name in cls.secret_fields() else f"={values.get(name)!s}"
                problems.append(f"{where}{shown}: {error['msg']}")
            raise SettingsError(f"invalid tierflow settings: {'; '.join(problems)}") from None


def reference() -> str:
    """docs/settings.md: every setting with its variable, default and meaning, then the internal variables."""
    from tierflow.paths import REPO_ROOT

    def shown_default(name: str) -> str:
        field = Settings.model_fields[name]
        if name in Settings.secret_fields() or field.default is None:
            return "`<home>/landing`" if name == "landing" else "unset"
        default = field.default
        if isinstance(default, Path) and default.is_absolute():
            default = default.relative_to(REPO_ROOT)
        return f"`{default}`"

    lines = [
        "# Settings",
        "",
        "Generated from `tierflow/settings.py` by `python -m tierflow.settings > docs/settings.md`; do not edit.",
        "",
        "Every setting is an environment variable; a command-line flag, where one exists, wins over it. A "
        "`TIERFLOW_*` variable that is not listed here is refused (exit 2), so a misspelt name cannot be ignored. "
        "Secrets are read from the environment and never logged, printed or stored in run summaries.",
        "",
        "| variable | default | secret | meaning |",
        "| --- | --- | --- | --- |",
    ]
    secrets = Settings.secret_fields()
    for name, field in Settings.model_fields.items():
        secret = "yes" if name in secrets else ""
        lines.append(f"| `{variable(name)}` | {shown_default(name)} | {secret} | {field.description} |")
    lines += [
        "",
        "## Internal variables",
        "",
        "Set by tierflow for its own child processes (dbt's profile and macros) or by tests; not settings, not "
        "for users. They are named with two underscores, and are not refused.",
        "",
        "| variable | what it carries |",
        "| --- | --- |",
        *(f"| `{INTERNAL_PREFIX}{name}` | {meaning} |" for name, meaning in INTERNAL.items()),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(reference(), end="")
