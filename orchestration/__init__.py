"""tierflow: recompute customer membership tiers in the warehouse.

`tierflow_defs` (the Dagster Definitions) is built on first access only, so `dagster definitions validate -m
orchestration` finds it while `import tierflow.cli` stays fast.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "tierflow_defs":
        from orchestration.definitions import defs

        return defs
    raise AttributeError(f"module 'orchestration' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), "tierflow_defs"])
