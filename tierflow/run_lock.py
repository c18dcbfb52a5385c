"""One writer per tierflow home: an OS file lock held for the whole of a command that writes the home.

The lock is `fcntl.flock` on `<home>/run.lock`. The kernel drops it when the holding process ends, however it
ends (kill -9 included), so a crashed run never leaves the home locked; there is no stale-lock clean-up to get
wrong. The file also holds who took the lock (pid, host, command, since when) for the message a second
command prints; that text is informative only, the flock is the lock.

    with run_lock(settings.layout, "tierflow run --as-of 2026-11-20"):
        ...
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from tierflow.paths import Home

LOCK_FILE = "run.lock"
_held: set[Path] = set()  # homes this process holds (`demo` takes the lock, then runs `run` inside it)


class HomeLockedError(RuntimeError):
    """Another tierflow command is writing this home; the message says which one."""


def lock_path(home: Home) -> Path:
    return home.root / LOCK_FILE


def _describe_holder(path: Path) -> str:
    try:
        holder = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        holder = {}
    if not holder:
        return "another tierflow process"
    return (
        f"pid {holder.get('pid')} on {holder.get('host')} ({holder.get('command')}), "
        f"running since {holder.get('since')}"
    )


@contextmanager
def run_lock(home: Home, command: str) -> Iterator[None]:
    """Hold the home's lock while the block runs; raise HomeLockedError at once if another command holds it."""
    home.root.mkdir(parents=True, exist_ok=True)
    path = lock_path(home)
    if path in _held:
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise HomeLockedError(
                f"another tierflow command is already writing {home.root}: {_describe_holder(path)}; "
                "wait for it to finish (the lock is released when that process ends, even if it crashes)"
            ) from None
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": command,
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(holder) + "\n").encode(), 0)
        _held.add(path)
        try:
            yield
        finally:
            _held.discard(path)
            os.ftruncate(fd, 0)  # the holder is gone; flock itself is released by close (or by the kernel)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def command_line() -> str:
    """How this process was started, for the holder record (arguments carry no secrets: those are env only)."""
    return " ".join(["tierflow", *sys.argv[1:]]) if sys.argv else "tierflow"
