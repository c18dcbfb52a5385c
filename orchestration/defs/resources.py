"""The `tierflow` resource: where the home, landing zone, policy and suites are, for every asset."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import dagster as dg

from orchestration.paths import Home
from orchestration.policy import Policy, PolicyError, load_policy
from orchestration.settings import Settings


class TierflowResource(dg.ConfigurableResource):
    """Paths of one tierflow deployment. Built from `Settings` (environment variables with defaults)."""

    home: str
    landing: str
    policy: str
    expectations: str

    @classmethod
    def from_settings(cls, settings: Settings) -> TierflowResource:
        return cls(
            home=str(settings.home.resolve()),
            landing=str(settings.landing_dir.resolve()),
            policy=str(settings.policy.resolve()),
            expectations=str(settings.expectations.resolve()),
        )

    @cached_property
    def layout(self) -> Home:
        return Home(Path(self.home)).ensure()

    @property
    def landing_dir(self) -> Path:
        return Path(self.landing)

    @property
    def expectations_dir(self) -> Path:
        return Path(self.expectations)

    def load_policy(self) -> Policy:
        try:
            return load_policy(self.policy)
        except PolicyError as exc:
            raise bad_input(str(exc)) from None


BAD_INPUT = "bad_input"


def bad_input(message: str) -> dg.Failure:
    """A failure caused by the input or the configuration, not by tierflow: the CLI exits 2 with the message."""
    return dg.Failure(description=message, metadata={"tierflow_error": BAD_INPUT}, allow_retries=False)
