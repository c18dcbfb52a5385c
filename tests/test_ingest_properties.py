"""Property (issue 6): random malformed CSV and Parquet landing files, mixed with valid rows, never crash
ingest, and every file reconciles exactly: every record written is read, and rows read = accepted + updated
+ quarantined, as recorded and as stored. Only a file-level problem (a required column missing, a column
named twice, a Parquet column of a type that cannot hold its values) stops the run, as a LandingFileError
naming the file (the CLI's exit 2)."""

from __future__ import annotations

import csv
import io
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tierflow.ingest import INPUTS, LandingFileError, ingest_input

SPEC = INPUTS["orders"]
NOW = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)
EXTRA_NAMES = ("note", "Order_Id ", "x,y", 'quo"te', "")
ENCODINGS = ("utf-8", "utf-8", "utf-8", "latin-1", "cp1252", "gb18030", "shift_jis")

VALUES = {
    "order_id": st.sampled_from(["o1", "o2", "o3", "007", "", " o1 "]),
    "customer_id": st.sampled_from(["c1", "c2", "0042", "", "顾客"]),
    "order_ts": st.sampled_from(
        ["2025-06-01 10:00:00", "2025-06-01T10:00:00+08:00", "2024-02-30", "2025-03-30 02:30", "2099-01-01", "x"]
    ),
    "amount": st.sampled_from(["10", "10.50", "1,234.56", "12,50", "1e309", "NaN", "-0", "-1", "", "9" * 20]),
    "currency": st.sampled_from(["CNY", "usd", "XYZ", ""]),
    "status": st.sampled_from(["completed", "refunded", "cancelled", "shipped", ""]),
    "refunded_amount": st.sampled_from(["", "0", "5", "10.50", "999", "abc"]),
}
ANY_TEXT = st.text(max_size=30)  # any Unicode: quotes, commas, newlines, NUL, SQL, emoji


def value_for(name: str) -> st.SearchStrategy[str]:
    return st.one_of(VALUES.get(name.strip().lower(), ANY_TEXT), ANY_TEXT) if name else ANY_TEXT


@st.composite
def headers(draw) -> list[str]:
    names = list(SPEC.required) + draw(st.lists(st.sampled_from(SPEC.optional + EXTRA_NAMES), max_size=4))
    if draw(st.integers(0, 9)) == 0:  # now and then a file-level problem: a required column missing
        names.remove(draw(st.sampled_from(SPEC.required)))
    return draw(st.permutations(names))


def csv_line(fields: list[str], end: str = "\n") -> str:
    """One record. \\r, \\n and \\r\\n all end a record, so a field holding either is quoted (Python 3.11's writer
    only quotes the characters of its own line terminator)."""
    out = io.StringIO()
    quoting = csv.QUOTE_ALL if any("\r" in f or "\n" in f for f in fields) else csv.QUOTE_MINIMAL
    csv.writer(out, lineterminator=end, quoting=quoting).writerow(fields)
    return out.getvalue()


@st.composite
def csv_files(draw) -> tuple[bytes, int]:
    """A CSV file and how many records it holds."""
    header = draw(headers())
    endings = st.sampled_from(["\n", "\n", "\r\n", "\r"])  # mixed line endings, even within one file
    lines = [csv_line(header, draw(endings)).encode()]
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["row", "row", "row", "fields", "bytes"]))
        if kind == "row":
            fields = [draw(value_for(name)) for name in header]
        elif kind == "fields":  # too few or too many fields
            fields = draw(st.lists(ANY_TEXT, min_size=1, max_size=len(header) + 3))
        if kind == "bytes":  # raw bytes: any encoding or none, but one record (no quote, no line break)
            line = draw(st.binary(min_size=1, max_size=40))
            line = bytes(b for b in line if b not in b'\r\n"') or b"?"
            lines.append(line + draw(endings).encode())
        else:
            end = draw(endings)
            text = csv_line(fields, end)
            if text == end:
                text = '""' + end  # a record, not a blank line
            lines.append(text.encode(draw(st.sampled_from(ENCODINGS)), errors="replace"))
    content = (b"\xef\xbb\xbf" if draw(st.booleans()) else b"") + b"".join(lines)
    return content, len(lines) - 1


PARQUET_TYPES = {
    "string": (pa.string(), st.one_of(st.none(), ANY_TEXT)),
    "int": (pa.int64(), st.one_of(st.none(), st.integers(-(2**62), 2**62))),
    "float": (pa.float64(), st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True))),
    "timestamp": (pa.timestamp("us"), st.one_of(st.none(), st.datetimes(datetime(1900, 1, 1), datetime(2200, 1, 1)))),
    "date": (pa.date32(), st.one_of(st.none(), st.dates(date(1900, 1, 1), date(2200, 1, 1)))),
    "bool": (pa.bool_(), st.one_of(st.none(), st.booleans())),
}


