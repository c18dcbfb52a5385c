"""Manual tier overrides: a CSV (`customer_id, tier, reason, valid_from, valid_until, mode`) named by
TIERFLOW_OVERRIDES or the policy's `overrides`, relative to the landing zone or the home and never outside
them. Rows are checked here for form (a bad file stops the run with exit 2, naming the line and column) and
loaded with bound parameters into `tierflow.overrides`; whether the customer and the tier exist is decided in
dbt (the `override_issues` mart): unknown ones are reported there and in the run log, never applied."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from tierflow.settings import Settings, variable
from tierflow.warehouse import connect, table_exists

COLUMNS = ("customer_id", "tier", "reason", "valid_from", "valid_until", "mode")
MODES = ("floor", "fixed")
ENV = variable("overrides")

DDL = """
create or replace table tierflow.overrides (
    customer_id varchar not null,
    tier_code varchar not null,
    reason varchar,
    valid_from date not null,
    valid_until date,
    override_mode varchar not null,
    source_row integer not null
)
"""


class OverridesError(ValueError):
    """An overrides file that cannot be used; the message names the file, the line and the column."""


@dataclass(frozen=True)
class Override:
    customer_id: str
    tier: str
    reason: str | None
    valid_from: date
    valid_until: date | None
    mode: str
    source_row: int

    def row(self) -> list:
        return [self.customer_id, self.tier, self.reason, self.valid_from, self.valid_until, self.mode, self.source_row]


def resolve_location(location: str | None, landing: Path, home: Path) -> Path | None:
    """The overrides file, looked up in the landing zone, then the home; a path leading outside both (an
    absolute path elsewhere, `..`, a link) is refused."""
    if not location:
        return None
    roots = [landing.resolve(), home.resolve()]
    for root in roots:
        path = (root / location).resolve()
        if path.is_relative_to(root) and path.is_file():
            return path
    if any((root / location).resolve().is_relative_to(root) for root in roots):
        raise OverridesError(f"overrides {location}: no such file in the landing zone or the home")
    raise OverridesError(f"overrides {location}: must be inside the landing zone ({landing}) or the home ({home})")


def _date(text: str, where: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise OverridesError(f"{where}: {text!r} is not a date like 2026-01-31") from None


def read_overrides(path: Path) -> list[Override]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or []) and c not in ("reason", "mode")]
        if missing:
            raise OverridesError(f"{path}: missing column(s) {', '.join(missing)} (need {', '.join(COLUMNS)})")
        overrides = []
        for line, record in enumerate(reader, start=2):
            values = {k: (record.get(k) or "").strip() for k in COLUMNS}
            where = f"{path}, line {line}"
            for required in ("customer_id", "tier", "valid_from"):
                if not values[required]:
                    raise OverridesError(f"{where}, column {required}: empty")
            mode = values["mode"] or "floor"
            if mode not in MODES:
                raise OverridesError(f"{where}, column mode: {mode!r} is not floor or fixed")
            valid_from = _date(values["valid_from"], f"{where}, column valid_from")
            until = values["valid_until"]
            valid_until = _date(until, f"{where}, column valid_until") if until else None
            if valid_until is not None and valid_until < valid_from:
                raise OverridesError(f"{where}, column valid_until: {valid_until} is before {valid_from}")
            overrides.append(
                Override(
                    values["customer_id"], values["tier"], values["reason"] or None, valid_from, valid_until, mode, line
                )
            )
    return overrides


def load_overrides(
    con: duckdb.DuckDBPyConnection, *, policy_location: str | None, landing: Path, home: Path
) -> tuple[Path | None, list[Override]]:
    """Replace `tierflow.overrides` with the file's rows (empty without a file); runs in the caller's
    transaction."""
    path = resolve_location(Settings.from_env().overrides or policy_location, landing, home)
    overrides = read_overrides(path) if path else []
    con.execute(DDL)
    if overrides:
        con.executemany("insert into tierflow.overrides values (?, ?, ?, ?, ?, ?, ?)", [o.row() for o in overrides])
    return path, overrides


def not_applied(warehouse: Path) -> list[dict]:
    """Overrides the last run did not apply, with why (unknown customer or tier), for the run summary."""
    if not warehouse.exists():
        return []
    with connect(warehouse, read_only=True) as con:
        if not table_exists(con, "marts", "override_issues"):
            return []
        rows = con.execute(
            "select customer_id, tier_code, issue, source_row from marts.override_issues order by source_row"
        ).fetchall()
    return [{"customer_id": c, "tier": t, "issue": i, "row": r} for c, t, i, r in rows]
