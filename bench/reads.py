"""What a run's dbt SQL read: rows scanned per dbt node, from DuckDB's own query log.

A run started with TIERFLOW__DUCKDB_QUERY_LOG=<dir> has dbt's DuckDB log every query's metrics there
(orchestration/adapters/dbt_duckdb.py): its SQL and the rows it scanned from tables and views. A query dbt
runs for a node carries the node's id in a leading comment; hooks carry none and are counted for the node the
same connection ran last (a model's pre- and post-hooks run on its connection).

    python -m bench.reads <dir> [--top 20]
"""

from __future__ import annotations

import argparse
import csv
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

_NODE = re.compile(r'"node_id": "([^"]+)"')
_VALUE = re.compile(r"'value': (\d+)")


@dataclass(frozen=True)
class Query:
    connection: int
    order: int
    node: str | None
    sql: str
    rows_scanned: int


def _contexts(directory: Path) -> dict[str, tuple[int, int]]:
    with (directory / "duckdb_log_contexts.csv").open(newline="", encoding="utf-8") as handle:
        return {
            row["context_id"]: (int(row["connection_id"] or 0), int(row["query_id"] or 0))
            for row in csv.DictReader(handle)
        }


def queries(directory: Path) -> list[Query]:
    """Every logged query, in the order each connection ran them, with the dbt node it ran for."""
    sql: dict[str, str] = {}
    scanned: dict[str, int] = {}
    with (directory / "duckdb_log_entries.csv").open(newline="", encoding="utf-8") as handle:
        for entry in csv.DictReader(handle):
            message = entry["message"]
            if message.startswith("{'metric': query.sql,"):
                sql[entry["context_id"]] = message.split("'value': ", 1)[1]
            elif message.startswith("{'metric': query.total_rows_scanned,"):
                match = _VALUE.search(message)
                scanned[entry["context_id"]] = int(match.group(1)) if match else 0
    contexts = _contexts(directory)
    ordered = sorted((contexts.get(context, (0, 0)), context) for context in scanned)
    found: list[Query] = []
    last_node: dict[int, str | None] = {}
    for (connection, order), context in ordered:
        text = sql.get(context, "")
        match = _NODE.search(text[:400])
        node = match.group(1) if match else last_node.get(connection)
        last_node[connection] = node
        found.append(Query(connection, order, node, text, scanned[context]))
    return found


def rows_scanned_by_node(directory: Path) -> Counter[str]:
    totals: Counter[str] = Counter()
    for query in queries(directory):
        totals[query.node or "(outside a node)"] += query.rows_scanned
    return totals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reads", description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path, help="the TIERFLOW__DUCKDB_QUERY_LOG directory of a run")
    parser.add_argument("--top", type=int, default=20, help="how many nodes to list (default 20)")
    args = parser.parse_args(argv)
    if not (args.directory / "duckdb_log_entries.csv").exists():
        parser.error(f"{args.directory} holds no DuckDB query log (duckdb_log_entries.csv)")
    totals = rows_scanned_by_node(args.directory)
    print(f"{sum(totals.values()):>14,}  rows scanned in all, {len(totals)} nodes")
    for node, rows in totals.most_common(args.top):
        print(f"{rows:>14,}  {node}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
