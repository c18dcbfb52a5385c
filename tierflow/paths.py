"""Where everything lives: the repository's project folders and the layout of a tierflow home."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"
FX_RATES_SEED = DBT_PROJECT_DIR / "seeds" / "fx_rates.csv"


@dataclass(frozen=True)
class Home:
    """The layout of a tierflow home: the working warehouse, what is published, exports and run records.

    Only the pipeline opens `warehouse`; BI tools read `published_duckdb` (replaced atomically) or the
    Parquet copies, CRM syncs read `crm_exports`.
    """

    root: Path

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse" / "warehouse.duckdb"

    @property
    def published_dir(self) -> Path:
        return self.root / "published"

    @property
    def published_duckdb(self) -> Path:
        return self.published_dir / "tierflow.duckdb"

    @property
    def published_parquet(self) -> Path:
        return self.published_dir / "parquet"

    @property
    def crm_exports(self) -> Path:
        return self.root / "exports" / "crm"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster"

    @property
    def dbt_target(self) -> Path:
        return self.root / "dbt" / "target"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def managed(self) -> list[str]:
        """The directories tierflow writes, relative to the root (they must not lead out of it)."""
        return ["warehouse", "published", "exports", "reports", "runs", "tmp", "dagster", "dbt"]

    def run_dir(self, run_id: str) -> Path:
        return self.runs / run_id

    def ensure(self) -> Home:
        for path in (self.warehouse.parent, self.published_dir, self.crm_exports, self.runs, self.tmp):
            path.mkdir(parents=True, exist_ok=True)
        return self
