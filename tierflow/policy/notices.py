"""The `notices:` section of the tier policy: advance notices that let a CRM act before a tier changes.

Each notice type is off unless its key is given; `notices: {}` (or no section) raises none.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tierflow.policy.columns import column


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ApproachingUpgrade(_Strict):
    """The member is within an amount (or a share) of the next tier's spend threshold."""

    within_spend: Decimal | None = Field(
        None,
        gt=0,
        max_digits=18,
        decimal_places=2,
        json_schema_extra=column("policy_engine.notice_upgrade_within_spend"),
    )
    within_share: Decimal | None = Field(
        None, gt=0, le=1, json_schema_extra=column("policy_engine.notice_upgrade_within_share")
    )

    @model_validator(mode="after")
    def _exactly_one_distance(self) -> ApproachingUpgrade:
        if (self.within_spend is None) == (self.within_share is None):
            given = "both" if self.within_spend is not None else "neither"
            raise ValueError(f"within_spend: give either within_spend or within_share, not {given}")
        return self


class DowngradeWarning(_Strict):
    """The member does not yet keep the tier and the next periodic evaluation is at most N days away."""

    days_before_evaluation: int = Field(
        30, ge=1, le=366, json_schema_extra=column("policy_engine.notice_downgrade_days_before")
    )


class PointsExpiring(_Strict):
    """At least `min_points` points expire within the next `days_before` days."""

    days_before: int = Field(30, ge=1, le=366, json_schema_extra=column("policy_engine.notice_points_days_before"))
    min_points: int = Field(1, ge=1, json_schema_extra=column("policy_engine.notice_points_min_points"))


class Notices(_Strict):
    approaching_upgrade: ApproachingUpgrade | None = None
    downgrade_warning: DowngradeWarning | None = None
    points_expiring: PointsExpiring | None = None
