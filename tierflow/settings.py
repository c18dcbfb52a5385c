"""Operational settings, from the environment with embedded defaults (the CLI's flags override them).

Every field `x` reads `TIERFLOW_X`. Secrets are not settings: see `tierflow.secrets`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tierflow.paths import EXPECTATIONS_DIR, Home
from tierflow.policy.schema import DEFAULT_POLICY_PATH

# Names that end up in SQL as identifiers: validated, then quoted anyway.
IDENTIFIER = r"^[a-z_][a-z0-9_]{0,62}$"
BI_FILE_TARGETS = {"duckdb", "parquet"}


class SettingsError(ValueError):
    """A setting that cannot work; the message names the environment variable or flag."""


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    home: Path = Field(Path("tierflow_home"), description="TIERFLOW_HOME: warehouse, published tables, exports")
    landing: Path | None = Field(None, description="TIERFLOW_LANDING: landing zone (default <home>/landing)")
    policy: Path = Field(DEFAULT_POLICY_PATH, description="TIERFLOW_POLICY: tier policy YAML")
    expectations: Path = Field(EXPECTATIONS_DIR, description="TIERFLOW_EXPECTATIONS: suite directory")
    schedule_cron: str = Field("0 2 * * *", description="TIERFLOW_SCHEDULE_CRON: when the daily run starts")
    schedule_timezone: str | None = Field(None, description="TIERFLOW_SCHEDULE_TIMEZONE (default: policy's)")
    bi_targets: str = Field("duckdb,parquet", description="TIERFLOW_BI_TARGETS: duckdb and/or parquet (comma list)")
    pg_schema: str = Field("tierflow", pattern=IDENTIFIER, description="TIERFLOW_PG_SCHEMA: published schema")
    pg_reader_role: str | None = Field(
        None, pattern=IDENTIFIER, description="TIERFLOW_PG_READER_ROLE: role granted SELECT, nothing more"
    )
    target: Literal["duckdb", "postgres", "spark"] = Field(
        "duckdb", description="TIERFLOW_TARGET: engine dbt builds the models on"
    )
    crm_batch_size: int = Field(500, ge=1, le=10_000, description="TIERFLOW_CRM_BATCH_SIZE: changes per request")
    crm_timeout_seconds: float = Field(10.0, gt=0, le=300, description="TIERFLOW_CRM_TIMEOUT_SECONDS")
    crm_rate_limit: float = Field(5.0, gt=0, le=1000, description="TIERFLOW_CRM_RATE_LIMIT: requests per second")
    crm_max_attempts: int = Field(5, ge=1, le=50, description="TIERFLOW_CRM_MAX_ATTEMPTS per batch and run")
    retry_attempts: int = Field(
        3, ge=1, le=20, description="TIERFLOW_RETRY_ATTEMPTS: tries of a transient failure (PostgreSQL unreachable)"
    )
    retry_base_seconds: float = Field(
        10.0, ge=0, le=600, description="TIERFLOW_RETRY_BASE_SECONDS: first wait; doubled after each try"
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

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = {name: os.environ.get(f"TIERFLOW_{name.upper()}") for name in cls.model_fields}
        values = {k: v for k, v in {**env, **overrides}.items() if v is not None}
        try:
            return cls(**values)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise SettingsError(f"invalid tierflow settings: {problems}") from None
