"""The declarative tier policy: a YAML file validated into a `Policy`.

Validation errors name the key path and the rule broken, so an operator can fix the file without reading code.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tierflow.policy.columns import column
from tierflow.policy.gates import Gates
from tierflow.policy.notices import Notices
from tierflow.policy.tier_engine import Downgrade, Keep, Points, Qualification

DEFAULT_POLICY_PATH = Path(__file__).parent / "default.yml"

# Tier codes end up as values in published tables and in CRM lists; keep them boring and safe.
TIER_CODE_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"


class PolicyError(ValueError):
    """A policy file that cannot be read or does not validate; the message is meant for the operator."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Lifecycle(_Strict):
    """Day thresholds of the lifecycle stages (days since the last order, as of the as-of date)."""

    new_days: int = Field(30, ge=1, le=3660, json_schema_extra=column("run_parameters.new_days"))
    active_days: int = Field(90, ge=1, le=3660, json_schema_extra=column("run_parameters.active_days"))
    dormant_days: int = Field(180, ge=1, le=3660, json_schema_extra=column("run_parameters.dormant_days"))
    churned_days: int = Field(365, ge=1, le=3660, json_schema_extra=column("run_parameters.churned_days"))
    # personal: members with 3+ orders are at_risk once the days since their last order exceed twice their
    # own median gap between orders (fast buyers slip sooner, slow buyers later).
    cadence: Literal["fixed", "personal"] = Field("fixed", json_schema_extra=column("run_parameters.lifecycle_cadence"))

    @model_validator(mode="after")
    def _stages_are_ordered(self) -> Lifecycle:
        if not self.new_days <= self.active_days < self.dormant_days < self.churned_days:
            raise ValueError(
                f"need new_days <= active_days < dormant_days < churned_days, got {self.new_days}, "
                f"{self.active_days}, {self.dormant_days}, {self.churned_days}"
            )
        return self


class Rfm(_Strict):
    # lifetime: F and M over every order up to the as-of date; "365": over the last 365 days only.
    window: Literal["lifetime", "365"] = Field(
        "lifetime",
        json_schema_extra=column("run_parameters.rfm_window_days", value="window_days", sql_type="integer"),
    )

    @field_validator("window", mode="before")
    @classmethod
    def _window_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @property
    def window_days(self) -> int | None:
        return None if self.window == "lifetime" else int(self.window)


MONTH_DAY_PATTERN = r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"


class Promotion(_Strict):
    """A promotion period that recurs every year, from `start` to `end` inclusive (local dates, MM-DD)."""

    name: str = Field(min_length=1, max_length=64)
    start: str = Field(pattern=MONTH_DAY_PATTERN)
    end: str = Field(pattern=MONTH_DAY_PATTERN)

    @model_validator(mode="after")
    def _start_before_end(self) -> Promotion:
        if self.end < self.start:
            raise ValueError(
                f"promotion {self.name!r}: end {self.end} is before start {self.start} (split it at 12-31)"
            )
        return self

    @staticmethod
    def month_day(text: str) -> int:
        """MM-DD as the number MMDD, which compares like the date (what the SQL compares against)."""
        return int(text.replace("-", ""))


def _default_promotions() -> list[Promotion]:
    return [
        Promotion(name="618", start="06-01", end="06-18"),
        Promotion(name="double_11", start="11-01", end="11-11"),
        Promotion(name="double_12", start="12-12", end="12-12"),
    ]


class Behaviour(_Strict):
    """Rules of the purchase-behaviour flags, over the last 365 days; see the README for each flag."""

    discount_seeker_share: Decimal = Field(
        Decimal("0.5"), ge=0, le=1, json_schema_extra=column("run_parameters.discount_seeker_share")
    )
    big_ticket_percentile: Decimal = Field(
        Decimal("0.9"), gt=0, lt=1, json_schema_extra=column("run_parameters.big_ticket_percentile")
    )
    frequent_small_percentile: Decimal = Field(
        Decimal("0.8"), gt=0, lt=1, json_schema_extra=column("run_parameters.frequent_small_percentile")
    )
    omnichannel_min_channels: int = Field(
        2, ge=2, le=20, json_schema_extra=column("run_parameters.omnichannel_min_channels")
    )
    refund_prone_share: Decimal = Field(
        Decimal("0.2"), ge=0, le=1, json_schema_extra=column("run_parameters.refund_prone_share")
    )
    promotions: list[Promotion] = Field(default_factory=_default_promotions, max_length=50)

    @model_validator(mode="after")
    def _promotion_names_are_unique(self) -> Behaviour:
        names = [p.name for p in self.promotions]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"duplicate promotion name(s) {', '.join(duplicated)}")
        return self


class Benefits(_Strict):
    """What a tier gives its members; published as `tier_benefits` and joined into the CRM export."""

    discount_pct: Decimal = Field(Decimal(0), ge=0, le=100, max_digits=5, decimal_places=2)
    points_multiplier: Decimal = Field(Decimal(1), gt=0, le=100, max_digits=6, decimal_places=2)
    free_shipping: bool = False
    priority_service: bool = False
    birthday_gift: bool = False
    description: str | None = Field(None, max_length=500)


THRESHOLD_METRICS = ("min_spend", "min_orders", "min_points")


