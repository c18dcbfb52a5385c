"""Bad landing files on a real DuckDB warehouse (issue 6): nothing crashes with a traceback, nothing is lost.
Every row is accepted or quarantined with a reason, its file and its record number, and per file
rows read = accepted + updated + quarantined, as recorded and as stored."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tierflow.ingest import INPUTS, LandingFileError, ingest_input

NOW = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)
HEADER = b"order_id,customer_id,order_ts,amount\n"


def ingest(landing: Path, name: str = "orders", timezone: str = "Asia/Shanghai"):
    return ingest_input(
        landing.parent / "wh.duckdb",
        landing,
        INPUTS[name],
        timezone=timezone,
        currency="CNY",
        currencies=["CNY", "USD"],
        run_id="test",
        now=NOW,
    )


def query(landing: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(landing.parent / "wh.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def assert_reconciles(landing: Path, name: str = "orders") -> None:
    """Per file: read = accepted + updated + quarantined; accepted and quarantined rows are all stored, every
    quarantined one with a reason, its file and its record number."""
    files = query(
        landing,
        f"""
        select f.source_file, f.rows_read, f.rows_accepted, f.rows_updated, f.rows_quarantined,
            (select count(*) from landing.{name} as t where t.file_sha256 = f.file_sha256),
            (select count(*) from landing.quarantine as q where q.file_sha256 = f.file_sha256
                and q.reason is not null and q.source_file = f.source_file and q.source_row >= 1)
        from landing.ingested_files as f where f.input = '{name}'
        """,
    )
    assert files
    for source_file, read, accepted, updated, quarantined, stored, in_quarantine in files:
        assert read == accepted + updated + quarantined, source_file
        assert (stored, in_quarantine) == (accepted, quarantined), source_file


def landing_with(tmp_path: Path, content: bytes, name: str = "orders", file: str = "a.csv") -> Path:
    landing = tmp_path / "landing"
    (landing / name).mkdir(parents=True)
    (landing / name / file).write_bytes(content)
    return landing


def quarantined(landing: Path) -> list[tuple]:
    return query(landing, "select source_row, reason from landing.quarantine order by source_row")


def test_a_semicolon_separated_file_stops_with_a_clear_message(tmp_path: Path) -> None:
    landing = landing_with(tmp_path, b"order_id;customer_id;order_ts;amount\no1;c1;2025-06-01;1\n")
    with pytest.raises(LandingFileError, match=r"orders/a.csv: missing required column .*';'-separated"):
        ingest(landing)


def test_bom_and_crlf_are_read_like_plain_utf8(tmp_path: Path) -> None:
    landing = landing_with(tmp_path, b"\xef\xbb\xbf" + HEADER.replace(b"\n", b"\r\n") + b"o1,c1,2025-06-01,5\r\n")
    assert ingest(landing).as_dict()["rows_accepted"] == 1
    assert query(landing, "select order_id, customer_id from landing.orders") == [("o1", "c1")]


def test_invalid_bytes_quarantine_their_line_only(tmp_path: Path) -> None:
    content = (
        HEADER
        + b"o1,c1,2025-06-01,5\n"
        + b"o2,caf\xe9,2025-06-01,5\n"  # Latin-1
        + b"o3,c3,2025-06-01,5\n"
        + b"o4,\xff\xfe\x00c,2025-06-01,5\n"  # stray UTF-16 bytes
        + "o5,顾客,2025-06-01,5\n".encode()
        + b"o6,c6,2025-06-01,5,surplus\n"
        + b"o7,c7\n"
        + b"o8,c8,2025-06-01,5\n"
    )
    summary = ingest(landing_with(tmp_path, content)).as_dict()
    landing = tmp_path / "landing"
    assert (summary["rows_read"], summary["rows_accepted"], summary["rows_quarantined"]) == (8, 4, 4)
    assert quarantined(landing) == [
        (2, "invalid_encoding"),
        (4, "invalid_encoding"),
        (6, "too_many_fields"),
        (7, "missing_fields"),
    ]
    assert query(landing, "select order_id, source_row from landing.orders order by 2") == [
        ("o1", 1),
        ("o3", 3),
        ("o5", 5),
        ("o8", 8),
    ]
    assert query(landing, "select record like '%o6,c6%' from landing.quarantine where source_row = 6") == [(True,)]
    assert_reconciles(landing)


def test_quoted_newlines_keep_record_numbers(tmp_path: Path) -> None:
    content = (
        b"order_id,customer_id,order_ts,amount,category\n"
        + b'o1,c1,2025-06-01,5,"two\nlines"\n'
        + b'o2,c1,2025-06-01,-5,"a ""quoted"", comma"\n'
    )
    landing = landing_with(tmp_path, content)
    assert ingest(landing).as_dict()["rows_read"] == 2
    assert query(landing, "select category from landing.orders") == [("two\nlines",)]
    assert quarantined(landing) == [(2, "negative_amount")]
    assert_reconciles(landing)


def test_mixed_line_endings_end_records_where_they_stand(tmp_path: Path) -> None:
    """\\n, \\r\\n and a bare \\r each end a record, in any mix (DuckDB alone refuses a mix: ingest reads a copy
    with \\n throughout); a line break inside quotes is kept, as \\n."""
    content = (
        HEADER.replace(b"\n", b"\r\n")
        + b"o1,c1,2025-06-01,5\r"
        + b'o2,c2,2025-06-01,6,"x"\n'  # one field too many
        + b'"o\r3",c3,2025-06-01,7\r\n'
        + b"o4,c\r4,2025-06-01,8\n"  # a bare \r in a field splits the record
        + b"o5,c5,2025-06-01,9\r"
    )
    landing = landing_with(tmp_path, content)
    summary = ingest(landing).as_dict()
    assert (summary["rows_read"], summary["rows_accepted"], summary["rows_quarantined"]) == (6, 3, 3)
    assert query(landing, "select order_id, source_row from landing.orders order by 2") == [
        ("o1", 1),
        ("o\n3", 3),
        ("o5", 6),
    ]
    assert quarantined(landing) == [(2, "too_many_fields"), (4, "missing_fields"), (5, "missing_fields")]
    assert not list(tmp_path.rglob(".tierflow-lf-*")), "the copy is removed"
    assert_reconciles(landing)


@pytest.mark.parametrize("content", [b"", b"\n\n", b"\xef\xbb\xbf", HEADER, HEADER.replace(b"\n", b"")])
def test_empty_and_header_only_files_load_nothing_and_are_recorded(tmp_path: Path, content: bytes) -> None:
    landing = landing_with(tmp_path, content)
    result = ingest(landing)
    assert [(f.skipped, f.rows_read) for f in result.files] == [(False, 0)]
    assert_reconciles(landing)


def test_duplicated_header_stops_with_a_clear_message(tmp_path: Path) -> None:
    landing = landing_with(tmp_path, b"order_id,customer_id,order_ts,amount,amount\no1,c1,2025-06-01,1,2\n")
    with pytest.raises(LandingFileError, match=r"orders/a.csv: column 'amount' appears more than once"):
        ingest(landing)


def test_extra_columns_and_another_order(tmp_path: Path) -> None:
    content = b"Amount, note ,ORDER_TS,customer_id,order_id\n5,hello,2025-06-01 10:00,c1,o1\n"
    landing = landing_with(tmp_path, content)
    assert ingest(landing).as_dict()["rows_accepted"] == 1
    assert query(landing, "select order_id, amount, extra_columns from landing.orders") == [
        ("o1", pytest.approx(5), '{" note ":"hello"}')
    ]


AMOUNTS = {
    "1,234.56": "unparseable_amount",  # thousands separator
    "12,50": "unparseable_amount",  # comma as decimal mark
    "1e309": "unparseable_amount",
    "NaN": "unparseable_amount",
    "inf": "unparseable_amount",
    "12345678901234567.00": "unparseable_amount",  # beyond decimal(18, 2)
    "-0": None,
    "-0.01": "negative_amount",
    " 7.5 ": None,
}


def test_odd_numbers_are_quarantined_or_read_exactly(tmp_path: Path) -> None:
    lines = [f'o{i},c1,2025-06-01,"{amount}"'.encode() for i, amount in enumerate(AMOUNTS)]
    landing = landing_with(tmp_path, HEADER + b"\n".join(lines) + b"\n")
    ingest(landing)
    expected = [(i + 1, reason) for i, reason in enumerate(AMOUNTS.values()) if reason]
    assert quarantined(landing) == expected
    assert query(landing, "select order_id, amount from landing.orders order by 1") == [
        ("o6", pytest.approx(0)),
        ("o8", pytest.approx(7.5)),
    ]
    assert_reconciles(landing)


def test_impossible_dates_and_daylight_saving_gaps(tmp_path: Path) -> None:
    content = (
        HEADER
        + b"o1,c1,2024-02-30 10:00:00,1\n"  # no such day
        + b"o2,c1,2025-03-30 02:30:00,1\n"  # a local time skipped by the spring-forward gap in Berlin
        + b"o3,c1,2024-10-27 02:30:00,1\n"  # a local time that happens twice
        + b"o4,c1,2025-06-01T10:00:00-05:00,1\n"
        + b"o5,c1,2025-06-01 25:00:00,1\n"
    )
    landing = landing_with(tmp_path, content)
    ingest(landing, timezone="Europe/Berlin")
    assert quarantined(landing) == [(1, "unparseable_timestamp"), (5, "unparseable_timestamp")]
    stored = dict(query(landing, "select order_id, cast(order_ts as varchar) from landing.orders"))
    assert stored["o4"] == "2025-06-01 15:00:00"  # stored in UTC
    assert stored["o2"] in {"2025-03-30 00:30:00", "2025-03-30 01:30:00"}  # a definite instant, not an error
    assert stored["o3"] in {"2024-10-27 00:30:00", "2024-10-27 01:30:00"}
    profiles = landing_with(tmp_path / "p", b"customer_id,signup_date\n0042,2024-02-30\n0043,2024-02-29\n", "profiles")
    ingest(profiles, "profiles")
    assert quarantined(profiles) == [(1, "unparseable_date")]
    assert query(profiles, "select customer_id from landing.profiles") == [("0043",)]  # leading zeros stay


def test_long_fields_and_sql_in_text_are_stored_verbatim(tmp_path: Path) -> None:
    long_text = "x" * 10_000
    evil = "'); drop table landing.orders; --"
    content = HEADER.replace(b"\n", b",category,channel\n") + f'o1,c1,2025-06-01,1,{long_text},"{evil}"\n'.encode()
    landing = landing_with(tmp_path, content)
    ingest(landing)
    assert query(landing, "select length(category), channel from landing.orders") == [(10_000, evil)]


def test_a_symlink_out_of_the_landing_zone_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "secret.csv"
    outside.write_bytes(HEADER + b"o1,c1,2025-06-01,1\n")
    landing = landing_with(tmp_path, HEADER + b"o2,c1,2025-06-01,1\n")
    (landing / "orders" / "link.csv").symlink_to(outside)
    with pytest.raises(LandingFileError, match=r"orders/link.csv: is a symlink to .*secret.csv, outside the landing"):
        ingest(landing)
    (landing / "orders" / "link.csv").unlink()
    (landing / "orders" / "inside.csv").symlink_to(landing / "orders" / "a.csv")  # inside: fine (and a copy)
    files = {f.source_file: f.skipped for f in ingest(landing).files}
    assert files == {"orders/a.csv": False, "orders/inside.csv": True}


def test_typed_parquet_columns_follow_the_same_rules(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    (landing / "orders").mkdir(parents=True)
    table = pa.table(
        {
            "order_id": pa.array([1, 2, 3, 4, 5], pa.int64()),
            "customer_id": ["007", "c", "c", "c", "c"],
            "order_ts": pa.array([datetime(2025, 6, 1, 10)] * 4 + [datetime(2099, 1, 1)], pa.timestamp("us")),
            "amount": [10.5, math.nan, math.inf, -0.0, 1.0],
            "refunded_amount": pa.array([None, None, None, None, None], pa.float64()),
        }
    )
    pq.write_table(table, landing / "orders" / "typed.parquet")
    ingest(landing)
    assert quarantined(landing) == [(2, "unparseable_amount"), (3, "unparseable_amount"), (5, "future_timestamp")]
    # a naive timestamp is local time (Asia/Shanghai), stored in UTC; ids become strings
    assert query(landing, "select order_id, customer_id, cast(order_ts as varchar) from landing.orders order by 1") == [
        ("1", "007", "2025-06-01 02:00:00"),
        ("4", "c", "2025-06-01 02:00:00"),
    ]
    assert_reconciles(landing)
