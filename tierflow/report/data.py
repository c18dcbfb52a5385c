"""What the report shows, read from the warehouse right after publication (the marts of this run)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tierflow.warehouse import connect

LIFECYCLE_ORDER = ("prospect", "new", "reactivated", "active", "at_risk", "dormant", "churned")


@dataclass
class ReportData:
    run_id: str
    as_of: str
    policy_version: str
    tiers: list[tuple[str, str, int]]  # code, name, members (lowest first)
    migrations: list[tuple[str | None, str, int]]  # from tier (None: new), to tier, customers
    previous_as_of: str | None
    trends: list[tuple[str, str, int, float | None, float | None]]  # as_of, tier, members, active, repurchase
    lifecycle: list[tuple[str, int]]
    rfm_grid: dict[tuple[int, int], tuple[int, str]]  # (R, F) -> customers, segment
    movers: list[tuple[str, str | None, str, int, float | None, float]]  # id, from, to, change, spend then, now
    key_figures: dict[str, float | int | str | None] = field(default_factory=dict)  # business KPIs
    data_quality: dict[str, float | int | None] = field(default_factory=dict)  # about the input, not the members

    def figures(self) -> dict[str, float | int | str | None]:
        """Every figure by its name: the business KPIs, then the data-quality ones."""
        return {**self.key_figures, **self.data_quality}


def load_report_data(warehouse: Path) -> ReportData:
    with connect(warehouse, read_only=True) as con:
        run_id, as_of, version = con.execute(
            "select run_id, cast(as_of_date as varchar), policy_version from tierflow.run_parameters"
        ).fetchall()[0]
        tiers = con.execute(
            "select tier, tier_name, members from marts.tier_kpis where source_run_id = ? order by tier_rank",
            [run_id],
        ).fetchall()
        migrations = con.execute(
            "select from_tier, to_tier, customers from marts.tier_migrations order by from_tier_rank, to_tier_rank"
        ).fetchall()
        previous = con.execute("select cast(max(previous_as_of_date) as varchar) from marts.tier_migrations").fetchall()
        trends = con.execute(
            "select cast(as_of_date as varchar), tier, members, cast(active_rate as double), "
            "cast(repurchase_rate as double) from marts.tier_kpis order by as_of_date, tier_rank"
        ).fetchall()
        lifecycle = dict(
            con.execute("select lifecycle_stage, count(*) from marts.customer_tiers group by all").fetchall()
        )
        grid = con.execute(
            "select rfm_recency_score, rfm_frequency_score, count(*), min(rfm_segment) from marts.customer_segments "
            "where rfm_recency_score is not null group by all"
        ).fetchall()
        movers = con.execute(
            "select customer_id, previous_tier, tier, tier_rank_change, cast(previous_spend_365d as double), "
            "cast(spend_365d as double) from marts.tier_movers "
            "order by abs(tier_rank_change) desc, abs(spend_365d - previous_spend_365d) desc, customer_id limit 10"
        ).fetchall()
        totals = con.execute(
            "select count(*), avg(case when lifecycle_stage in ('new', 'reactivated', 'active') then 1.0 else 0 end), "
            "avg(case when orders_365d >= 2 then 1.0 else 0 end) from marts.customer_tiers"
        ).fetchall()[0]
        moves = con.execute(
            "select count(*) filter (where tier_rank_change > 0), count(*) filter (where tier_rank_change < 0) "
            "from marts.tier_movers"
        ).fetchall()[0]
        unmapped = con.execute("select unmapped_occupation_customers from marts.run_figures").fetchall()[0][0]
    segments = [r for r in grid if r[3] == "champions"]
    key_figures: dict[str, float | int | str | None] = {
        "customers": totals[0],
        "recently_active_share": round(float(totals[1] or 0), 4),
        "repurchase_rate": round(float(totals[2] or 0), 4),
        "upgrades": moves[0],
        "downgrades": moves[1],
        "champions": sum(r[2] for r in segments),
        "churned": lifecycle.get("churned", 0),
    }
    return ReportData(
        run_id=run_id,
        as_of=as_of,
        policy_version=version,
        tiers=tiers,
        migrations=migrations,
        previous_as_of=previous[0][0] if previous else None,
        trends=trends,
        lifecycle=[(stage, lifecycle.get(stage, 0)) for stage in LIFECYCLE_ORDER],
        rfm_grid={(r[0], r[1]): (r[2], r[3]) for r in grid},
        movers=movers,
        key_figures=key_figures,
        data_quality={"unmapped_occupations": unmapped},
    )
