"""Putting tables on disk: landing folders cleared of earlier output, RFC 4180 CSV or Parquet (typed, or every
column text), written on a background thread while the next table is generated."""

from __future__ import annotations

import re
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Literal, get_args

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

FOLDERS: tuple[str, ...] = ("orders", "profiles", "events")
# "parquet" is typed like a real export; "parquet-text" holds CSV's text in Parquet (values.py says how).
Format = Literal["csv", "parquet", "parquet-text"]
FORMATS: tuple[str, ...] = get_args(Format)

# Daily orders files (orders_YYYY-MM-DD, written by next_days) go too: they belong to the zone they extend.
_OUTPUT_FILE = re.compile(r"^(orders_\d{4}-\d{2}(-\d{2})?|events_\d{4}-\d{2}|profiles(_\d{4})?)\.(csv|parquet)$")

_CSV_SPECIAL = (b",", b'"', b"\r", b"\n")
_CSV_PLAIN = pa_csv.WriteOptions(include_header=False, quoting_style="none", batch_size=65_536)
_CSV_QUOTED = pa_csv.WriteOptions(include_header=False, quoting_style="needed", batch_size=65_536)


def prepare_folders(out_dir: Path) -> dict[str, Path]:
    """The landing folders under `out_dir` by name, created and emptied of files an earlier run wrote."""
    dirs = {name: out_dir / name for name in FOLDERS}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
        _remove_earlier_output(d)
    return dirs


def _remove_earlier_output(folder: Path) -> None:
    # Both formats go: a stale Parquet file next to fresh CSV files would be ingested as well.
    for path in folder.iterdir():
        if path.is_file() and _OUTPUT_FILE.match(path.name):
            path.unlink()


def _write_csv(table: pa.Table, path: Path) -> None:
    """RFC 4180 CSV that quotes only the values that need it.

    Arrow's "needed" style quotes every string and its "none" style refuses values with a comma or a quote,
    so rows holding such a value (only ever a dirty one, e.g. an amount of 1,234.56) are written as short
    quoted runs between long unquoted ones.
    """
    special = np.zeros(table.num_rows, dtype=bool)
    for column in table.columns:
        for chunk in column.chunks:
            data = chunk.buffers()[2]
            if data is None or not any(ch in data.to_pybytes() for ch in _CSV_SPECIAL):
                continue
            hits = pc.fill_null(pc.match_substring_regex(column, r'[,"\r\n]'), False)
            special |= hits.to_numpy(zero_copy_only=False)
            break
    with pa.OSFile(str(path), "wb") as sink:
        sink.write((",".join(table.column_names) + "\n").encode())
        if not special.any():
            pa_csv.write_csv(table, sink, _CSV_PLAIN)
            return
        bounds = np.concatenate(([0], np.flatnonzero(np.diff(special.astype(np.int8))) + 1, [table.num_rows]))
        for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            pa_csv.write_csv(table.slice(lo, hi - lo), sink, _CSV_QUOTED if special[lo] else _CSV_PLAIN)


def _write_parquet(table: pa.Table, path: Path) -> None:
    # Times within a file are in time order: delta-encoded (as Parquet v2 writers do) they take a quarter of
    # their plain size, less than the same times as text. Other columns keep the default dictionary encoding.
    times = [f.name for f in table.schema if pa.types.is_timestamp(f.type)]
    pq.write_table(
        table,
        path,
        compression="zstd",
        use_dictionary=[name for name in table.column_names if name not in times] if times else True,
        column_encoding=dict.fromkeys(times, "DELTA_BINARY_PACKED") or None,
    )


class Writer:
    """Writes files on one background thread: Arrow's writers release the GIL, so on two cores the next
    month is generated while the previous one is written. At most two tables wait, to bound memory."""

    def __init__(self, fmt: Format) -> None:
        self.suffix = "csv" if fmt == "csv" else "parquet"
        self.files: list[Path] = []
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tierflow-generate")
        self._pending: list[Future[None]] = []

    def write(self, table: pa.Table, stem: Path) -> None:
        """Queue `table` for `stem` plus the format's suffix."""
        path = stem.with_name(f"{stem.name}.{self.suffix}")
        while len(self._pending) >= 2:
            self._pending.pop(0).result()
        self._pending.append(self._pool.submit(self._write, table, path))
        self.files.append(path)

    def _write(self, table: pa.Table, path: Path) -> None:
        if self.suffix == "csv":
            _write_csv(table, path)
        else:
            _write_parquet(table, path)

    def close(self) -> None:
        """Wait for every write; re-raises the first failure."""
        try:
            for future in self._pending:
                future.result()
        finally:
            self._pending.clear()
            self._pool.shutdown(wait=True)
