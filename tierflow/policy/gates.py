"""The `gates:` section of the tier policy: thresholds of the quality gates and circuit breakers.

Every threshold may be set to `null` to switch that gate off. Shares are fractions (0.05 = 5%).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Breakers compare this run with the last published one; `tierflow run --allow NAME --reason TEXT` lets one
# run through. Names as the operator types them, mapped to the threshold that arms them.
BREAKERS: dict[str, str] = {
    "tier_change_share": "max_tier_change_share",
    "customer_drop_share": "max_customer_drop_share",
    "tier_psi": "max_psi",
    "downgrade_share": "max_downgrade_share",
}


class Gates(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Input: a file with more than this share of its rows quarantined blocks the run (one bad export must not
    # silently shrink the population).
    max_quarantine_share: Decimal | None = Field(Decimal("0.05"), ge=0, le=1)
    # Freshness: the newest order may be at most this many days before the as-of date.
    max_staleness_days: int | None = Field(2, ge=0, le=3660)
    # Circuit breakers against the last published run.
    max_tier_change_share: Decimal | None = Field(Decimal("0.20"), ge=0, le=1)
    max_customer_drop_share: Decimal | None = Field(Decimal("0.02"), ge=0, le=1)
    max_psi: Decimal | None = Field(Decimal("0.25"), ge=0)
    warn_psi: Decimal | None = Field(Decimal("0.1"), ge=0)
    # Downgrades take benefits away from members, so a mass downgrade is the costliest mistake to publish
    # (a truncated order feed looks exactly like one). A nightly run of a 365-day window downgrades well
    # under 1% of members; 5% leaves room for a run after a week's pause, and is stricter than the tier
    # change breaker because upgrades (a successful campaign) are harmless to publish.
    max_downgrade_share: Decimal | None = Field(Decimal("0.05"), ge=0, le=1)
    # A daily run judges the rows it loaded; every this many days (and on `tierflow run --full-audit`) the
    # landing suites judge every row again (tierflow/gates/audit.py).
    full_audit_every_days: int = Field(7, ge=1, le=3660, strict=True)
    # Which runs render Great Expectations Data Docs (every suite is judged in SQL on every run either way).
    # Validating each suite's batch in GX for its docs costs a run several seconds, import included, so by
    # default only full audits render them, and any run whose suite fails renders that suite's.
    data_docs: Literal["every_run", "full_audit", "on_failure"] = "full_audit"

    @model_validator(mode="after")
    def _warn_below_block(self) -> Gates:
        if self.warn_psi is not None and self.max_psi is not None and self.warn_psi > self.max_psi:
            raise ValueError(f"warn_psi ({self.warn_psi}) must not be above max_psi ({self.max_psi})")
        return self

    def threshold(self, breaker: str) -> Decimal | None:
        return getattr(self, BREAKERS[breaker])
