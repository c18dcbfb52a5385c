"""The `tierflow` resource: where the home, landing zone, policy and suites are, for every asset."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

import dagster as dg

from tierflow.delivery.webhook import WebhookConfig
from tierflow.paths import Home
from tierflow.policy.schema import Policy, PolicyError, load_policy
from tierflow.run_lock import run_lock
from tierflow.secrets import webhook_token, webhook_url
from tierflow.settings import Settings
from tierflow.targets import target_for


class TierflowResource(dg.ConfigurableResource):
    """Paths of one tierflow deployment. Built from `Settings` (environment variables with defaults), which
    holds the defaults and the validation: the fields here only carry them to the assets."""

    home: str
    landing: str
    policy: str
    expectations: str
    bi_targets: str
    target: str
    pg_schema: str
    pg_reader_role: str | None
    crm_batch_size: int
    crm_timeout_seconds: float
    crm_rate_limit: float
    crm_max_attempts: int
    retry_attempts: int
    retry_base_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings) -> TierflowResource:
        paths = {
            "home": settings.home,
            "landing": settings.landing_dir,
            "policy": settings.policy,
            "expectations": settings.expectations,
        }
        carried = settings.model_dump(include=set(cls.model_fields) - set(paths))
        return cls(**{name: str(path.resolve()) for name, path in paths.items()}, **carried)

    @property
    def targets(self) -> set[str]:
        return {t for t in self.bi_targets.split(",") if t}

    def webhook_config(self) -> WebhookConfig | None:
        url = webhook_url()
        if not url:
            return None
        return WebhookConfig(
            url=url,
            token=webhook_token(),
            batch_size=self.crm_batch_size,
            timeout_seconds=self.crm_timeout_seconds,
            rate_limit=self.crm_rate_limit,
            max_attempts=self.crm_max_attempts,
        )

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[TierflowResource]:
        # Runs launched by the Dagster daemon or UI hold the home's run lock too; under `tierflow run` the CLI
        # already holds it and taking it again in the same process is a no-op.
        holder = f"dagster run {context.run.run_id if context.run else '-'}"
        home = Home(Path(self.home))
        # Then the engine's own lock: runs of other homes (other hosts) that build in the same database wait.
        with run_lock(home, holder), target_for(self.target, home).engine_lock(holder, context.log.warning):
            yield self

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
