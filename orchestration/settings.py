"""Operational settings, from the environment with embedded defaults (the CLI's flags override them)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from orchestration.paths import EXPECTATIONS_DIR, Home
from orchestration.policy import DEFAULT_POLICY_PATH


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

    @field_validator("schedule_cron")
    @classmethod
    def _five_fields(cls, value: str) -> str:
        if len(value.split()) != 5:
            raise ValueError(f"{value!r} is not a five-field cron expression such as '0 2 * * *'")
        return value

    @property
    def landing_dir(self) -> Path:
        return self.landing or self.home / "landing"

    @property
    def layout(self) -> Home:
        return Home(self.home.resolve())

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = {
            "home": os.environ.get("TIERFLOW_HOME"),
            "landing": os.environ.get("TIERFLOW_LANDING"),
            "policy": os.environ.get("TIERFLOW_POLICY"),
            "expectations": os.environ.get("TIERFLOW_EXPECTATIONS"),
            "schedule_cron": os.environ.get("TIERFLOW_SCHEDULE_CRON"),
            "schedule_timezone": os.environ.get("TIERFLOW_SCHEDULE_TIMEZONE"),
        }
        values = {k: v for k, v in {**env, **overrides}.items() if v is not None}
        try:
            return cls(**values)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise SettingsError(f"invalid tierflow settings: {problems}") from None
