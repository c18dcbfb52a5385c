"""`DbtCliResource` without two costs paid before every dbt command.

- It learns dbt's version by running `dbt --version`, a second dbt start-up that also asks PyPI for the latest
  release; the dbt beside this Python is the installed dbt-core, so its version is read instead.
- It builds a dbt adapter inside the Dagster process (importing dbt, loading the profile and project) for row
  counts and column metadata, which tierflow never fetches (`.stream()` only); without one, dagster-dbt streams
  events exactly as it does for the dbt Fusion engine.

Private dagster-dbt surface (pinned in `orchestration.adapters.PINNED`, checked by tests/test_adapters.py):
`DbtCliResource._cli_version` (a cached property) and `DbtCliResource._initialize_dbt_core_adapter(args)`,
both read by `DbtCliResource.cli`. dagster-dbt offers no public switch for either, and dbt's documented
`dbtRunner` runs dbt inside this process, which would replace dagster-dbt's event stream rather than speed it up.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from importlib.metadata import version

from dagster_dbt import DbtCliResource
from packaging.version import Version


class TierflowDbtCli(DbtCliResource):
    @cached_property
    def _cli_version(self) -> Version:
        return Version(version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None
