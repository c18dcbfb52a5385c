"""Finding landing files, fingerprinting them cheaply, and reading their header through DuckDB."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

SUPPORTED_SUFFIXES = {".csv": "csv", ".parquet": "parquet"}
# RFC 4180 as the input contract says, without DuckDB's dialect sniffing: the header is read here and the
# columns are given, so one odd line cannot make a whole file unreadable (it is rejected on its own).
CSV_OPTIONS = "auto_detect = false, header = true, delim = ',', quote = '\"', escape = '\"'"
_OTHER_DELIMITERS = (";", "\t", "|")
_BOM = b"\xef\xbb\xbf"


class LandingFileError(Exception):
    """A landing file that cannot be used at all (unreadable, missing a required column): stops the run."""


@dataclass(frozen=True)
class LandingFile:
    path: Path
    label: str  # the path relative to the landing directory, as recorded in the warehouse
    size: int
    mtime_ns: int

    @property
    def format(self) -> str:
        return SUPPORTED_SUFFIXES[self.path.suffix.lower()]


def discover(input_dir: Path, landing: Path) -> list[LandingFile]:
    """Data files under an input directory in arrival order: modification time, then path (a later file is
    applied later, so a refund that arrived after its order updates it even when its name sorts first; in a
    fresh load the modification time is the only arrival signal there is). Hidden and `_`-prefixed files are
    skipped (writers use them for temporary and marker files). A symlink that leads outside the landing zone
    is refused: configuration decides what is ingested, not a link someone left in a shared folder."""
    root = landing.resolve()
    found = []
    for path in input_dir.rglob("*"):
        relative = path.relative_to(input_dir)
        if path.suffix.lower() not in SUPPORTED_SUFFIXES or any(p.startswith((".", "_")) for p in relative.parts):
            continue
        label = path.relative_to(landing).as_posix()
        resolved = path.resolve()
        if not resolved.is_relative_to(root):
            raise LandingFileError(f"{label}: is a symlink to {resolved}, outside the landing zone {root}; refused")
        if not resolved.is_file():
            continue
        stat = path.stat()
        found.append(LandingFile(path=path, label=label, size=stat.st_size, mtime_ns=stat.st_mtime_ns))
    return sorted(found, key=lambda f: (f.mtime_ns, f.label))


def _blocks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        yield from iter(lambda: handle.read(1 << 20), b"")


@dataclass(frozen=True)
class Fingerprint:
    sha256: str
    mixed_line_endings: bool  # CSV only: see below


def fingerprint(path: Path, *, csv_file: bool) -> Fingerprint:
    """The content hash and, for a CSV file, whether it mixes line endings, in one read of the file: a new
    file is read once here and once by DuckDB, not three times.

    Mixed means a bare \\r anywhere, or both \\r\\n and a lone \\n. DuckDB's CSV reader follows a file that
    ends every line the same way, but with a mix it either gives up on the whole file or, worse, skips a
    record without a word (a bare \\r after a quoted field), so such a file is read from a copy (below)."""
    digest = hashlib.sha256()
    cr = lf = crlf = 0
    ends_with_cr = False
    for block in _blocks(path):
        digest.update(block)
        if csv_file:
            crlf += block.count(b"\r\n") + (ends_with_cr and block.startswith(b"\n"))
            cr, lf = cr + block.count(b"\r"), lf + block.count(b"\n")
            ends_with_cr = block.endswith(b"\r")
    return Fingerprint(sha256=digest.hexdigest(), mixed_line_endings=cr > crlf or (crlf > 0 and lf > crlf))


def sha256_of(path: Path) -> str:
    return fingerprint(path, csv_file=False).sha256


def is_blank(file: LandingFile) -> bool:
    """An empty file, or one holding only whitespace (and maybe a byte order mark): no header, no rows."""
    if file.size > 4096:
        return False
    content = file.path.read_bytes()
    return not content.removeprefix(_BOM).strip()


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def relation_sql(fmt: str, parameter: str = "path", width: int = 0) -> str:
    """A table function over `$<parameter>` (one file or a list). A CSV file of `width` header fields is read
    as text columns c0, c1, ...; records that cannot be split into that many fields (bad bytes, too few or too
    many, broken quoting) go to DuckDB's rejects tables instead of failing the file."""
    if fmt == "csv":
        columns = "{" + ", ".join(f"'c{i}': 'varchar'" for i in range(width)) + "}"
        return (
            f"read_csv(${parameter}, {CSV_OPTIONS}, columns = {columns}, store_rejects = true, "
            "rejects_table = 'tierflow_rejects', rejects_scan = 'tierflow_reject_scans')"
        )
    return f"read_parquet(${parameter}, file_row_number = true)"


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0]


