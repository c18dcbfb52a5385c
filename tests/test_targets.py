"""The same dbt project on DuckDB, PostgreSQL and Apache Spark: one landing zone, three engines, identical
published tables row for row (money to the cent), tier notices and household pooling included."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import psycopg
import pytest
import yaml

from tests.conftest import RELAXED_GATES, Runner, fresh_pg_database, policy_with_gates
from tierflow.generate import generate_landing

AS_OF = date(2026, 3, 31)
# Stamped per run, so they differ between any two runs; everything else must be equal.
RUN_STAMPS = {"run_id", "source_run_id", "published_at"}
# Every notice type on (the shipped policy has none), wide enough that each is raised on the landing zone.
NOTICES = {
    "approaching_upgrade": {"within_share": 0.2},
    "downgrade_warning": {"days_before_evaluation": 366},
    "points_expiring": {"days_before": 366, "min_points": 1},
}


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("targets") / "landing"
    generate_landing(root, customers=300, days=400, seed=5, end=AS_OF, dirty_rate=0.01)
    # A later profile file puts 80 members into 40 two-member households (half of them since a date, the
    # others from the run that loads the file), so the engines also pool.
    households = root / "profiles" / "zz_households.csv"
    with duckdb.connect() as con:
        con.execute(
            f"""
            copy (
                -- (replacing the households the generator gave some of them)
                select * exclude (household_id, household_since),
                    'h' || cast((n + 1) // 2 as varchar) as household_id,
                    case when n % 4 < 2 then '2025-09-01' else '' end as household_since
                from (
                    select *, row_number() over (order by customer_id) as n
                    from read_csv('{root}/profiles/*.csv', all_varchar = true)
                    where customer_id is not null
                    qualify row_number() over (partition by customer_id order by signup_date) = 1
                )
                where n <= 80
            ) to '{households}' (header)
            """
        )
    return root


@pytest.fixture(scope="module")
def engine_database() -> Iterator[str]:
    """A PostgreSQL database of its own for the models, dropped afterwards."""
    with fresh_pg_database("tierflow_engine") as dsn:
        yield dsn


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = policy_with_gates(tmp_path_factory.mktemp("policy") / "notices.yml", **RELAXED_GATES)
    policy = yaml.safe_load(path.read_text(encoding="utf-8"))
    path.write_text(yaml.safe_dump({**policy, "notices": NOTICES, "pooling": {"by": "household"}}), encoding="utf-8")
    return path


def run_on(target: str, landing: Path, home: Path, policy: Path) -> Runner:
    runner = Runner(home, policy)
    code, summary = runner(landing, AS_OF, "--target", target)
    assert code == 0, (target, summary.get("message"))
    assert summary["status"] == "published"
    return runner


@pytest.fixture(scope="module")
def duckdb_run(landing: Path, policy: Path, tmp_path_factory: pytest.TempPathFactory) -> Runner:
    runner = run_on("duckdb", landing, tmp_path_factory.mktemp("duckdb") / "home", policy)
    kinds = {r[0] for r in runner.published("select distinct notice_type from tier_notices")}
    assert kinds == set(NOTICES), "every notice type must be compared"
    (pooled,) = runner.published("select count(*) from customer_tiers where household_members = 2")[0]
    assert pooled >= 60, "households must be compared"
    return runner


def published_rows(runner: Runner) -> dict[str, list[tuple]]:
    """Every published table (but the publish log) without its run stamps, sorted."""
    tables: dict[str, list[tuple]] = {}
    with duckdb.connect(str(runner.published_duckdb), read_only=True) as con:
        names = [r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()]
        for name in sorted(set(names) - {"publish_log"}):
            columns = [r[0] for r in con.execute(f'describe "{name}"').fetchall() if r[0] not in RUN_STAMPS]
            select = ", ".join(f'"{c}"' for c in columns)
            tables[name] = sorted(con.execute(f'select {select} from "{name}"').fetchall(), key=repr)
    return tables


def assert_same_tables(expected: dict[str, list[tuple]], actual: dict[str, list[tuple]], target: str) -> None:
    assert set(actual) == set(expected), target
    for name, rows in expected.items():
        assert rows, f"{name} is empty: the comparison would prove nothing"
        missing = [r for r in rows if r not in set(actual[name])]
        extra = [r for r in actual[name] if r not in set(rows)]
        assert not missing and not extra, f"{target}: {name} differs: missing {missing[:3]}, extra {extra[:3]}"


@pytest.mark.slow
def test_postgres_engine_publishes_what_duckdb_publishes(
    landing: Path,
    policy: Path,
    duckdb_run: Runner,
    engine_database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TIERFLOW_TARGET_PG_DSN", engine_database)
    postgres_run = run_on("postgres", landing, tmp_path / "home", policy)
    assert_same_tables(published_rows(duckdb_run), published_rows(postgres_run), "postgres")
    # The models really ran there: the marts exist in the engine's database.
    with psycopg.connect(engine_database) as conn:
        count = conn.execute("select count(*) from marts.customer_tiers").fetchone()[0]
    assert count == len(published_rows(postgres_run)["customer_tiers"])

    # The facts model is incremental on PostgreSQL too: a customer whose rows no longer match their facts'
    # checksum is recomputed by the next run (nothing else changed), and the publication is still DuckDB's.
    with psycopg.connect(engine_database) as conn:
        conn.execute(
            "update intermediate.int_customer_days_accumulated set cumulative_spend = cumulative_spend + 1000000, "
            "input_checksum = 0 "
            "where customer_id = (select min(customer_id) from intermediate.int_customer_days_accumulated)"
        )
    code, summary = postgres_run(landing, AS_OF, "--target", "postgres", "--force")
    assert code == 0, summary.get("message")
    assert_same_tables(published_rows(duckdb_run), published_rows(postgres_run), "postgres, incremental")


@pytest.mark.slow
def test_spark_engine_publishes_what_duckdb_publishes(
    landing: Path, policy: Path, duckdb_run: Runner, tmp_path: Path
) -> None:
    spark_run = run_on("spark", landing, tmp_path / "home", policy)
    assert_same_tables(published_rows(duckdb_run), published_rows(spark_run), "spark")
    # Spark's own table files, written by the models on Spark, are there.
    assert list((tmp_path / "home" / "targets" / "spark" / "warehouse").rglob("*.parquet"))


def test_postgres_target_without_dsn_is_a_configuration_error(
    landing: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TIERFLOW_TARGET_PG_DSN", raising=False)
    monkeypatch.delenv("TIERFLOW_PG_DSN", raising=False)
    code, summary = Runner(tmp_path / "home")(landing, AS_OF, "--target", "postgres")
    assert code == 2
    assert "needs TIERFLOW_PG_DSN (or TIERFLOW_TARGET_PG_DSN" in summary["message"]


@pytest.mark.parametrize("variable", ["TIERFLOW_TARGET_PG_DSN", "TIERFLOW_PG_DSN"])
def test_unreachable_postgres_engine_fails_before_ingest_without_leaking_the_password(
    landing: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    # One DSN serves publication and the target unless the target has its own: either one is tried here.
    monkeypatch.setenv(variable, "postgresql://someone:s3cret-pw@127.0.0.1:1/nowhere")
    runner = Runner(tmp_path / "home")
    code, summary = runner(landing, AS_OF, "--target", "postgres")
    assert code == 1
    assert "cannot reach the PostgreSQL target at 127.0.0.1:1/nowhere" in summary["message"]
    assert "s3cret-pw" not in repr(summary)
    assert not (tmp_path / "home" / "warehouse" / "warehouse.duckdb").exists()  # nothing ingested
