"""Tests for the demo landing-zone generator (tierflow/generate/); small sizes, seconds in all."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tierflow import generate as gen
from tierflow.generate import (
    EVENTS_COLUMNS,
    ORDERS_COLUMNS,
    PROFILES_COLUMNS,
    TEXT_DIRTY_KINDS,
    TYPED_DIRTY_KINDS,
    GenerateReport,
    generate_landing,
    generate_next_days,
)
from tierflow.generate import profiles as gen_profiles
from tierflow.generate.text import spelled_timestamps
from tierflow.ingest.inputs import INPUTS

END = date(2026, 6, 30)
TS_LOCAL = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
TS_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")
TS_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
UNITS_PER_USD = {"CNY": 7.2, "USD": 1.0, "HKD": 7.8}
TIER_EDGES = [-np.inf, 1000, 5000, 10000, np.inf]


def _read_csv(path: Path) -> pd.DataFrame:
    # Exact text: an empty field stays "" so tests can tell "0" from empty.
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _read_all(folder: Path, pattern: str) -> pd.DataFrame:
    return pd.concat([_read_csv(p) for p in sorted(folder.glob(pattern))], ignore_index=True)


def _local_times(ts: pd.Series, *, strict: bool = True) -> pd.Series:
    """Policy-zone wall time of each of the three timestamp spellings; NaT for others unless strict."""
    spelled = ts.str.match(TS_LOCAL) | ts.str.match(TS_OFFSET) | ts.str.match(TS_UTC)
    assert not strict or spelled.all()
    utc = ts.str.endswith("Z")
    text = ts.where(spelled, "").str.slice(0, 19).str.replace("T", " ")
    wall = pd.to_datetime(text, format="%Y-%m-%d %H:%M:%S", errors="coerce")
    return wall.where(~utc, wall + pd.Timedelta(hours=8))


def _net_spend_cny(orders: pd.DataFrame, end: date) -> pd.Series:
    """Net spend in CNY over the 365 days ending on `end`, per customer with any order."""
    local = _local_times(orders["order_ts"])
    amount = orders["amount"].astype(float)
    refunded = pd.to_numeric(orders["refunded_amount"].replace("", "0"))
    to_cny = orders["currency"].map({c: 7.2 / u for c, u in UNITS_PER_USD.items()})
    net = np.where(orders["status"] == "completed", amount - refunded, 0.0) * to_cny
    since = pd.Timestamp(end) - pd.Timedelta(days=364)
    in_window = (local >= since).to_numpy()
    spend = pd.Series(net[in_window]).groupby(orders["customer_id"].to_numpy()[in_window]).sum()
    return spend.reindex(orders["customer_id"].unique(), fill_value=0.0)


def _month_labels(start: date, end: date) -> list[str]:
    labels = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        labels.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return labels


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> GenerateReport:
    out = tmp_path_factory.mktemp("clean")
    return generate_landing(out, customers=200, days=400, seed=7, end=END)


@pytest.fixture(scope="module")
def dirty(tmp_path_factory: pytest.TempPathFactory) -> GenerateReport:
    out = tmp_path_factory.mktemp("dirty")
    return generate_landing(out, customers=300, days=400, seed=11, end=END, dirty_rate=0.05)


# --- determinism -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", gen.FORMATS)
def test_same_arguments_give_identical_bytes(tmp_path: Path, fmt: str) -> None:
    args = dict(customers=150, days=90, end=END, fmt=fmt, dirty_rate=0.05)
    generate_landing(tmp_path / "a", seed=3, **args)
    generate_landing(tmp_path / "b", seed=3, **args)
    generate_landing(tmp_path / "c", seed=4, **args)
    a, b, c = _files(tmp_path / "a"), _files(tmp_path / "b"), _files(tmp_path / "c")
    assert a == b
    assert a.keys() == c.keys()
    june = "orders/orders_2026-06." + ("csv" if fmt == "csv" else "parquet")
    assert a[june] != c[june]


# --- layout ------------------------------------------------------------------------------------------------


def test_layout_and_headers(clean: GenerateReport) -> None:
    out = clean.out_dir
    months = _month_labels(END - timedelta(days=399), END)
    assert sorted(p.name for p in (out / "orders").iterdir()) == [f"orders_{m}.csv" for m in months]
    assert sorted(p.name for p in (out / "events").iterdir()) == [f"events_{m}.csv" for m in months]
    assert [p.name for p in (out / "profiles").iterdir()] == ["profiles.csv"]
    assert sorted(clean.files) == sorted(p for p in out.rglob("*") if p.is_file())

    expected = {"orders": ORDERS_COLUMNS, "profiles": PROFILES_COLUMNS, "events": EVENTS_COLUMNS}
    for path in clean.files:
        header = path.read_bytes().split(b"\n", 1)[0].decode()
        assert header == ",".join(expected[path.parent.name])
    # The generator writes exactly the ingest contract, so every column is one ingest knows.
    for name, columns in expected.items():
        assert columns == INPUTS[name].known_columns


def test_every_dirty_kind_is_a_reason_ingest_gives() -> None:
    for kind in gen.DIRTY_KINDS:
        name, reason = kind.split(".")
        entity = name.removesuffix("s")
        known = {rule.reason for rule in INPUTS[name].rules} | {f"duplicate_{entity}", f"duplicate_{entity}_conflict"}
        assert reason in known, kind


def test_report_counts_match_files(clean: GenerateReport) -> None:
    out = clean.out_dir
    assert clean.customers == 200
    assert clean.orders == len(_read_all(out / "orders", "*.csv"))
    assert clean.profiles == len(_read_csv(out / "profiles" / "profiles.csv"))
    assert clean.events == len(_read_all(out / "events", "*.csv"))
    assert clean.dirty_rows == {}


def test_clean_values_follow_the_contract(clean: GenerateReport) -> None:
    orders = _read_all(clean.out_dir / "orders", "*.csv")
    assert orders["order_id"].is_unique
    assert orders["order_id"].str.fullmatch(r"O\d{8}").all()
    assert orders["customer_id"].str.fullmatch(r"C\d{7}").all()
    assert orders["amount"].str.fullmatch(r"\d+\.\d\d").all()
    assert set(orders["currency"]) <= {"CNY", "USD", "HKD"}
    assert set(orders["status"]) == {"completed", "cancelled", "refunded"}
    assert set(orders["channel"]) == {"store", "web", "app", "mini_program"}
    assert set(orders["category"]) <= set(gen.CATEGORIES)
    assert (orders["store_id"] != "").eq(orders["channel"] == "store").all()
    assert orders.loc[orders["channel"] == "store", "store_id"].str.fullmatch(r"S0[0-4]\d").all()

    amount = orders["amount"].astype(float)
    refunded = pd.to_numeric(orders["refunded_amount"].replace("", "0"))
    full = orders["status"] == "refunded"
    assert (orders.loc[full, "refunded_amount"] == orders.loc[full, "amount"]).all()
    partial = (orders["status"] == "completed") & (refunded > 0)
    assert partial.any() and (refunded[partial] < amount[partial]).all()
    assert {"0", ""} <= set(orders.loc[~full & ~partial, "refunded_amount"])

    ts = orders["order_ts"]
    styles = ts.str.match(TS_LOCAL) | ts.str.match(TS_OFFSET) | ts.str.match(TS_UTC)
    assert styles.all()
    assert ts.str.match(TS_OFFSET).any() and ts.str.match(TS_UTC).any()

    profiles = _read_csv(clean.out_dir / "profiles" / "profiles.csv")
    assert profiles["customer_id"].is_unique
    assert profiles["signup_date"].str.fullmatch(r"\d{4}-\d\d-\d\d").all()
    assert set(profiles["gender"]) <= {"F", "M", ""}
    assert set(profiles["marketing_opt_in"]) == {"true", "false"}
    phones = profiles.loc[profiles["phone"] != "", "phone"]
    assert phones.str.fullmatch(r"\+86 1\d\d \d{4} \d{4}").all()

    events = _read_all(clean.out_dir / "events", "*.csv")
    assert events["event_id"].is_unique
    assert events["event_ts"].str.fullmatch(TS_LOCAL).all()
    assert set(events["event_type"]) <= {"sign_in", "referral", "review", "activity", "share"}


def test_signup_precedes_first_order_and_prospects_exist(tmp_path: Path) -> None:
    report = generate_landing(tmp_path, customers=1500, days=730, seed=5, end=END)
    orders = _read_all(tmp_path / "orders", "*.csv")
    profiles = _read_csv(tmp_path / "profiles" / "profiles.csv").set_index("customer_id")
    first = _local_times(orders["order_ts"]).dt.date.groupby(orders["customer_id"]).min()
    signup = profiles["signup_date"].map(date.fromisoformat)
    both = first.index.intersection(signup.index)
    assert (signup[both] <= first[both]).all()
    assert (signup < END - timedelta(days=729)).any()  # signed up before the window
    prospects = signup.index.difference(first.index)
    no_profile = first.index.difference(signup.index)
    assert 0.01 < len(prospects) / report.customers < 0.06
    assert 0 < len(no_profile) < 0.03 * len(first)


# --- realism -----------------------------------------------------------------------------------------------


def test_every_tier_band_is_present(clean: GenerateReport) -> None:
    orders = _read_all(clean.out_dir / "orders", "*.csv")
    bands = pd.cut(_net_spend_cny(orders, END), TIER_EDGES, right=False, labels=False).value_counts()
    assert sorted(bands.index) == [0, 1, 2, 3], bands


def test_no_timestamp_after_end(clean: GenerateReport) -> None:
    last = pd.Timestamp(END) + pd.Timedelta(hours=23, minutes=59, seconds=59)
    first = pd.Timestamp(END - timedelta(days=399))
    orders = _read_all(clean.out_dir / "orders", "*.csv")
    local = _local_times(orders["order_ts"])
    assert local.max() <= last and local.min() >= first
    events = _read_all(clean.out_dir / "events", "*.csv")
    event_local = pd.to_datetime(events["event_ts"], format="%Y-%m-%d %H:%M:%S")
    assert event_local.max() <= last and event_local.min() >= first


def test_each_orders_file_holds_its_local_month(clean: GenerateReport) -> None:
    for path in sorted((clean.out_dir / "orders").glob("*.csv")):
        local = _local_times(_read_csv(path)["order_ts"])
        assert (local.dt.strftime("%Y-%m") == path.stem.removeprefix("orders_")).all()


def test_utc_and_offset_spellings_are_the_same_instant() -> None:
    local = np.array([datetime(2025, 3, 1, 5, 6, 7), datetime(2024, 12, 31, 23, 0, 0)], dtype="datetime64[s]")
    secs = local.astype(np.int64)
    text = spelled_timestamps(secs, np.array([2, 1])).to_pylist()
    assert text == ["2025-02-28T21:06:07Z", "2024-12-31T23:00:00+08:00"]


def test_singles_day_is_a_peak(tmp_path: Path) -> None:
    generate_landing(tmp_path, customers=600, days=60, seed=2, end=date(2025, 11, 30))
    local = _local_times(_read_all(tmp_path / "orders", "*.csv")["order_ts"])
    per_day = local.dt.date.value_counts()
    assert per_day[date(2025, 11, 11)] > 3 * per_day.median()


# --- dirty rows --------------------------------------------------------------------------------------------


def test_dirty_rows_of_every_kind(dirty: GenerateReport) -> None:
    assert list(dirty.dirty_rows) == list(TEXT_DIRTY_KINDS)
    assert all(count > 0 for count in dirty.dirty_rows.values()), dirty.dirty_rows
    out = dirty.out_dir
    orders = _read_all(out / "orders", "*.csv")
    order_kinds = [k for k in TEXT_DIRTY_KINDS if k.startswith("orders.")]
    assert 0.03 < sum(dirty.dirty_rows[k] for k in order_kinds) / len(orders) < 0.08
    assert dirty.orders == len(orders)

    amount_ok = orders["amount"].str.fullmatch(r"-?\d+\.\d\d")
    negative = orders["amount"].str.fullmatch(r"-\d+\.\d\d")
    assert (~amount_ok).sum() == dirty.dirty_rows["orders.unparseable_amount"]
    assert negative.sum() == dirty.dirty_rows["orders.negative_amount"]
    repeated = orders[orders["order_id"].duplicated(keep=False)]
    assert repeated["order_id"].nunique() == dirty.dirty_rows["orders.duplicate_order_conflict"]
    assert (repeated.groupby("order_id")["amount"].nunique() == 2).all()
    assert orders["order_ts"].str.startswith("2099-").sum() == dirty.dirty_rows["orders.future_timestamp"]
    assert (
        _local_times(orders["order_ts"], strict=False).isna().sum() == dirty.dirty_rows["orders.unparseable_timestamp"]
    )
    unknown_currency = ~orders["currency"].isin(["CNY", "USD", "HKD"])
    assert unknown_currency.sum() == dirty.dirty_rows["orders.unknown_currency"]
    assert (orders["customer_id"] == "").sum() == dirty.dirty_rows["orders.missing_customer_id"]
    assert (~orders["status"].isin(["completed", "cancelled", "refunded"])).sum() == dirty.dirty_rows[
        "orders.bad_status"
    ]
    valid = amount_ok & ~negative
    refunded = pd.to_numeric(orders["refunded_amount"].replace("", "0"))
    bad_refund = (refunded < 0) | (valid & (refunded > pd.to_numeric(orders["amount"], errors="coerce")))
    assert bad_refund.sum() == dirty.dirty_rows["orders.bad_refund"]

    profiles = _read_csv(out / "profiles" / "profiles.csv")
    assert (profiles["customer_id"] == "").sum() == dirty.dirty_rows["profiles.missing_customer_id"]
    parsed = pd.to_datetime(profiles["signup_date"], format="%Y-%m-%d", errors="coerce")
    assert parsed.isna().sum() == dirty.dirty_rows["profiles.unparseable_date"]

    events = _read_all(out / "events", "*.csv")
    assert (events["customer_id"] == "").sum() == dirty.dirty_rows["events.missing_customer_id"]
    parsed = pd.to_datetime(
        events["event_ts"].where(events["event_ts"].str.match(TS_LOCAL), ""),
        format="%Y-%m-%d %H:%M:%S",
        errors="coerce",
    )
    assert parsed.isna().sum() == dirty.dirty_rows["events.unparseable_timestamp"]


def test_every_file_gets_exactly_floor_rate_times_rows_bad_rows(dirty: GenerateReport) -> None:
    """At rate 5%, a file of n clean rows gets n * 5 // 100 bad ones: never a random count that a small file
    could push over the quarantine gate. Re-sent orders are the only added rows (the second copy of an id)."""
    expected = {"orders": 0, "profiles": 0, "events": 0}
    for name in expected:
        for path in sorted((dirty.out_dir / name).glob("*.csv")):
            rows = _read_csv(path)
            resent = rows["order_id"].duplicated().sum() if name == "orders" else 0
            expected[name] += (len(rows) - resent) * 5 // 100
    actual = {name: sum(n for kind, n in dirty.dirty_rows.items() if kind.startswith(f"{name}.")) for name in expected}
    assert actual == expected and all(expected.values())


def test_dirty_csv_quotes_only_what_needs_quoting(dirty: GenerateReport) -> None:
    text = "".join(p.read_text(encoding="utf-8") for p in sorted((dirty.out_dir / "orders").glob("*.csv")))
    assert '"1,234.56"' in text
    quoted_lines = [line for line in text.splitlines() if '"' in line]
    assert all('"1,234.56"' in line for line in quoted_lines)
    assert len(quoted_lines) < 0.01 * len(text.splitlines())


def test_no_dirty_rows_at_rate_zero(clean: GenerateReport) -> None:
    orders = _read_all(clean.out_dir / "orders", "*.csv")
    assert orders["order_id"].is_unique
    assert orders["amount"].str.fullmatch(r"\d+\.\d\d").all()
    assert (orders["customer_id"] != "").all()
    assert not orders["order_ts"].str.startswith("2099").any()
    profiles = _read_csv(clean.out_dir / "profiles" / "profiles.csv")
    assert (profiles["customer_id"] != "").all()
    assert pd.to_datetime(profiles["signup_date"], format="%Y-%m-%d", errors="coerce").notna().all()
    events = _read_all(clean.out_dir / "events", "*.csv")
    assert (events["customer_id"] != "").all()


# --- parquet -----------------------------------------------------------------------------------------------


def test_text_parquet_is_all_strings_with_csv_semantics(tmp_path: Path) -> None:
    args = dict(customers=120, days=45, seed=9, end=END, dirty_rate=0.1)
    generate_landing(tmp_path / "csv", fmt="csv", **args)
    report = generate_landing(tmp_path / "pq", fmt="parquet-text", **args)
    assert report.files and all(p.suffix == ".parquet" for p in report.files)
    for path in report.files:
        table = pq.read_table(path)
        assert all(field.type == pa.string() for field in table.schema), table.schema
        twin = tmp_path / "csv" / path.relative_to(tmp_path / "pq").with_suffix(".csv")
        from_csv = _read_csv(twin)
        from_parquet = table.to_pandas().fillna("")  # a null in Parquet is an empty field in CSV
        assert list(from_parquet.columns) == list(from_csv.columns)
        pd.testing.assert_frame_equal(from_parquet, from_csv, check_dtype=False)


# Typed Parquet: these columns have a type, every other one is text.
TYPED_COLUMNS = {
    "order_ts": pa.timestamp("us", tz="UTC"),
    "amount": pa.decimal128(18, 2),
    "refunded_amount": pa.decimal128(18, 2),
    "signup_date": pa.date32(),
    "birth_date": pa.date32(),
    "household_since": pa.date32(),
    "marketing_opt_in": pa.bool_(),
    "event_ts": pa.timestamp("us", tz="UTC"),
}


def _read_typed(folder: Path) -> pd.DataFrame:
    return pd.concat([pq.read_table(p).to_pandas() for p in sorted(folder.glob("*.parquet"))], ignore_index=True)


def _as_csv_text(column: pd.Series, arrow_type: pa.DataType) -> pd.Series:
    """A typed column spelled the way the CSV of the same seed spells it (timestamps as policy-zone wall time)."""
    if pa.types.is_timestamp(arrow_type):
        return column.dt.tz_convert("Asia/Shanghai").dt.strftime("%Y-%m-%d %H:%M:%S")
    if pa.types.is_boolean(arrow_type):
        return column.map({True: "true", False: "false"})
    return column.map(lambda v: "" if pd.isna(v) else str(v))  # dates, decimals (two places) and text


def test_typed_parquet_holds_the_same_data_as_csv(tmp_path: Path) -> None:
    args = dict(customers=120, days=45, seed=9, end=END)
    generate_landing(tmp_path / "csv", fmt="csv", **args)
    report = generate_landing(tmp_path / "pq", fmt="parquet", **args)
    for path in report.files:
        table = pq.read_table(path)
        assert {f.name: f.type for f in table.schema} == {
            name: TYPED_COLUMNS.get(name, pa.string()) for name in table.column_names
        }
        from_csv = _read_csv(tmp_path / "csv" / path.relative_to(tmp_path / "pq").with_suffix(".csv"))
        frame = table.to_pandas()
        for field in table.schema:
            expected = from_csv[field.name]
            if field.name == "order_ts":  # CSV spells a few as +08:00 or UTC: compare the instants
                expected = _local_times(expected).dt.strftime("%Y-%m-%d %H:%M:%S")
            if field.name == "refunded_amount":  # the online shop's "0" is a zero amount
                expected = expected.replace("0", "0.00")
            pd.testing.assert_series_equal(_as_csv_text(frame[field.name], field.type), expected, check_names=False)


@pytest.fixture(scope="module")
def typed_dirty(tmp_path_factory: pytest.TempPathFactory) -> GenerateReport:
    out = tmp_path_factory.mktemp("typed_dirty")
    return generate_landing(out, customers=300, days=400, seed=11, end=END, dirty_rate=0.05, fmt="parquet")


def test_typed_parquet_has_the_dirty_rows_a_typed_file_can_hold(typed_dirty: GenerateReport) -> None:
    report, out = typed_dirty, typed_dirty.out_dir
    assert list(report.dirty_rows) == list(TYPED_DIRTY_KINDS)
    assert all(count > 0 for count in report.dirty_rows.values()), report.dirty_rows
    orders = _read_typed(out / "orders")
    assert report.orders == len(orders)
    order_kinds = [k for k in TYPED_DIRTY_KINDS if k.startswith("orders.")]
    assert 0.03 < sum(report.dirty_rows[k] for k in order_kinds) / len(orders) < 0.08

    amount, refunded = orders["amount"].astype(float), orders["refunded_amount"].astype(float).fillna(0.0)
    assert (amount < 0).sum() == report.dirty_rows["orders.negative_amount"]
    repeated = orders[orders["order_id"].duplicated(keep=False)]
    assert repeated["order_id"].nunique() == report.dirty_rows["orders.duplicate_order_conflict"]
    assert (repeated.groupby("order_id")["amount"].nunique() == 2).all()
    assert (orders["order_ts"].dt.year == 2099).sum() == report.dirty_rows["orders.future_timestamp"]
    assert (~orders["currency"].isin(["CNY", "USD", "HKD"])).sum() == report.dirty_rows["orders.unknown_currency"]
    assert orders["customer_id"].isna().sum() == report.dirty_rows["orders.missing_customer_id"]
    statuses = ~orders["status"].isin(["completed", "cancelled", "refunded"])
    assert statuses.sum() == report.dirty_rows["orders.bad_status"]
    bad_refund = (refunded < 0) | ((amount >= 0) & (refunded > amount))
    assert bad_refund.sum() == report.dirty_rows["orders.bad_refund"]
    assert orders["order_ts"].notna().all() and orders["amount"].notna().all()  # nothing "unparseable"

    profiles = _read_typed(out / "profiles")
    assert profiles["customer_id"].isna().sum() == report.dirty_rows["profiles.missing_customer_id"]
    future = profiles["signup_date"].map(lambda d: d.year == 2099)
    assert future.sum() == report.dirty_rows["profiles.future_date"]
    events = _read_typed(out / "events")
    assert events["customer_id"].isna().sum() == report.dirty_rows["events.missing_customer_id"]
    assert (events["event_ts"].dt.year == 2099).sum() == report.dirty_rows["events.future_timestamp"]


# --- files and arguments -----------------------------------------------------------------------------------


def test_regenerating_replaces_earlier_files(tmp_path: Path) -> None:
    generate_landing(tmp_path, customers=50, days=120, seed=1, end=END, fmt="parquet")
    (tmp_path / "orders" / "README.txt").write_text("keep me")
    report = generate_landing(tmp_path, customers=50, days=20, seed=1, end=END)
    on_disk = sorted(p for p in tmp_path.rglob("*") if p.is_file() and p.name != "README.txt")
    assert on_disk == sorted(report.files)
    assert (tmp_path / "orders" / "README.txt").exists()


def test_next_days_extend_the_same_customers(tmp_path: Path) -> None:
    base = generate_landing(tmp_path, customers=400, days=400, seed=5, end=END)
    report = generate_next_days(tmp_path, count=2, customers=400, days=400, seed=5, end=END)
    day1, day2 = tmp_path / "orders" / "orders_2026-07-01.csv", tmp_path / "orders" / "orders_2026-07-02.csv"
    assert report.files == [day1, day2]
    assert all(p.exists() for p in base.files)  # the landing zone itself is left alone
    first = _read_csv(day1)
    both = pd.concat([first, _read_csv(day2)])
    assert report.orders == len(both) > 0
    assert list(first.columns) == list(ORDERS_COLUMNS)
    assert set(_local_times(first["order_ts"]).dt.date) == {date(2026, 7, 1)}
    window = _read_all(tmp_path / "orders", "orders_????-??.csv")
    # Same customers, ids that continue after the window's and never repeat.
    assert set(both["customer_id"]) <= set(_read_csv(tmp_path / "profiles" / "profiles.csv")["customer_id"])
    assert both["order_id"].is_unique and not set(both["order_id"]) & set(window["order_id"])
    assert both["order_id"].min() > window["order_id"].max()
    # Day 1 is the same bytes whether one day or two are asked for; regenerating the zone removes the days.
    day1_bytes = day1.read_bytes()
    generate_next_days(tmp_path, count=1, customers=400, days=400, seed=5, end=END)
    assert day1.read_bytes() == day1_bytes
    generate_landing(tmp_path, customers=400, days=400, seed=5, end=END)
    assert not day1.exists() and not day2.exists()


def test_profiles_split_into_numbered_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gen_profiles, "PROFILES_PER_FILE", 40)
    report = generate_landing(tmp_path, customers=100, days=30, seed=1, end=END)
    names = sorted(p.name for p in (tmp_path / "profiles").iterdir())
    assert names == ["profiles_0001.csv", "profiles_0002.csv", "profiles_0003.csv"]
    assert sum(len(_read_csv(tmp_path / "profiles" / n)) for n in names) == report.profiles


def test_progress_messages(tmp_path: Path) -> None:
    messages: list[str] = []
    generate_landing(tmp_path, customers=30, days=40, seed=1, end=END, progress=messages.append)
    assert any(re.fullmatch(r"orders 2026-06: [\d,]+ rows", m) for m in messages), messages


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"customers": 0}, "customers"),
        ({"customers": 2.5}, "customers"),
        ({"days": 0}, "days"),
        ({"dirty_rate": 0.51}, "dirty_rate"),
        ({"dirty_rate": -0.01}, "dirty_rate"),
        ({"fmt": "json"}, "format"),
        ({"currency": "XYZ"}, "currency"),
        ({"seed": -1}, "seed"),
    ],
)
def test_invalid_arguments(tmp_path: Path, override: dict[str, object], message: str) -> None:
    args: dict[str, object] = dict(customers=10, days=10, seed=1, end=END)
    args.update(override)
    with pytest.raises(ValueError, match=message):
        generate_landing(tmp_path, **args)  # type: ignore[arg-type]
    assert not (tmp_path / "orders").exists()