def read_header(con: duckdb.DuckDBPyConnection, file: LandingFile) -> list[tuple[str, str, str]]:
    """The columns of a landing file: (name as written, column in the relation DuckDB reads, DuckDB type)."""
    if file.format == "parquet":
        try:
            rows = con.execute("describe select * from read_parquet($path)", {"path": str(file.path)}).fetchall()
        except duckdb.Error as exc:
            raise file_error(file, exc) from None
        return [(row[0], row[0], row[1]) for row in rows]
    with file.path.open("rb") as handle:
        head = handle.read(1 << 20).removeprefix(_BOM)
    try:
        # The header is the first record (it may hold quoted newlines); a cut multi-byte character at the
        # end of the 1 MiB read does not matter, the header ends long before.
        text = head.decode("utf-8", errors="replace")
        written = next(csv.reader(io.StringIO(text, newline="")), [])
    except csv.Error as exc:
        raise LandingFileError(f"{file.label}: cannot read the CSV header: {exc}") from None
    if "\ufffd" in "".join(written):
        raise LandingFileError(f"{file.label}: the header is not valid UTF-8")
    return [(name, f"c{i}", "VARCHAR") for i, name in enumerate(written)]


def parquet_rows(con: duckdb.DuckDBPyConnection, file: LandingFile) -> int:
    """Rows in a Parquet file, from its footer."""
    try:
        rows = con.execute("select sum(num_rows) from parquet_file_metadata($path)", {"path": str(file.path)})
        return int(rows.fetchall()[0][0] or 0)
    except duckdb.Error as exc:
        raise file_error(file, exc) from None


def delimiter_hint(header: list[str]) -> str:
    """Why a CSV header may look like a single column: another field delimiter."""
    if len(header) == 1:
        for delimiter in _OTHER_DELIMITERS:
            if delimiter in header[0]:
                shown = "tab" if delimiter == "\t" else f"'{delimiter}'"
                return f" (the header looks {shown}-separated; landing CSV files must be comma-separated)"
    return ""


@contextmanager
def unix_line_endings_copy(source: Path, directory: Path) -> Iterator[Path]:
    """A temporary copy of `source` in `directory` in which every \\r\\n and every bare \\r is \\n, streamed
    block by block, removed when the block ends.

    A record ends where it ended before (a bare \\r ends a record, as in Python's csv module and in DuckDB when
    a file uses it throughout), so record numbers do not move. Inside a quoted field a line break is read as
    \\n, whatever it was written as."""
    directory.mkdir(parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(dir=directory, prefix=".tierflow-lf-", suffix=".csv")
    target = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as writer:
            pending_cr = False  # a \r at the end of a block may be the first half of \r\n
            for block in _blocks(source):
                if pending_cr:
                    block = b"\r" + block
                pending_cr = block.endswith(b"\r")
                if pending_cr:
                    block = block[:-1]
                writer.write(block.replace(b"\r\n", b"\n").replace(b"\r", b"\n"))
            if pending_cr:
                writer.write(b"\n")
        yield target
    finally:
        target.unlink(missing_ok=True)


def file_error(file: LandingFile, exc: Exception) -> Exception:
    """The file's fault, named; running out of memory is not, and goes on as it is (an operational failure,
    exit 1, that the run explains), not as bad input."""
    if isinstance(exc, duckdb.OutOfMemoryException):
        return exc
    message = _first_line(exc)
    if "state machine reached an invalid state" in message:
        message = "the CSV parser cannot follow it (quoting it cannot recover from)"
    return LandingFileError(f"{file.label}: cannot be read as {file.format.upper()}: {message}")
