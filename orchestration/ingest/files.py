"""Finding landing files, fingerprinting them, and reading them as text through DuckDB."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

SUPPORTED_SUFFIXES = {".csv": "csv", ".parquet": "parquet"}


class LandingFileError(Exception):
    """A landing file that cannot be used at all (unreadable, missing a required column): stops the run."""


def discover(input_dir: Path) -> list[Path]:
    """Data files under an input directory, in a stable order; hidden and `_`-prefixed files are skipped
    (writers use them for temporary and marker files)."""
    found = [
        path
        for path in input_dir.rglob("*")
        if path.is_file()
        and path.suffix.lower() in SUPPORTED_SUFFIXES
        and not any(part.startswith((".", "_")) for part in path.relative_to(input_dir).parts)
    ]
    return sorted(found)


def file_format(path: Path) -> str:
    return SUPPORTED_SUFFIXES[path.suffix.lower()]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _relation_sql(fmt: str) -> str:
    if fmt == "csv":
        # Everything is read as text: typing and validation happen row by row, so one bad value
        # quarantines its row instead of failing the file.
        return "read_csv($path, header = true, all_varchar = true, delim = ',', quote = '\"', escape = '\"')"
    return "read_parquet($path)"


def read_columns(con: duckdb.DuckDBPyConnection, path: Path, label: str) -> list[str]:
    """The column names of a landing file, as written in its header."""
    try:
        rows = con.execute(f"describe select * from {_relation_sql(file_format(path))}", {"path": str(path)})
        return [row[0] for row in rows.fetchall()]
    except duckdb.Error as exc:
        first_line = str(exc).strip().splitlines()[0]
        raise LandingFileError(f"{label}: cannot be read as {file_format(path).upper()}: {first_line}") from None


def load_text_rows(con: duckdb.DuckDBPyConnection, path: Path, label: str, table: str) -> None:
    """Load a file into a temporary table `table` with a 1-based `__row` record number."""
    fmt = file_format(path)
    if fmt == "csv":
        select = f"select row_number() over () as __row, * from {_relation_sql(fmt)}"
    else:
        select = (
            "select file_row_number + 1 as __row, * exclude (file_row_number) "
            "from read_parquet($path, file_row_number = true)"
        )
    try:
        con.execute(f"create or replace temp table {table} as {select}", {"path": str(path)})
    except duckdb.Error as exc:
        first_line = str(exc).strip().splitlines()[0]
        raise LandingFileError(f"{label}: cannot be read as {fmt.upper()}: {first_line}") from None
