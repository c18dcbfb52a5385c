"""Landing zones for the benchmark, generated once with `tierflow generate` and cached by their parameters.

A cached zone is complete when its marker file exists (written last); it also records how long generating
it took, so that figure is reported even when the zone comes from the cache. The day after the zone's end is
generated next to it (`tierflow generate --next-days 1`) into its own folder, so the full run never sees it.
"""

import json
import os
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from bench.measure import measure, python_cmd

MARKER = ".bench.json"
DAYS = 730  # two years of orders
SEED = 1
# A fixed past end date: the cache key stays stable and nothing is later than the moment of ingestion.
END = date(2026, 10, 31)
# Bumped when the generator writes other bytes for the same parameters (2: typed Parquet), so no stale
# cached zone is measured.
GENERATOR_VERSION = 2


@dataclass(frozen=True)
class Zone:
    customers: int
    fmt: str
    dirty_rate: float
    root: Path  # the work directory

    @property
    def key(self) -> str:
        return f"{self.fmt}_{self.customers}c_{DAYS}d_s{SEED}_{END}_dirty{self.dirty_rate:g}_g{GENERATOR_VERSION}"

    @property
    def landing(self) -> Path:
        return self.root / "landing" / self.key

    @property
    def next_day(self) -> Path:
        return self.root / "next_day" / self.key

    @property
    def next_as_of(self) -> date:
        return END + timedelta(days=1)

    def _generate_args(self, out: Path) -> list[str]:
        return [
            "-m",
            "tierflow.cli",
            "generate",
            "--customers",
            str(self.customers),
            "--days",
            str(DAYS),
            "--seed",
            str(SEED),
            "--end",
            END.isoformat(),
            "--format",
            self.fmt,
            "--dirty-rate",
            str(self.dirty_rate),
            "--out",
            str(out),
        ]

    def ensure(self, say) -> dict:
        """Generate what is missing; returns the marker: the generate measurement and the row counts."""
        marker = self.landing / MARKER
        if marker.exists():
            say(f"landing {self.key}: cached")
            return json.loads(marker.read_text())
        shutil.rmtree(self.landing, ignore_errors=True)
        shutil.rmtree(self.next_day, ignore_errors=True)
        say(f"landing {self.key}: generating …")
        gen = measure(python_cmd(*self._generate_args(self.landing)))
        if gen.exit_code:
            raise RuntimeError(f"tierflow generate failed: {gen.stderr_tail}")
        nxt = measure(python_cmd(*self._generate_args(self.next_day), "--next-days", "1"))
        if nxt.exit_code:
            raise RuntimeError(f"tierflow generate --next-days failed: {nxt.stderr_tail}")
        info = {
            "generate": {"seconds": gen.seconds, "peak_rss_bytes": gen.peak_rss_bytes, "exit_code": 0},
            "generated_on": date.today().isoformat(),
            "summary": gen.stderr_tail.splitlines()[-1] if gen.stderr_tail else "",
            "bytes": sum(p.stat().st_size for p in self.landing.rglob("*") if p.is_file()),
        }
        marker.write_text(json.dumps(info, indent=2))
        return info

    def link_into(self, landing: Path, *, with_next_day: bool) -> None:
        """Hard links (copies across file systems) of the zone's files under `landing`, as a run expects."""
        sources = [self.landing] + ([self.next_day] if with_next_day else [])
        for src_root in sources:
            for src in src_root.rglob("*"):
                if not src.is_file() or src.name == MARKER:
                    continue
                dst = landing / src.relative_to(src_root)
                if dst.exists():
                    continue
                dst.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(src, dst)
                except OSError:
                    shutil.copy2(src, dst)
