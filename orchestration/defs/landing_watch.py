"""What the landing sensor watches: a cheap fingerprint of the input files (stat only, never the contents)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tierflow.ingest.inputs import INPUTS

SUFFIXES = {".csv", ".parquet"}


def landing_fingerprint(landing: str | Path) -> str | None:
    """A digest of every input file's relative path, size and modification time; None when there is none."""
    root = Path(landing)
    listing = []
    for name in sorted(INPUTS):
        folder = root / name
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix.lower() in SUFFIXES and not path.name.startswith("."):
                stat = path.stat()
                listing.append((str(path.relative_to(root)), stat.st_size, stat.st_mtime_ns))
    if not listing:
        return None
    return hashlib.sha256(json.dumps(listing).encode()).hexdigest()
