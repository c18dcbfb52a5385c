"""Property: the freshness gate's newest local order date, which converts only the last UTC days when it can,
equals converting every order, for any orders, as-of date and time zone (UTC+14 to UTC-12, and zones that
change the clock at midnight)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tierflow.gates.measures import _local_date, newest_order_date
from tierflow.warehouse import scalar

ZONES = ("Pacific/Kiritimati", "Etc/GMT+12", "America/Santiago", "America/Havana", "Asia/Shanghai", "UTC")
AS_OF = date(2025, 4, 6)  # Santiago leaves summer time at midnight that night
MOMENTS = st.integers(min_value=-10 * 24 * 60, max_value=3 * 24 * 60).map(
    lambda minutes: datetime(2025, 4, 6) + timedelta(minutes=minutes)
)


def _every_order(con: duckdb.DuckDBPyConnection, as_of: date, zone: str) -> date | None:
    local = _local_date("order_ts", zone)
    return scalar(con, f"select max(d) from (select {local} as d from landing.orders) where d <= ?", [as_of])


@settings(max_examples=150, deadline=None)
@given(
    moments=st.lists(MOMENTS, max_size=6),
    zone=st.sampled_from(ZONES),
    as_of=st.sampled_from([AS_OF - timedelta(days=d) for d in range(4)]),
)
# Kiritimati (UTC+14): the newest order is just before the recent UTC days, yet on the local day RECENT_DAYS back.
@example(moments=[datetime(2025, 4, 2, 23, 0)], zone="Pacific/Kiritimati", as_of=AS_OF - timedelta(days=1))
# Only an order past the as-of date locally is recent: the answer is an older one.
@example(moments=[datetime(2025, 4, 6, 11, 0), datetime(2025, 3, 30, 12, 0)], zone="Pacific/Kiritimati", as_of=AS_OF)
def test_newest_order_date_equals_converting_every_order(moments: list[datetime], zone: str, as_of: date) -> None:
    with duckdb.connect() as con:
        con.execute("create schema landing")
        con.execute("create table landing.orders (order_ts timestamp)")
        if moments:
            con.executemany("insert into landing.orders values (?)", [[m] for m in moments])
        assert newest_order_date(con, as_of, zone) == _every_order(con, as_of, zone)
