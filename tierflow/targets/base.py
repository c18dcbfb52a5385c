"""What every target does around `dbt build`: copy the model inputs in, and the built relations back."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from orchestration import adapters
from tierflow.paths import Home
from tierflow.settings import internal_variable
from tierflow.warehouse import (
    connect,
    duckdb_size,
    duckdb_threads,
    max_spill_gb,
    memory_limit,
    scalar,
    storage_test_config,
    temp_directory,
)

TARGETS = ("duckdb", "postgres", "spark")

# Schemas of the DuckDB warehouse the models read: the landing data (through staging views), the policy and
# run parameters, the last published run (and, for a re-run of its date, the one before: published_base).
# Quarantine and file bookkeeping stay behind.
INPUT_SCHEMAS = ("landing", "tierflow", "published_state", "published_base")
LANDING_BOOKKEEPING = ("quarantine", "ingested_files", "updates")


# Where dbt-duckdb would open and spill if the connect plugin did not run: a path that cannot be opened, so
# that a dbt-duckdb which stopped calling plugins fails loudly instead of building somewhere else.
UNOPENED = "/nonexistent/tierflow: the dbt-duckdb connect plugin did not run (orchestration/adapters/dbt_duckdb.py)"


def _opened_by_profile(path: str, temp: str, max_temp: str) -> dict[str, str]:
    """The profile's own warehouse file, spill directory and spill bound (the connect plugin left inert)."""
    return {
        internal_variable("WAREHOUSE"): path,
        internal_variable("DUCKDB_TEMP_DIRECTORY"): temp,
        internal_variable("DUCKDB_MAX_TEMP_SIZE"): max_temp,
        internal_variable("DBT_DUCKDB_CONNECT"): "",
    }


def dbt_profile_environment() -> dict[str, str]:
    """The dbt-duckdb profile values every run shares, and the saved parse of the project is made with
    (`prepare_manifest`). With the connect plugin, the warehouse file, spill directory and spill bound are not
    among them: dbt re-parses the whole project whenever these values differ from its saved parse's."""
    shared = {
        internal_variable("DUCKDB_MEMORY_LIMIT"): memory_limit(),
        internal_variable("DUCKDB_THREADS"): duckdb_threads(),
    }
    if not adapters.enabled("dbt-duckdb"):
        return shared
    return {**shared, **_opened_by_profile(f"{UNOPENED}/warehouse.duckdb", UNOPENED, "1GiB")}


def duckdb_environment(warehouse: Path, spill_root: Path) -> dict[str, str]:
    """What dbt-duckdb opens: the warehouse file, and where DuckDB spills (and how much) under the same memory
    limit as tierflow's own connections."""
    temp, max_temp = str(temp_directory(spill_root)), duckdb_size(max_spill_gb(spill_root))
    if adapters.enabled("dbt-duckdb"):
        from orchestration.adapters.dbt_duckdb import connect_values

        opened = {"temp_directory": temp, "max_temp_directory_size": max_temp, **storage_test_config()}
        return {**dbt_profile_environment(), **connect_values(str(warehouse), opened)}
    return {**dbt_profile_environment(), **_opened_by_profile(str(warehouse), temp, max_temp)}


class TargetError(RuntimeError):
    """The target is misconfigured (`is_config`: exit 2) or unreachable (exit 1); the message says what to fix."""

    def __init__(self, message: str, *, is_config: bool = False) -> None:
        super().__init__(message)
        self.is_config = is_config


@dataclass(frozen=True)
class Relation:
    schema: str
    name: str
    columns: tuple[tuple[str, str], ...]  # (name, DuckDB type) in order

    @property
    def qualified(self) -> str:
        return f'"{self.schema}"."{self.name}"'


