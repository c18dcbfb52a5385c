"""python -m bench: the benchmark of issue 7, written to BENCHMARKS.md.

    python -m bench --sizes 100k,1m --formats parquet,csv [--include-10m] [--out BENCHMARKS.md]
    python -m bench --case overrides [--overrides-customers 200 --repetitions 3]

Landing zones are generated once and cached under --work (default bench/results, git-ignored); every
measured command runs in a fresh process. --report-only re-renders the Markdown from the saved results of
earlier invocations (cases run at different times can so be reported together).
"""

import argparse
import json
import re
import shlex
import sys
import time
from pathlib import Path

from bench.harness import CaseResult, measure_references, run_case
from bench.knobs import memory_knobs
from bench.landing import Zone
from bench.overrides import OVERRIDES_FILE, measure_overrides
from bench.report import render, with_overrides_section

REPO = Path(__file__).resolve().parent.parent
_SIZE = re.compile(r"^(\d+)([km]?)$")


def parse_size(text: str) -> int:
    match = _SIZE.match(text.strip().lower())
    if not match or int(match.group(1)) < 1:
        raise argparse.ArgumentTypeError(f"size must be like 500, 100k or 1m, got {text!r}")
    return int(match.group(1)) * {"": 1, "k": 1_000, "m": 1_000_000}[match.group(2)]


def _sizes(text: str) -> list[int]:
    return [parse_size(part) for part in text.split(",") if part.strip()]


def _formats(text: str) -> list[str]:
    formats = [part.strip() for part in text.split(",") if part.strip()]
    bad = [f for f in formats if f not in ("parquet", "csv")]
    if bad or not formats:
        raise argparse.ArgumentTypeError(f"formats must be parquet and/or csv, got {text!r}")
    return formats


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=_sizes, default=_sizes("100k,1m"), help="customers, e.g. 500,100k,1m")
    p.add_argument("--formats", type=_formats, default=["parquet", "csv"], help="parquet and/or csv")
    p.add_argument("--include-10m", action="store_true", help="also 10 M customers, Parquet (about 200 M orders)")
    p.add_argument("--dirty-rate", type=float, default=0.0, help="share of bad rows in the landing zones (0)")
    p.add_argument("--work", type=Path, default=REPO / "bench" / "results", help="cache and results directory")
    p.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md", help="Markdown file to write")
    p.add_argument("--note", help="a line for the report, e.g. what else ran on the machine")
    p.add_argument("--report-only", action="store_true", help="render --out from saved results, measure nothing")
    p.add_argument(
        "--generate-only",
        action="store_true",
        help="only generate (and time) the landing zones, e.g. for the 1 M generate target",
    )
    p.add_argument(
        "--case",
        choices=["sizes", "overrides"],
        default="sizes",
        help="sizes: the cases of --sizes/--formats; overrides: what each private-API override saves per run, on a "
        "small zone (replaces only that section of --out)",
    )
    p.add_argument("--overrides-customers", type=parse_size, default=200, help="customers of the overrides case")
    p.add_argument("--repetitions", type=int, default=3, help="counted runs per configuration (overrides case)")
    p.add_argument(
        "--references-only",
        action="store_true",
        help="measure only the two references again, into the saved results of the cases (then render)",
    )
    return p


def _say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _command(args: argparse.Namespace) -> str:
    def fmt_size(n: int) -> str:
        return f"{n // 1_000_000}m" if n % 1_000_000 == 0 else f"{n // 1000}k" if n % 1000 == 0 else str(n)

    cmd = [
        "python",
        "-m",
        "bench",
        "--sizes",
        ",".join(fmt_size(s) for s in args.sizes),
        "--formats",
        ",".join(args.formats),
    ]
    if args.include_10m:
        cmd.append("--include-10m")
    if args.dirty_rate:
        cmd += ["--dirty-rate", str(args.dirty_rate)]
    return shlex.join(cmd)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    overrides_path = args.work / OVERRIDES_FILE
    if args.case == "overrides":
        args.work.mkdir(parents=True, exist_ok=True)
        result = measure_overrides(args.work, _say, customers=args.overrides_customers, repetitions=args.repetitions)
        overrides_path.write_text(json.dumps(result, indent=2))
        # Only this section of --out is replaced: the size cases' figures stay as they were measured.
        page = args.out.read_text(encoding="utf-8") if args.out.exists() else "# Benchmarks\n"
        args.out.write_text(with_overrides_section(page, result), encoding="utf-8")
        _say(f"wrote the overrides section of {args.out}")
        return 0
    zones = [Zone(n, fmt, args.dirty_rate, args.work) for n in args.sizes for fmt in args.formats]
    if args.include_10m:
        zones.append(Zone(10_000_000, "parquet", args.dirty_rate, args.work))
    cases_dir = args.work / "cases"
    cases_dir.mkdir(parents=True, exist_ok=True)
    cases: list[dict] = []
    failed = False
    for zone in zones:
        path = cases_dir / f"{zone.key}.json"
        if args.report_only or args.references_only:
            if not path.exists():
                _say(f"no saved result for {zone.key}; left out")
                continue
            case = json.loads(path.read_text())
            if args.references_only:
                saved = CaseResult(**case)
                measure_references(zone, saved, args.work / "runs" / zone.key, _say)
                path.write_text(json.dumps(saved.as_dict(), indent=2, default=str))
                case = saved.as_dict()
            cases.append(case)
            continue
        if args.generate_only:
            # Keep the runs of a saved case: only the landing zone and its generate figure are (re)made.
            saved = json.loads(path.read_text()) if path.exists() else {"customers": zone.customers, "fmt": zone.fmt}
            saved["zone"] = zone.ensure(_say)
            saved.setdefault("measurements", {})["generate"] = saved["zone"]["generate"]
            result = CaseResult(**{"zone": {}, **saved})
        else:
            result = run_case(zone, args.work, _say)
        path.write_text(json.dumps(result.as_dict(), indent=2, default=str))
        cases.append(result.as_dict())
        failed |= any(m["exit_code"] for m in result.measurements.values())
    overrides = json.loads(overrides_path.read_text()) if overrides_path.exists() else None
    if not cases and overrides is None:
        _say("nothing to report")
        return 1
    page = render(cases, command=_command(args), note=args.note, knobs=memory_knobs(), overrides=overrides)
    args.out.write_text(page, encoding="utf-8")
    _say(f"wrote {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