@st.composite
def parquet_files(draw) -> tuple[pa.Table, int]:
    header = list(dict.fromkeys(draw(headers())))  # Parquet column names are unique
    n = draw(st.integers(0, 12))
    columns = {}
    for name in header:
        kind = draw(st.sampled_from(["string", "string", *PARQUET_TYPES]))
        arrow_type, values = PARQUET_TYPES[kind]
        strategy = st.one_of(VALUES[name], values) if kind == "string" and name in VALUES else values
        columns[name] = pa.array(draw(st.lists(strategy, min_size=n, max_size=n)), arrow_type)
    return pa.table(columns) if columns else pa.table({"other": pa.array([None] * n, pa.string())}), n


LANDING_FILES = st.lists(st.one_of(csv_files(), parquet_files()), min_size=1, max_size=3)


# The Parquet types a contract column may have (issue 17): amounts are numbers, order_ts a timestamp, every
# other column text or an integer (kept as text). Anything else refuses the file.
FITTING = {"order_ts": {"string", "timestamp"}, "amount": {"string", "int", "float"}}
FITTING["refunded_amount"] = FITTING["amount"]
KIND_OF_TYPE = {arrow_type: kind for kind, (arrow_type, _) in PARQUET_TYPES.items()}


def file_level_problem(item) -> bool:
    content, _ = item
    names = [n.strip().lower() for n in written_header(item)]
    if any(r not in names for r in SPEC.required) or len(set(names)) < len(names):
        return True
    if not isinstance(content, pa.Table):
        return False
    types = {f.name.strip().lower(): KIND_OF_TYPE[f.type] for f in content.schema}
    return any(types[n] not in FITTING.get(n, {"string", "int"}) for n in names if n in SPEC.known_columns)


def written_header(item) -> list[str]:
    content, _ = item
    if isinstance(content, pa.Table):
        return content.column_names
    text = content.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="replace")
    return next(csv.reader(io.StringIO(text, newline="")), [])


@pytest.mark.slow
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(LANDING_FILES)
@example([(b"customer_id,order_ts,amount,currency,currency\n", 0)] * 2)  # found in CI: two identical bad files
# Line endings in any mix; a bare \r ends a record, also inside an unquoted field.
@example([(b'order_id,customer_id,order_ts,amount\no1,c1,x,1\r\n"o\r2",c\r2,x,2\ro3,c3,x,3\n', 4)])
def test_random_malformed_files_never_crash_and_always_reconcile(files) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        landing, warehouse = Path(tmp) / "landing", Path(tmp) / "wh.duckdb"
        (landing / "orders").mkdir(parents=True)
        expected_rows = {}
        for i, (content, records) in enumerate(files):
            if isinstance(content, pa.Table):
                pq.write_table(content, landing / "orders" / f"{i}.parquet")
                expected_rows[f"orders/{i}.parquet"] = records
            else:
                (landing / "orders" / f"{i}.csv").write_bytes(content)
                expected_rows[f"orders/{i}.csv"] = records
        # A byte-identical copy of an earlier file is skipped unread (ingest dedupes by content), so only the
        # first of identical unusable files can be named.
        written = [(landing / name).read_bytes() for name in expected_rows]
        unusable = [
            name
            for i, (name, item) in enumerate(zip(expected_rows, files, strict=True))
            if written[i] not in written[:i] and file_level_problem(item)
        ]
        try:
            result = ingest_input(
                warehouse,
                landing,
                SPEC,
                timezone="Europe/Berlin",
                currency="CNY",
                currencies=["CNY", "USD"],
                run_id="prop",
                now=NOW,
            )
        except LandingFileError as exc:
            assert unusable, f"no file-level problem expected, got: {exc}"
            assert all(name in str(exc) for name in unusable), str(exc)
            return
        assert not unusable, f"{unusable} should have been refused"
        with duckdb.connect(str(warehouse), read_only=True) as con:
            recorded = con.execute(
                """
                select f.source_file, f.rows_read, f.rows_accepted, f.rows_updated, f.rows_quarantined,
                    (select count(*) from landing.orders as o where o.file_sha256 = f.file_sha256),
                    (select count(*) from landing.quarantine as q where q.file_sha256 = f.file_sha256
                        and q.source_row between 1 and f.rows_read),
                    (select count(distinct source_row) from landing.quarantine as q
                        where q.file_sha256 = f.file_sha256)
                from landing.ingested_files as f
                """
            ).fetchall()
        loaded = {f.source_file: f for f in result.loaded}
        for source_file, read, accepted, updated, quarantined, stored, in_quarantine, distinct_rows in recorded:
            assert read == expected_rows[source_file], source_file  # every record written was read
            assert read == accepted + updated + quarantined, source_file
            assert (stored, in_quarantine, distinct_rows) == (accepted, quarantined, quarantined), source_file
            assert loaded[source_file].reconciles
        skipped = {f.source_file for f in result.files if f.skipped}  # byte-identical copies of an earlier file
        assert {r[0] for r in recorded} | skipped == set(expected_rows)
