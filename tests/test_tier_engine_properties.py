"""Properties of the tier engine over random order streams and policies, computed by the real dbt models on
DuckDB (nothing reimplemented here): a member who spends more on the same days never has a lower tier
(thresholds do not decrease, so tiers are monotone in spend), and the state after a date range does not
depend on how the range is split into runs."""

from __future__ import annotations

import shutil
import tempfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.engine_harness import Engine, write_landing

pytestmark = pytest.mark.slow

START, END = date(2025, 1, 1), date(2025, 4, 30)
DAYS = (END - START).days


@st.composite
def policies(draw: st.DrawFn) -> str:
    silver = draw(st.integers(100, 1500))
    gold = silver + draw(st.integers(0, 2500))
    keep = draw(st.sampled_from([1.0, 0.8, 0.5]))
    mode = draw(st.sampled_from(["immediate", "periodic"]))
    months = draw(st.sampled_from([1, 2, 3]))
    max_drop = draw(st.sampled_from(["null", "1"]))
    window = draw(st.integers(5, 60))
    return (
        f"version: p\ncurrency: CNY\ntimezone: UTC\nqualification: {{window_days: {window}}}\n"
        f"downgrade: {{mode: {mode}, every_months: {months}, anchor: calendar, max_drop: {max_drop}}}\n"
        "tiers:\n  - {code: bronze, name: Bronze}\n"
        f"  - {{code: silver, name: Silver, min_spend: {silver}, keep: {{min_spend: {int(silver * keep)}}}}}\n"
        f"  - {{code: gold, name: Gold, min_spend: {gold}, keep: {{min_spend: {int(gold * keep)}}}}}\n"
    )


streams = st.lists(st.tuples(st.integers(0, DAYS), st.integers(1, 3000)), min_size=1, max_size=8)


def orders_for(customer: str, stream: list[tuple[int, int]], factor: int) -> list[dict]:
    return [
        {
            "order_id": f"{customer}-{i}",
            "customer_id": customer,
            "order_ts": f"{START + timedelta(days=day)} 12:00:00",
            "amount": str(amount * factor),
        }
        for i, (day, amount) in enumerate(stream)
    ]


RANKS = "case tier when 'bronze' then 1 when 'silver' then 2 else 3 end"


@settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck))
@given(policy=policies(), stream=streams, split=st.integers(1, DAYS - 1))
def test_more_spend_never_ranks_lower_and_splits_do_not_matter(policy: str, stream: list, split: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        # 'more' buys on the same days as 'less', twice as much.
        landing = write_landing(
            root / "landing", orders_for("less", stream, 1) + orders_for("more", stream, 2), ["less", "more"]
        )
        whole = Engine(root / "whole")
        whole(landing, START, policy)
        shutil.copytree(whole.home, root / "split")
        split_runs = Engine(root / "split")
        whole(landing, END, policy)
        split_runs(landing, START + timedelta(days=split), policy)
        split_runs(landing, END, policy)

        assert whole.state() == split_runs.state()
        assert whole.timeline() == split_runs.timeline()
        # Day by day over the range, from the SCD2 history: 'more' is never below 'less'.
        lower_days = whole.query(
            f"""
            with days as (
                select cast(range as date) as day from range(date '{START}', date '{END}' + 1, interval 1 day)
            ),
            ranked as (
                select days.day, h.customer_id, {RANKS} as tier_rank
                from days join published_state.tier_history as h
                    on h.valid_from <= days.day and (h.valid_to is null or days.day < h.valid_to)
            )
            select less.day from ranked as less join ranked as more
                on less.day = more.day and less.customer_id = 'less' and more.customer_id = 'more'
            where more.tier_rank < less.tier_rank
            """
        )
        assert lower_days == []
