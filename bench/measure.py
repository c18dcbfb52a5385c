"""Running one command in a fresh process and measuring its wall time and the peak memory of its process tree.

dbt runs as a subprocess of `tierflow run`, so the peak that matters is the sum over the whole tree at the
same moment, not the largest single process. psutil is not a dependency: the tree is walked through /proc
(Linux) every `POLL_SECONDS`; elsewhere only getrusage's peak of the largest child is available.
"""

import os
import resource
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

POLL_SECONDS = 0.05
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Measurement:
    seconds: float
    peak_rss_bytes: int  # whole process tree, sampled (at least the largest single process)
    exit_code: int
    stdout: str
    stderr_tail: str

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def peak_rss_gb(self) -> float:
        return self.peak_rss_bytes / 1e9


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                kids.extend(int(k) for k in fh.read().split())
    except OSError:
        pass
    return kids


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss(pid: int) -> int:
    """Resident memory of `pid` and all its descendants now, in bytes."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += _rss(p)
        todo.extend(_children(p))
    return total


class _Sampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak = pid, 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, tree_rss(self.pid))
            self._done.wait(POLL_SECONDS)

    def stop(self) -> None:
        self._done.set()
        self.join()


def measure(cmd: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None) -> Measurement:
    """Run `cmd` to completion in a fresh process (under `nice` on a shared machine is up to the caller)."""
    if env is None:
        # The children import bench and orchestration from this checkout, wherever the harness was started.
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd, text=True, encoding="utf-8"
    )
    sampler = _Sampler(proc.pid)
    sampler.start()
    # communicate() drains both pipes, so a chatty child never blocks on a full pipe.
    out, err = proc.communicate()
    seconds = time.perf_counter() - started
    sampler.stop()
    # ru_maxrss (KiB on Linux) is the largest child ever waited for; it only counts if this run raised it.
    largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    single = largest * 1024 if largest > before else 0
    return Measurement(
        seconds=seconds,
        peak_rss_bytes=max(sampler.peak, single),
        exit_code=proc.returncode,
        stdout=out,
        stderr_tail="\n".join(err.strip().splitlines()[-15:]),
    )


def python_cmd(*args: str) -> list[str]:
    """The same interpreter as the harness, so the venv and PYTHONPATH carry over."""
    return [sys.executable, *args]
