"""The verdict of one gate: its figure against its threshold, and why."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

PASSED, WARNED, FAILED, OVERRIDDEN, OFF = "passed", "warned", "failed", "overridden", "off"


@dataclass
class GateResult:
    name: str
    group: str  # input | reconciliation | freshness | breaker
    status: str  # passed | warned | failed | overridden | off
    figure: Any = None
    threshold: Any = None
    message: str = ""
    sample: list[dict] = field(default_factory=list)

    @property
    def blocks(self) -> bool:
        return self.status == FAILED

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("figure", "threshold"):
            if isinstance(data[key], Decimal):
                data[key] = float(data[key])
        return data


def judge(
    name: str, group: str, figure: float | int, threshold: Decimal | int | None, message: str, **extra: Any
) -> GateResult:
    """Passed when the figure is at most the threshold; `off` when the threshold is null."""
    if threshold is None:
        return GateResult(name, group, OFF, figure, None, f"{message} (gate switched off)", **extra)
    status = PASSED if figure <= threshold else FAILED
    return GateResult(name, group, status, figure, threshold, message, **extra)
