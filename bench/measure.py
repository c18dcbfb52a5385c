"""Running one command in a fresh process and measuring its wall time and the peak memory of its process tree.

dbt runs as a subprocess of `tierflow run`, so the peak that matters is the sum over the whole tree at the
same moment, not the largest single process. psutil is not a dependency: the tree is walked through /proc
(Linux) every `POLL_SECONDS`; elsewhere only getrusage's peak of the largest child is available.
"""

import os
import resource
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

POLL_SECONDS = 0.05
# A run whose spill and tables leave less free disk than this is stopped, before the machine runs out: the 10 M
# case's first dbt build spilled about 45 GB in under three minutes here (see README, Performance).
MIN_FREE_DISK_BYTES = 8 * 2**30
STOP_GRACE_SECONDS = 10
DISK_POLL_SECONDS = 1.0  # statvfs once a second is plenty: the fastest fill seen was about 0.3 GB/s
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Measurement:
    seconds: float
    peak_rss_bytes: int  # whole process tree, sampled (at least the largest single process)
    exit_code: int
    stdout: str
    stderr_tail: str
    stopped: str | None = None  # why the harness stopped the run, if it did

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


def stop_tree(proc: subprocess.Popen) -> None:
    """Stop a process started in its own session and everything it started: SIGTERM to its process group (tierflow
    then fails the step it is in and ends the run), SIGKILL if it is still there after a grace period."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class _Sampler(threading.Thread):
    """Samples the tree's memory; stops the tree (its process group) when `disk` has too little room left."""

    def __init__(self, proc: subprocess.Popen, disk: Path | None, min_free_bytes: int) -> None:
        super().__init__(daemon=True)
        self.proc, self.peak, self.stopped = proc, 0, None
        self.disk, self.min_free_bytes = disk, min_free_bytes
        self._done = threading.Event()

    def run(self) -> None:
        next_disk_check = time.monotonic() + DISK_POLL_SECONDS
        while not self._done.is_set():
            self.peak = max(self.peak, tree_rss(self.proc.pid))
            if self.disk is not None and self.stopped is None and time.monotonic() >= next_disk_check:
                next_disk_check += DISK_POLL_SECONDS
                free = free_bytes(self.disk)
                if free < self.min_free_bytes:
                    self.stopped = (
                        f"{free / 2**30:.1f} GiB left free on the disk of {self.disk} "
                        f"(the harness stops a run under {self.min_free_bytes / 2**30:.1f} GiB)"
                    )
                    stop_tree(self.proc)
            self._done.wait(POLL_SECONDS)

    def stop(self) -> None:
        self._done.set()
        self.join()


def free_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def measure(
    cmd: list[str],
    *,
    env: dict[str, str] | None = None,
    extra_env: dict[str, str] | None = None,
    cwd: Path | None = None,
    disk: Path | None = None,
    min_free_bytes: int = MIN_FREE_DISK_BYTES,
) -> Measurement:
    """Run `cmd` to completion in a fresh process (under `nice` on a shared machine is up to the caller). With
    `disk`, the run is stopped once less than `min_free_bytes` are free there (`Measurement.stopped` says so)."""
    if env is None:
        # The children import bench and orchestration from this checkout, wherever the harness was started.
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    env = {**env, **(extra_env or {})}
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    # Its own process group, so stopping it stops dbt and anything else it started.
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=cwd,
        text=True,
        encoding="utf-8",
        start_new_session=True,
    )
    sampler = _Sampler(proc, disk, min_free_bytes)
    sampler.start()
    # communicate() drains both pipes, so a chatty child never blocks on a full pipe.
    try:
        out, err = proc.communicate()
    except BaseException:
        # In its own session the tree misses the terminal's Ctrl-C: take it down with the harness.
        stop_tree(proc)
        sampler.stop()
        raise
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
        stopped=sampler.stopped,
    )


def python_cmd(*args: str) -> list[str]:
    """The same interpreter as the harness, so the venv and PYTHONPATH carry over."""
    return [sys.executable, *args]
