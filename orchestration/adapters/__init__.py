"""The only place tierflow reaches into a library's private members, one module per library.

Each override buys speed that no public API offers at the same cost (see each module). It is used only on the
library versions it was written for (`PINNED`); on any other version tierflow warns once and runs the stock
class, which is slower but right. `TIERFLOW__PLAIN_ADAPTERS` (internal: the benchmark's switch) turns them off:
`1` all of them, or a comma list of libraries (`dagster`, `dagster-dbt`, `dbt-duckdb`). `tests/test_adapters.py`
fails when a library changes the private surface an override relies on.
"""

from __future__ import annotations

import logging
from functools import cache
from importlib.metadata import version

from packaging.specifiers import SpecifierSet
from packaging.version import Version

# The library versions each adapter module was written for and checked against.
PINNED = {
    "dagster": SpecifierSet(">=1.13,<1.14"),  # orchestration/adapters/dagster_storage.py
    "dagster-dbt": SpecifierSet(">=0.29,<0.30"),  # orchestration/adapters/dagster_dbt.py
    "dbt-duckdb": SpecifierSet(">=1.11,<1.12"),  # orchestration/adapters/dbt_duckdb.py
}

log = logging.getLogger(__name__)


def plain_libraries() -> set[str]:
    """The libraries whose overrides are switched off by TIERFLOW__PLAIN_ADAPTERS."""
    from tierflow.settings import internal_value

    wanted = {part.strip() for part in (internal_value("PLAIN_ADAPTERS") or "").split(",") if part.strip()}
    return set(PINNED) if "1" in wanted else wanted


@cache
def _warn_unpinned(library: str, installed: str) -> None:
    log.warning(
        "tierflow: %s %s is not a version its speed-up was written for (%s); using the stock class (slower)",
        library,
        installed,
        PINNED[library],
    )


def enabled(library: str) -> bool:
    """Whether the override for `library` is used: its installed version is pinned and it is not switched off."""
    if library in plain_libraries():
        return False
    installed = version(library)
    if Version(installed) not in PINNED[library]:
        _warn_unpinned(library, installed)
        return False
    return True


def instance_overrides(dagster_home: str) -> dict:
    """Instance settings for the home's Dagster instance: the faster event log where it applies."""
    if not enabled("dagster"):
        return {}
    from orchestration.adapters.dagster_storage import event_log_override

    return event_log_override(dagster_home)