class Tier(_Strict):
    code: str = Field(pattern=TIER_CODE_PATTERN)
    name: str = Field(min_length=1, max_length=64)
    min_spend: Decimal | None = Field(None, ge=0, max_digits=18, decimal_places=2)
    min_orders: int | None = Field(None, ge=0)
    min_points: int | None = Field(None, ge=0)
    match: Literal["all", "any"] = "all"
    keep: Keep | None = None
    benefits: Benefits = Benefits()

    @property
    def has_threshold(self) -> bool:
        return any(getattr(self, metric) is not None for metric in THRESHOLD_METRICS)

    @model_validator(mode="after")
    def _keep_is_not_above_entry(self) -> Tier:
        for metric in THRESHOLD_METRICS if self.keep else ():
            keep, entry = getattr(self.keep, metric), getattr(self, metric)
            if keep is None:
                continue
            if entry is None:
                raise ValueError(f"keep.{metric}: the tier has no {metric} to enter it")
            if keep > entry:
                raise ValueError(f"keep.{metric}: {keep} is above {metric} ({entry}); keeping must not be harder")
        return self


class Pooling(_Strict):
    """Members of a household qualify together: each enters, keeps and is lifted on the sums of the current
    members' own qualifying figures. Off unless `by` is given."""

    by: Literal["household"] | None = Field(None, json_schema_extra=column("policy_engine.pooling_by"))


class Policy(_Strict):
    version: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        json_schema_extra=column("run_parameters.policy_version"),
    )
    currency: str = Field(pattern=r"^[A-Z]{3}$", json_schema_extra=column("run_parameters.policy_currency"))
    timezone: str = Field(json_schema_extra=column("run_parameters.policy_timezone"))
    qualification: Qualification = Qualification()
    lifecycle: Lifecycle = Lifecycle()
    rfm: Rfm = Rfm()
    behaviour: Behaviour = Behaviour()
    tiers: list[Tier] = Field(min_length=1, max_length=20)
    downgrade: Downgrade = Downgrade()
    # When the policy version changes, downgrades under the new rules happen at once or at the next evaluation.
    on_policy_change: Literal["immediate", "next_evaluation"] = Field(
        "next_evaluation", json_schema_extra=column("policy_engine.on_policy_change")
    )
    points: Points = Points()
    # Manual overrides CSV, relative to the landing zone or the home (TIERFLOW_OVERRIDES wins).
    overrides: str | None = Field(None, min_length=1, max_length=500)
    gates: Gates = Gates()  # quality gate thresholds, see tierflow/policy/gates.py
    notices: Notices = Notices()  # advance notices for the CRM, see tierflow/policy/notices.py
    pooling: Pooling = Pooling()  # household pooling, off by default

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Asia/Shanghai)") from None
        if value not in _timezone_names() and value != "UTC":
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Asia/Shanghai)")
        return value

    @model_validator(mode="after")
    def _tiers_are_ordered(self) -> Policy:
        codes = [t.code for t in self.tiers]
        duplicated = sorted({c for c in codes if codes.count(c) > 1})
        if duplicated:
            raise ValueError(f"tiers: duplicate tier code(s) {', '.join(duplicated)}")
        if self.tiers[0].has_threshold:
            raise ValueError(f"tiers[0] ({self.tiers[0].code}): the lowest tier must have no threshold")
        for i, tier in enumerate(self.tiers[1:], start=1):
            if not tier.has_threshold:
                raise ValueError(f"tiers[{i}] ({tier.code}): needs min_spend, min_orders or min_points")
        # Thresholds must not decrease going up, or a higher tier would be easier to reach than a lower one.
        for metric in THRESHOLD_METRICS:
            previous: tuple[int, Decimal | int] | None = None
            for i, tier in enumerate(self.tiers):
                value = getattr(tier, metric)
                if value is None:
                    continue
                if previous is not None and value < previous[1]:
                    raise ValueError(
                        f"tiers[{i}].{metric}: {value} is below tiers[{previous[0]}].{metric} "
                        f"({previous[1]}); thresholds must not decrease from one tier to the next"
                    )
                previous = (i, value)
        return self


@cache
def _timezone_names() -> frozenset[str]:
    # A scan of the time zone database (~15 ms); a run loads the policy some twenty times.
    return frozenset(available_timezones())


# libyaml's parser where PyYAML was built with it (its wheels are): the pure-Python one takes ~15 ms a policy.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _format_validation_error(source: str, error: ValidationError) -> str:
    lines = [f"{source}: invalid tier policy"]
    for item in error.errors():
        path = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in item["loc"]).replace(".[", "[")
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key"
        # A validator over a whole section names the key it is about: fold it into the path.
        key = re.match(r"^([a-z_][a-z0-9_.]*): ", message)
        if key:
            path = f"{path}.{key.group(1)}" if path else key.group(1)
            message = message[key.end() :]
        lines.append(f"  {path or '(top level)'}: {message}")
    return "\n".join(lines)


def parse_policy(text: str, source: str = "<policy>") -> Policy:
    try:
        data = yaml.load(text, Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise PolicyError(f"{source}: expected a mapping at the top level")
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(_format_validation_error(source, exc)) from None


def load_policy(path: Path | str | None = None) -> Policy:
    path = Path(path) if path else DEFAULT_POLICY_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read the policy file ({exc.strerror})") from None
    return parse_policy(text, str(path))