def warehouse_inputs(warehouse: Path) -> list[Relation]:
    """The warehouse tables the models read, with their DuckDB column types."""
    placeholders = ", ".join("?" for _ in INPUT_SCHEMAS)
    with connect(warehouse, read_only=True) as con:
        rows = con.execute(
            "select table_schema, table_name, column_name, data_type from information_schema.columns "
            f"where table_schema in ({placeholders}) order by table_schema, table_name, ordinal_position",
            list(INPUT_SCHEMAS),
        ).fetchall()
    relations: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, data_type in rows:
        if schema == "landing" and table in LANDING_BOOKKEEPING:
            continue
        relations.setdefault((schema, table), []).append((column, data_type))
    return [Relation(s, t, tuple(cols)) for (s, t), cols in relations.items()]


def model_outputs(manifest: Path) -> list[Relation]:
    """The relations the Python side reads after dbt: every table-materialised model and the seeds, with the
    contract's column types where the model has an enforced contract (else the target's)."""
    nodes = json.loads(manifest.read_text(encoding="utf-8"))["nodes"].values()
    outputs = []
    for node in nodes:
        if node["resource_type"] not in ("model", "seed"):  # the gates convert currencies with the fx_rates seed
            continue
        if node["config"].get("materialized") == "view":
            continue
        enforced = node["config"].get("contract", {}).get("enforced", False)
        columns = tuple(
            (name, (column.get("data_type") or "") if enforced else "") for name, column in node["columns"].items()
        )
        outputs.append(Relation(node["schema"], node["alias"] or node["name"], columns))
    return sorted(outputs, key=lambda r: (r.schema, r.name))


class Target:
    """The default: dbt runs on the DuckDB warehouse itself, nothing to copy."""

    name = "duckdb"

    def __init__(self, layout: Home) -> None:
        self.layout = layout

    @property
    def work_dir(self) -> Path:
        return self.layout.root / "targets" / self.name

    def check(self) -> None:
        """Fail early, before ingest, when the target cannot be used (raises TargetError)."""

    @contextmanager
    def engine_lock(self, holder: str, say: Callable[[str], None]) -> Iterator[None]:
        """Hold the engine's own run lock while the block runs, waiting for another run that holds it.
        Here the engine's files live in the home, whose file lock (tierflow.run_lock) already covers them."""
        yield

    def dbt_environment(self, inputs: list[Relation], outputs: list[Relation]) -> dict[str, str]:
        """Environment variables profiles.yml and the target macros read for this target."""
        return duckdb_environment(self.layout.warehouse, self.layout.root)

    def push(self, inputs: list[Relation]) -> None:
        """Make `inputs` (from the DuckDB warehouse) readable by the models on this target."""

    def pull(self, outputs: list[Relation]) -> None:
        """Copy `outputs` built on this target into the DuckDB warehouse."""

    @contextmanager
    def around_dbt(self, manifest: Path) -> Iterator[dict[str, str]]:
        """Push before, pull after a successful dbt build; yields the dbt environment."""
        inputs, outputs = warehouse_inputs(self.layout.warehouse), model_outputs(manifest)
        self.push(inputs)
        yield self.dbt_environment(inputs, outputs)
        self.pull(outputs)


def load_into_warehouse(warehouse: Path, relation: Relation, types: dict[str, str], reader: str) -> None:
    """Replace `relation` in the DuckDB warehouse with what `reader` yields, cast to the contract's types."""
    contract = dict(relation.columns)
    select = ", ".join(f'cast("{name}" as {contract.get(name) or kind}) as "{name}"' for name, kind in types.items())
    with connect(warehouse) as con:
        con.execute("begin")
        con.execute(f'create schema if not exists "{relation.schema}"')
        kind = scalar(
            con,
            "select table_type from information_schema.tables where table_schema = ? and table_name = ?",
            [relation.schema, relation.name],
        )
        if kind == "VIEW":  # dbt-duckdb left a view there on an earlier run; the copy is a table
            con.execute(f"drop view {relation.qualified}")
        con.execute(f"create or replace table {relation.qualified} as select {select} from {reader}")
        con.execute("commit")
