"""The declarative tier policy: a YAML file validated into a `Policy`.

Validation errors name the key path and the rule broken, so an operator can fix the file without reading code.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DEFAULT_POLICY_PATH = Path(__file__).parent / "policies" / "default.yml"

# Tier codes end up as values in published tables and in CRM lists; keep them boring and safe.
TIER_CODE_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"


class PolicyError(ValueError):
    """A policy file that cannot be read or does not validate; the message is meant for the operator."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Qualification(_Strict):
    window_days: int = Field(365, ge=1, le=3660)


class Lifecycle(_Strict):
    active_days: int = Field(90, ge=1, le=3660)


class Tier(_Strict):
    code: str = Field(pattern=TIER_CODE_PATTERN)
    name: str = Field(min_length=1, max_length=64)
    min_spend: Decimal | None = Field(None, ge=0, max_digits=18, decimal_places=2)
    min_orders: int | None = Field(None, ge=0)
    match: Literal["all", "any"] = "all"

    @property
    def has_threshold(self) -> bool:
        return self.min_spend is not None or self.min_orders is not None


class Policy(_Strict):
    version: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    timezone: str
    qualification: Qualification = Qualification()
    lifecycle: Lifecycle = Lifecycle()
    tiers: list[Tier] = Field(min_length=1, max_length=20)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Asia/Shanghai)") from None
        if value not in available_timezones() and value != "UTC":
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
                raise ValueError(f"tiers[{i}] ({tier.code}): needs min_spend or min_orders")
        # Thresholds must not decrease going up, or a higher tier would be easier to reach than a lower one.
        for metric in ("min_spend", "min_orders"):
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

    @property
    def lowest_tier(self) -> Tier:
        return self.tiers[0]

    def tier_rank(self, code: str) -> int:
        return [t.code for t in self.tiers].index(code) + 1


def _format_validation_error(source: str, error: ValidationError) -> str:
    lines = [f"{source}: invalid tier policy"]
    for item in error.errors():
        path = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in item["loc"]).replace(".[", "[")
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key"
        lines.append(f"  {path or '(top level)'}: {message}")
    return "\n".join(lines)


def parse_policy(text: str, source: str = "<policy>") -> Policy:
    try:
        data = yaml.safe_load(text)
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


def policy_fingerprint(policy: Policy) -> str:
    """A short hash of the validated policy, recorded with each run to spot edits that kept the version."""
    return hashlib.sha256(policy.model_dump_json().encode()).hexdigest()[:12]
