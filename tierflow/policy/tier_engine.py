"""Policy keys of the stateful tier engine: qualification period, keep thresholds, downgrades, points and
overrides. Imported by `tierflow.policy.schema`; kept apart because it is its own concern."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tierflow.policy.columns import column

# Event types become values in SQL filters and published rows; the same rule as tier codes.
EVENT_TYPE_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
CATEGORY_MAX_LENGTH = 64


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Qualification(_Strict):
    # rolling: the last window_days; calendar_year: 1 Jan to date; membership_year: from the last signup
    # anniversary to date.
    period: Literal["rolling", "calendar_year", "membership_year"] = Field(
        "rolling", json_schema_extra=column("policy_engine.qualification_period")
    )
    window_days: int = Field(365, ge=1, le=3660, json_schema_extra=column("run_parameters.qualification_window_days"))
    # An order counts only once it is this many days old (a buy-then-refund cannot win a tier).
    pending_days: int = Field(0, ge=0, le=365, json_schema_extra=column("policy_engine.pending_days"))


class Keep(_Strict):
    """Thresholds to keep a tier at an evaluation (each at most the threshold to enter it)."""

    min_spend: Decimal | None = Field(None, ge=0, max_digits=18, decimal_places=2)
    min_orders: int | None = Field(None, ge=0)
    min_points: int | None = Field(None, ge=0)


# Calendar anchors are the first day of every every_months-th month from January, so the period must
# divide the year (or be whole years).
CALENDAR_MONTHS = {1, 2, 3, 4, 6, 12, 24, 36}


class Downgrade(_Strict):
    mode: Literal["immediate", "periodic"] = Field("periodic", json_schema_extra=column("policy_engine.downgrade_mode"))
    every_months: int = Field(12, ge=1, le=120, json_schema_extra=column("policy_engine.downgrade_every_months"))
    anchor: Literal["calendar", "anniversary"] = Field(
        "calendar", json_schema_extra=column("policy_engine.downgrade_anchor")
    )
    max_drop: int | None = Field(None, ge=1, le=20, json_schema_extra=column("policy_engine.downgrade_max_drop"))
    min_stay_days: int = Field(0, ge=0, le=3660, json_schema_extra=column("policy_engine.downgrade_min_stay_days"))
    inactive_days: int | None = Field(
        None, ge=1, le=3660, json_schema_extra=column("policy_engine.downgrade_inactive_days")
    )

    @model_validator(mode="after")
    def _calendar_months_divide_the_year(self) -> Downgrade:
        if self.mode == "periodic" and self.anchor == "calendar" and self.every_months not in CALENDAR_MONTHS:
            allowed = ", ".join(str(m) for m in sorted(CALENDAR_MONTHS))
            raise ValueError(f"every_months: with anchor calendar it must be one of {allowed}")
        return self


class Multiplier(_Strict):
    """Points are multiplied by `factor` for orders on local dates start_date..end_date (both included),
    optionally only in some product categories."""

    name: str = Field(min_length=1, max_length=64)
    start_date: date
    end_date: date
    categories: list[str] | None = Field(None, min_length=1, max_length=100)
    factor: Decimal = Field(gt=0, le=100, max_digits=8, decimal_places=4)

    @model_validator(mode="after")
    def _dates_in_order(self) -> Multiplier:
        if self.end_date < self.start_date:
            raise ValueError(f"multiplier {self.name!r}: end_date {self.end_date} is before {self.start_date}")
        for category in self.categories or []:
            if not category or len(category) > CATEGORY_MAX_LENGTH:
                raise ValueError(f"multiplier {self.name!r}: categories must be 1-{CATEGORY_MAX_LENGTH} characters")
        return self


class Points(_Strict):
    per_unit: Decimal = Field(
        Decimal(1),
        ge=0,
        le=1000,
        max_digits=10,
        decimal_places=4,
        json_schema_extra=column("policy_engine.points_per_unit"),
    )
    multipliers: list[Multiplier] = Field(default_factory=list, max_length=200)
    events: dict[str, int] = Field(default_factory=dict, max_length=50)
    expire_days: int | None = Field(None, ge=1, le=3660, json_schema_extra=column("policy_engine.points_expire_days"))

    @model_validator(mode="after")
    def _events_are_safe(self) -> Points:
        for event_type, points in self.events.items():
            if not re.match(EVENT_TYPE_PATTERN, event_type):
                raise ValueError(f"events.{event_type}: event types are lower-case letters, digits and _")
            if points < 0:
                raise ValueError(f"events.{event_type}: points must not be negative, got {points}")
        return self


def overrides_location(policy_overrides: str | None, setting: str | None) -> str | None:
    """The overrides file named by the setting (TIERFLOW_OVERRIDES), else by the policy."""
    return setting or policy_overrides
