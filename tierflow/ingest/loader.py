"""Loading landing files into the warehouse: every row is accepted into `landing.<input>`, updates an
already loaded row (a late refund or cancellation of an order), or is quarantined in `landing.quarantine`
with a reason code, so for every file rows read = accepted + updated + quarantined, always.

Files are applied in arrival order (see `files.discover`), and a repeated key is judged against the current
version of its row: orders only move forward (`InputSpec.versions`), so a version behind the current one is
quarantined as `stale_update` beside the version it would have replaced, whatever order the files came in.

Each file is one set-based pass in DuckDB (read, type, first broken rule, repeated keys) into a temporary
batch, then accepted rows, updates, quarantine and the `landing.ingested_files` entry are written in one
transaction, so a failure never leaves half a file. A file is tracked by the SHA-256 of its content:
dropping the same file again, under any name, is a no-op; an unchanged file (same name, size and
modification time) is not even read again.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from tierflow.ingest.files import (
    Fingerprint,
    LandingFile,
    LandingFileError,
    delimiter_hint,
    discover,
    file_error,
    fingerprint,
    is_blank,
    parquet_rows,
    quote_identifier,
    quote_literal,
    read_header,
    relation_sql,
    unix_line_endings_copy,
)
from tierflow.ingest.inputs import INPUTS, REDUNDANT_REASONS, STALE_UPDATE, InputSpec
from tierflow.ingest.typing import column_sql, given, misfit
from tierflow.warehouse import connect

LINEAGE_COLUMNS = (
    ("extra_columns", "varchar"),
    ("row_hash", "varchar"),
    ("file_sha256", "varchar"),
    ("source_file", "varchar"),
    ("source_row", "bigint"),
    ("load_seq", "bigint"),
    ("ingested_at", "timestamp"),
    # The load_seq of the file whose newer version last changed the row in place (null: never updated): with
    # load_seq it tells the carried tables which rows changed since they were built.
    ("updated_seq", "bigint"),
    # The as-of date of the run that loaded the row: a household membership without household_since counts
    # from it (null when loaded outside a pipeline run).
    ("loaded_as_of", "date"),
)

SCHEMA_DDL = """
create schema if not exists landing;
create table if not exists landing.ingested_files (
    input varchar not null,
    source_file varchar not null,
    file_sha256 varchar not null,
    file_format varchar not null,
    size_bytes bigint not null,
    rows_read bigint not null,
    rows_accepted bigint not null,
    rows_quarantined bigint not null,
    load_seq bigint not null,
    run_id varchar,
    ingested_at timestamp not null,
    primary key (input, file_sha256)
);
alter table landing.ingested_files add column if not exists rows_updated bigint default 0;
alter table landing.ingested_files add column if not exists mtime_ns bigint;
alter table landing.ingested_files add column if not exists rows_redundant bigint default 0;
create table if not exists landing.quarantine (
    input varchar not null,
    source_file varchar not null,
    source_row bigint,
    reason varchar not null,
    record varchar,
    file_sha256 varchar not null,
    run_id varchar,
    quarantined_at timestamp not null
);
alter table landing.quarantine add column if not exists current_record varchar;
create table if not exists landing.updates (
    input varchar not null,
    record_key varchar not null,
    previous varchar not null,
    current varchar not null,
    source_file varchar not null,
    source_row bigint not null,
    file_sha256 varchar not null,
    load_seq bigint not null,
    run_id varchar,
    updated_at timestamp not null
);
"""

# DuckDB's reasons for a CSV line it cannot split into the header's fields, as quarantine reason codes.
REJECT_REASONS = {
    "INVALID ENCODING": "invalid_encoding",
    "MISSING COLUMNS": "missing_fields",
    "TOO MANY COLUMNS": "too_many_fields",
    "UNQUOTED VALUE": "malformed_quoting",
    "LINE SIZE OVER MAXIMUM": "line_too_long",
}
UPDATE = "__update"
CHUNK_ROWS = 3_000_000
_GIVEN = re.compile(r"{([a-z_]+)}")  # `{name}` in a rule: the value as given
_TEMP_TABLES = (
    "batch",
    "batch_rows",
    "chunk_files",
    "verdicts",
    "reject_lines",
    "tierflow_rejects",
    "tierflow_reject_scans",
)


@dataclass
class FileResult:
    source_file: str
    file_sha256: str
    rows_read: int = 0
    rows_accepted: int = 0
    rows_updated: int = 0
    rows_quarantined: int = 0
    rows_redundant: int = 0  # of the quarantined: duplicates and stale updates, which lose nothing
    reasons: dict[str, int] = field(default_factory=dict)
    skipped: bool = False
    seconds: float = 0.0

    @property
    def reconciles(self) -> bool:
        return self.rows_read == self.rows_accepted + self.rows_updated + self.rows_quarantined


@dataclass
class IngestResult:
    input: str
    files: list[FileResult] = field(default_factory=list)

    @property
    def loaded(self) -> list[FileResult]:
        return [f for f in self.files if not f.skipped]

    def total(self, attribute: str) -> int:
        return sum(getattr(f, attribute) for f in self.loaded)

    @property
    def reasons(self) -> dict[str, int]:
        merged: dict[str, int] = {}
        for f in self.loaded:
            for reason, count in f.reasons.items():
                merged[reason] = merged.get(reason, 0) + count
        return dict(sorted(merged.items()))

    def as_dict(self) -> dict:
        return {
            "files_seen": len(self.files),
            "files_loaded": len(self.loaded),
            "files_skipped": len(self.files) - len(self.loaded),
            "rows_read": self.total("rows_read"),
            "rows_accepted": self.total("rows_accepted"),
            "rows_updated": self.total("rows_updated"),
            "rows_quarantined": self.total("rows_quarantined"),
            "rows_redundant": self.total("rows_redundant"),
            "quarantine_reasons": self.reasons,
        }


def ensure_landing_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SCHEMA_DDL)
    for spec in INPUTS.values():
        columns = [(c.name, c.sql_type) for c in spec.columns] + list(LINEAGE_COLUMNS)
        ddl = ", ".join(f"{name} {sql_type}" for name, sql_type in columns)
        con.execute(f"create table if not exists landing.{spec.name} ({ddl})")
        # Homes created before a column existed gain it (empty for the rows loaded before).
        for name, sql_type in columns:
            con.execute(f"alter table landing.{spec.name} add column if not exists {name} {sql_type}")


def _bind(sql: str, values: dict) -> dict:
    """Only the named parameters a statement uses: DuckDB rejects unused ones."""
    used = set(re.findall(r"\$([a-z_]+)", sql))
    return {k: v for k, v in values.items() if k in used}


def _run(con: duckdb.DuckDBPyConnection, sql: str, values: dict | None = None) -> list[tuple]:
    return con.execute(sql, _bind(sql, values or {})).fetchall()


@dataclass(frozen=True)
class Header:
    """A file's columns by contract name: (column in DuckDB's relation, DuckDB type); unknown ones apart."""

    known: dict[str, tuple[str, str]]
    extras: list[tuple[str, str]]  # (name as written, column in the relation)
    width: int  # fields in the header


def _check_header(spec: InputSpec, file: LandingFile, columns: list[tuple[str, str, str]]) -> Header:
    normalised = [written.strip().lower() for written, _, _ in columns]
    problems = [
        f"{file.label}: column '{name}' appears more than once in the header"
        for name in sorted({c for c in normalised if normalised.count(c) > 1})
    ]
    hint = delimiter_hint([written for written, _, _ in columns]) if file.format == "csv" else ""
    problems += [
        f"{file.label}: missing required column '{name}' (an {spec.name} file needs {', '.join(spec.required)}){hint}"
        for name in spec.required
        if name not in normalised
    ]
    known = {n: (duck, t) for n, (_, duck, t) in zip(normalised, columns, strict=True) if n in spec.known_columns}
    problems += [f"{file.label}: {m}" for c in spec.columns if c.name in known and (m := misfit(c, known[c.name][1]))]
    if problems:
        raise LandingFileError("\n".join(problems))
    extras = [(w, duck) for n, (w, duck, _) in zip(normalised, columns, strict=True) if n not in spec.known_columns]
    return Header(known=known, extras=extras, width=len(columns))


def _hash(columns: list[str]) -> str:
    parts = ", ".join(f"coalesce(cast({c} as varchar), chr(0))" for c in columns)
    return f"md5(concat_ws(chr(31), {parts}))"


def _json(pairs: list[tuple[str, str]]) -> str:
    return "json_object(" + ", ".join(f"{quote_literal(k)}, {v}" for k, v in pairs) + ")"


@dataclass
class Pending:
    file: LandingFile
    sha: str
    header: Header | None  # None: a blank file, nothing to read
    rows: int = 0  # Parquet footers only: used to size chunks
    load_seq: int = 0
    mixed_line_endings: bool = False  # CSV only: read from a copy with \n throughout


def _batch_sql(spec: InputSpec, fmt: str, header: Header) -> str:
    """One pass over the chunk's files: typed columns, the first rule broken, the row hash, and the raw record
    of rows that break a rule (only those: turning every row into JSON costs time)."""

    def raw(name: str) -> str | None:
        return quote_identifier(header.known[name][0]) if name in header.known else None

    def source_type(name: str) -> str | None:
        return header.known[name][1] if name in header.known else None

    typed = [f"{column_sql(c, raw(c.name), source_type(c.name))} as {c.name}" for c in spec.columns]
    givens = [f"{given(raw(n), source_type(n))} as given__{n}" for n in spec.known_columns]
    extra = _json([(w, f"cast({quote_identifier(d)} as varchar)") for w, d in header.extras]) if header.extras else None
    written = [(n, raw(n)) for n in spec.known_columns if n in header.known]
    written += [(w, quote_identifier(d)) for w, d in header.extras]
    # Carried as they are, into a CASE: DuckDB evaluates its branch only for the rows that break a rule, while
    # a JSON column in the projection was built for every row (a third of the pass).
    carried = ", ".join(f"{column} as raw__{i}" for i, (_, column) in enumerate(written))
    raw_record = _json([(name, f"cast(raw__{i} as varchar)") for i, (name, _) in enumerate(written)])
    conditions = [_GIVEN.sub(r"given__\1", rule.condition) for rule in spec.rules]
    whens = " ".join(f"when {c} then {quote_literal(r.reason)}" for c, r in zip(conditions, spec.rules, strict=True))
    # CSV has no record number of its own: the batch keeps file order and its rowid numbers the records.
    record = "file_row_number + 1" if fmt == "parquet" else "cast(null as bigint)"
    data_columns = [c.name for c in spec.columns if c.name != spec.key]
    names = [c.name for c in spec.columns]
    return f"""
        select file_index, source_row, {", ".join(names)}, extra_columns, rule_reason,
            {_hash(data_columns)} as row_hash, case when rule_reason is not null then {raw_record} end as record
        from (
            select *, case {whens} end as rule_reason
            from (
                select
                    cast(file_index as integer) as file_index,
                    {record} as source_row,
                    {", ".join(typed + givens)},
                    {extra or "cast(null as varchar)"} as extra_columns,
                    {carried}
                from {relation_sql(fmt, "paths", header.width)}
            )
        )
    """


def _load_rejects(con: duckdb.DuckDBPyConnection) -> int:
    """One quarantine candidate per CSV record DuckDB could not split into fields; returns how many."""
    whens = " ".join(f"when {quote_literal(k)} then {quote_literal(v)}" for k, v in REJECT_REASONS.items())
    _run(
        con,
        f"""
        create temp table reject_lines as
        select
            0 as file_index,
            line - 1 as source_row,
            case arg_min(error_type, coalesce(column_idx, 0)) {whens} else 'unparseable_line' end as reason,
            json_object('csv_line', any_value(csv_line), 'error', arg_min(error_message, coalesce(column_idx, 0)))
                as record
        from tierflow_rejects
        group by line
        """,
    )
    return _run(con, "select count(*) from reject_lines")[0][0]


def _number_csv_records(con: duckdb.DuckDBPyConnection, rejected: int) -> None:
    """`batch` over `batch_rows` with CSV record numbers: the rowid (file order), shifted past the records
    DuckDB rejected: with rejected records r_1 < r_2 < ..., the k-th row read is preceded by every r_i with
    r_i - i < k."""
    shift = (
        "(select count(*) from (select source_row - row_number() over (order by source_row) as gap "
        "from reject_lines) as gaps where gaps.gap < batch_rows.rowid + 1)"
        if rejected
        else "0"
    )
    _run(con, f"create temp view batch as select * replace (rowid + 1 + {shift} as source_row) from batch_rows")


def _typed_record(spec: InputSpec, prefix: str) -> str:
    """A row's typed columns as a JSON object of text, as quarantine keeps a repeated row and its current version."""
    return _json([(c.name, f"cast({prefix}{c.name} as varchar)") for c in spec.columns])


def _verdicts_sql(spec: InputSpec, check_existing: bool) -> str:
    """Valid rows whose key was seen before, judged one after the other in arrival order (the landing row,
    then file and record order) against the key's current version, the furthest-forward one applied so far:
    another value of a column that never changes (an amount, a customer) is a conflict, and so is another
    branch of the current version's rank (refunded after cancelled); a version behind the current one is a
    stale update; the current version again is a duplicate; a version ahead of it is an update.

    An input without versions has one version, so a repeat is a duplicate or a conflict. One with
    later_duplicates="update" (profiles) is judged within one file only: a later file holds newer versions."""
    key, entity = spec.key, spec.entity
    names = ", ".join(c.name for c in spec.columns)
    core_columns = [c.name for c in spec.columns if c.name != key and c.name not in spec.updatable]
    partition = [key] if spec.later_duplicates == "reject" else [key, "file_index"]
    versions = spec.versions
    rank = versions.rank_sql() if versions else "0"
    version = versions.version_sql() if versions else "{'rank': 0, 'growing': 0}"
    status = versions.status if versions else "''"
    existing = (
        f"""
        select -1 as file_index, source_row, {names}
        from landing.{spec.name}
        -- The constant key range lets DuckDB skip row groups by their min/max (ids usually grow with time),
        -- so a daily file does not scan every key ever loaded.
        where {key} between $low_key and $high_key
            and {key} in (select {key} from batch where rule_reason is null)
        qualify row_number() over (partition by {key} order by load_seq desc) = 1
        """
        if check_existing
        else f"select -1 as file_index, source_row, {names} from batch where false"
    )
    by = ", ".join(partition)
    current_columns = ", ".join(f"'{c.name}': {c.name}" for c in spec.columns)
    previous = _json([(c, f"r.current_row.{c}") for c in spec.updatable]) if spec.updatable else "cast(null as varchar)"
    conflict = quote_literal(f"duplicate_{entity}_conflict")
    return f"""
        create temp table verdicts as
        with
        repeated as (select {by} from batch where rule_reason is null group by all having count(*) > 1),
        existing as ({existing}),
        occurrences as (
            select *, {_hash(core_columns)} as core, {rank} as version_rank, {version} as version
            from (
                select * from existing
                union all by name
                select file_index, source_row, {names} from batch
                where rule_reason is null
                    and (({by}) in (select {by} from repeated) or {key} in (select {key} from existing))
            )
        ),
        ordered as (
            select *, row_number() over w as n, core = first_value(core) over w as same_core
            from occurrences
            window w as (partition by {by} order by file_index, source_row)
        ),
        -- Of the versions of one rank (refunded, cancelled), the first to arrive is the one a key can take.
        branches as (
            select {by}, version_rank, arg_min({status}, n) as branch
            from ordered where same_core group by all
        ),
        judged as (
            select o.*, o.same_core and {status} = b.branch as applied
            from ordered as o left join branches as b using ({by}, version_rank)
        ),
        current as (
            select *,
                max(version) filter (where applied) over w as current_version,
                arg_max({{{current_columns}}}, {{'version': version, 'earliest': -n}}) filter (where applied) over w
                    as current_row
            from judged
            window w as (partition by {by} order by n rows between unbounded preceding and 1 preceding)
        )
        select r.file_index, r.source_row, r.{key} as record_key,
            case
                when not r.same_core then {conflict}
                when not r.applied and r.version_rank >= r.current_version['rank'] then {conflict}
                when r.version < r.current_version then '{STALE_UPDATE}'
                when r.version = r.current_version then 'duplicate_{entity}'
                else '{UPDATE}'
            end as verdict,
            {_typed_record(spec, "r.current_row.")} as current_record,
            {previous} as previous
        from current as r
        where r.n > 1 and r.file_index >= 0
    """


def _apply_updates(con: duckdb.DuckDBPyConnection, spec: InputSpec, values: dict) -> None:
    """The newer status/refund replaces the landing row's (and its row hash; updates only move forward, so the
    last one in file and record order is the furthest); the landing row keeps the file and record it came
    from, and `landing.updates` records every step, from which version to which, from which file and record."""
    table, key = f"landing.{spec.name}", spec.key
    updates = f"""
        select b.*, v.previous, f.source_file as update_file, f.file_sha256 as update_sha, f.load_seq as update_seq
        from batch as b join verdicts as v using (file_index, source_row) join chunk_files as f using (file_index)
        where v.verdict = '{UPDATE}'
    """
    current = _json([(c, f"u.{c}") for c in spec.updatable])
    log = f"""
        insert into landing.updates
        select $input, u.{key}, u.previous, {current}, u.update_file, u.source_row, u.update_sha, u.update_seq,
            $run_id, $now
        from ({updates}) as u
    """
    _run(con, log, values)
    assignments = ", ".join([*(f"{c} = u.{c}" for c in (*spec.updatable, "row_hash")), "updated_seq = u.update_seq"])
    latest = f"qualify row_number() over (partition by {key} order by file_index desc, source_row desc) = 1"
    latest_update = f"select * from ({updates}) {latest}"
    _run(con, f"update {table} set {assignments} from ({latest_update}) as u where {table}.{key} = u.{key}")


def _drop_temporaries(con: duckdb.DuckDBPyConnection) -> None:
    for view, temp in [(True, "batch"), *((False, t) for t in _TEMP_TABLES)]:
        kind = "view" if view else "table"
        existing = _run(
            con, f"select count(*) from duckdb_{kind}s() where temporary and {kind}_name = $name", {"name": temp}
        )
        if existing[0][0]:
            con.execute(f"drop {kind} {temp}")


def _load_chunk(
    con: duckdb.DuckDBPyConnection, spec: InputSpec, chunk: list[Pending], params: dict, run_id: str | None
) -> list[FileResult]:
    """Load files that share a format and a header in one pass and one transaction (several Parquet files
    are read in parallel: DuckDB parallelises Parquet by row group, and writers often put one in a file)."""
    started = time.perf_counter()
    results = [FileResult(source_file=p.file.label, file_sha256=p.sha) for p in chunk]
    values = {**params, "input": spec.name, "run_id": run_id}
    _drop_temporaries(con)
    try:
        # The temporary batch is built outside the transaction: rowids of a table created inside one are not
        # 0..n-1, and CSV records are numbered by rowid. Only landing tables need the atomicity.
        con.execute(
            "create temp table chunk_files (file_index integer, source_file varchar, file_sha256 varchar, "
            "load_seq bigint)"
        )
        con.executemany(
            "insert into chunk_files values (?, ?, ?, ?)",
            [[i, p.file.label, p.sha, p.load_seq] for i, p in enumerate(chunk)],
        )
        rejected = _read_batch(con, spec, chunk, values) if chunk[0].header is not None else None
        con.begin()
        try:
            if rejected is not None:
                _write_batch(con, spec, values, results, rejected)
            _register(con, chunk, results, values)
            con.commit()
        except BaseException:
            con.rollback()
            raise
    finally:
        _drop_temporaries(con)
    seconds = (time.perf_counter() - started) / len(chunk)
    for result in results:
        result.seconds = seconds
    return results


def _register(con: duckdb.DuckDBPyConnection, chunk: list[Pending], results: list[FileResult], values: dict) -> None:
    register = """
        insert into landing.ingested_files (input, source_file, file_sha256, file_format, size_bytes, rows_read,
            rows_accepted, rows_quarantined, load_seq, run_id, ingested_at, rows_updated, mtime_ns, rows_redundant)
        values ($input, $source_file, $sha, $format, $size, $read, $accepted, $quarantined, $load_seq, $run_id,
            $now, $updated, $mtime_ns, $redundant)
    """
    for pending, result in zip(chunk, results, strict=True):
        facts = {
            "source_file": pending.file.label,
            "sha": pending.sha,
            "load_seq": pending.load_seq,
            "format": pending.file.format,
            "size": pending.file.size,
            "mtime_ns": pending.file.mtime_ns,
            "read": result.rows_read,
            "accepted": result.rows_accepted,
            "updated": result.rows_updated,
            "quarantined": result.rows_quarantined,
            "redundant": result.rows_redundant,
        }
        _run(con, register, {**values, **facts})


def _read_batch(con: duckdb.DuckDBPyConnection, spec: InputSpec, chunk: list[Pending], values: dict) -> int:
    """The chunk's rows as the temporary `batch`, and the CSV records DuckDB rejected; returns how many."""
    header, fmt = chunk[0].header, chunk[0].file.format
    assert header is not None
    target = "batch" if fmt == "parquet" else "batch_rows"
    create = f"create temp table {target} as {_batch_sql(spec, fmt, header)}"
    # Keeping scan order is what numbers CSV records; everything else runs without it.
    con.execute(f"set preserve_insertion_order = {'true' if fmt == 'csv' else 'false'}")
    paths = [str(p.file.path) for p in chunk]
    copy = nullcontext(None)
    if chunk[0].mixed_line_endings:  # a CSV chunk holds one file
        spill = Path(_run(con, "select current_setting('temp_directory')")[0][0])  # inside the home
        copy = unix_line_endings_copy(chunk[0].file.path, spill)
    try:
        with copy as unix_copy:
            _run(con, create, {**values, "paths": [str(unix_copy)] if unix_copy else paths})
    except duckdb.Error as exc:
        raise file_error(chunk[0].file, exc) from None
    finally:
        con.execute("set preserve_insertion_order = false")
    rejected = 0
    if fmt == "csv":
        if _run(con, "select count(*) from tierflow_rejects")[0][0]:
            rejected = _load_rejects(con)
        _number_csv_records(con, rejected)
    return rejected


def _write_batch(
    con: duckdb.DuckDBPyConnection, spec: InputSpec, values: dict, results: list[FileResult], rejected: int
) -> None:
    """Accepted rows, quarantine and updates of one chunk, and its counts per file into `results`."""
    table = f"landing.{spec.name}"
    loaded_before = spec.later_duplicates == "reject" and _run(con, f"select exists(from {table})")[0][0]
    key_range = {"low_key": None, "high_key": None}
    if loaded_before:
        low, high = _run(con, f"select min({spec.key}), max({spec.key}) from batch where rule_reason is null")[0]
        key_range = {"low_key": low, "high_key": high}
    _run(con, _verdicts_sql(spec, loaded_before), key_range)
    has_verdicts = _run(con, "select count(*) from verdicts")[0][0] > 0
    judged = " and (b.file_index, b.source_row) not in (select (file_index, source_row) from verdicts)"
    names = [c.name for c in spec.columns] + ["extra_columns", "row_hash"]
    accept = f"""
        insert into {table} ({", ".join(names)}, file_sha256, source_file, source_row, load_seq, ingested_at,
            loaded_as_of)
        select {", ".join(f"b.{n}" for n in names)}, f.file_sha256, f.source_file, b.source_row, f.load_seq, $now,
            cast($as_of as date)
        from batch as b join chunk_files as f using (file_index)
        where b.rule_reason is null{judged if has_verdicts else ""}
    """
    _run(con, accept, values)
    rejects = "union all select file_index, source_row, reason, record, null from reject_lines" if rejected else ""
    quarantine = f"""
        insert into landing.quarantine (input, source_file, source_row, reason, record, file_sha256, run_id,
            quarantined_at, current_record)
        select $input, f.source_file, q.source_row, q.reason, q.record, f.file_sha256, $run_id, $now,
            q.current_record
        from (
            select file_index, source_row, rule_reason as reason, record, cast(null as varchar) as current_record
            from batch where rule_reason is not null
            union all
            select b.file_index, b.source_row, v.verdict, {_typed_record(spec, "b.")}, v.current_record
            from batch as b join verdicts as v using (file_index, source_row) where v.verdict <> '{UPDATE}'
            {rejects}
        ) as q join chunk_files as f using (file_index)
    """
    _run(con, quarantine, values)
    if has_verdicts and spec.updatable:
        _apply_updates(con, spec, values)
    counted = [
        ("batch", "select file_index, rule_reason, count(*) from batch group by all"),
        ("verdict", "select file_index, verdict, count(*) from verdicts group by all"),
    ]
    if rejected:
        counted.append(("reject", "select file_index, reason, count(*) from reject_lines group by all"))
    for origin, sql in counted:
        for file_index, reason, count in _run(con, sql):
            result = results[file_index]
            if origin != "verdict":
                result.rows_read += count
            if reason is None:
                result.rows_accepted += count
                continue
            if origin == "verdict":  # these rows were counted as read (and valid) in the batch
                result.rows_accepted -= count
            if reason == UPDATE:
                result.rows_updated += count
            else:
                result.reasons[reason] = result.reasons.get(reason, 0) + count
                result.rows_quarantined += count
                if reason in REDUNDANT_REASONS:
                    result.rows_redundant += count


def _new_files(
    con: duckdb.DuckDBPyConnection, spec: InputSpec, files: list[LandingFile], result: IngestResult
) -> list[tuple[LandingFile, Fingerprint]]:
    """New files with their fingerprint. A file whose name, size and modification time match an ingested one
    is skipped unread (hashing gigabytes every night costs more than the daily load); any other file is
    hashed, so a changed file is loaded and a copy of a loaded file under another name is skipped."""
    rows = _run(
        con,
        "select source_file, size_bytes, mtime_ns, file_sha256 from landing.ingested_files where input = $input",
        {"input": spec.name},
    )
    unchanged = {(r[0], r[1], r[2]): r[3] for r in rows}
    known = {r[3] for r in rows}
    new = []
    for file in files:
        sha = unchanged.get((file.label, file.size, file.mtime_ns))
        found = fingerprint(file.path, csv_file=file.format == "csv") if sha is None else None
        if found is None or found.sha256 in known:
            result.files.append(FileResult(source_file=file.label, file_sha256=sha or found.sha256, skipped=True))
            continue
        known.add(found.sha256)
        new.append((file, found))
    return new


def _chunks(pending: list[Pending]) -> list[list[Pending]]:
    """Consecutive Parquet files with the same columns go together, up to CHUNK_ROWS rows (memory stays
    bounded); a CSV file, a blank file or a file with other columns is a chunk of its own."""
    chunks: list[list[Pending]] = []
    for item in pending:
        last = chunks[-1] if chunks else None
        if (
            last is not None
            and item.file.format == "parquet"
            and last[0].file.format == "parquet"
            and item.header is not None
            and last[0].header == item.header
            and sum(p.rows for p in last) + item.rows <= CHUNK_ROWS
        ):
            last.append(item)
        else:
            chunks.append([item])
    return chunks


def _header(con: duckdb.DuckDBPyConnection, spec: InputSpec, file: LandingFile) -> Header | None:
    """The checked header of a new file, None for a blank one; LandingFileError when it is unusable."""
    return None if is_blank(file) else _check_header(spec, file, read_header(con, file))


def check_new_files(con: duckdb.DuckDBPyConnection, landing: Path) -> None:
    """Refuse the run before any input loads a row when a new file of any input is unusable (a missing
    required column, a Parquet type that cannot hold its column): one input refused while the others load
    would leave a half-loaded night. Only the header is read; files known by name, size and modification
    time are passed over unread, as ingest passes them over."""
    ensure_landing_schema(con)
    known = {tuple(r) for r in _run(con, "select input, source_file, size_bytes, mtime_ns from landing.ingested_files")}
    problems = []
    for spec in INPUTS.values():
        input_dir = landing / spec.name
        if not input_dir.is_dir():
            continue  # ingest_input says what is missing
        for file in discover(input_dir, landing):
            if (spec.name, file.label, file.size, file.mtime_ns) in known:
                continue
            try:
                _header(con, spec, file)
            except LandingFileError as exc:
                problems.append(str(exc))
    if problems:
        raise LandingFileError("\n".join(problems))


def ingest_input(
    warehouse: Path,
    landing: Path,
    spec: InputSpec,
    *,
    timezone: str,
    currency: str,
    currencies: list[str],
    run_id: str | None = None,
    now: datetime | None = None,
    as_of: date | None = None,
    progress: Callable[[str], None] | None = None,
) -> IngestResult:
    """Ingest every new file of one input. Raises LandingFileError before loading anything when any new
    file is unusable, naming the file and the column."""
    result = IngestResult(input=spec.name)
    input_dir = landing / spec.name
    if not input_dir.is_dir():
        if spec.is_optional_input:
            return result
        raise LandingFileError(f"{input_dir}: missing; the landing directory must hold {spec.name}/")
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    params = {"now": now, "as_of": as_of, "currency": currency, "currencies": sorted(set(currencies) | {currency})}

    # The connection keeps the run's memory limit and spills into the home (tierflow.warehouse); the
    # order of rows in landing tables means nothing (every row carries its record number), so it is not kept.
    with connect(warehouse, timezone=timezone) as con:
        ensure_landing_schema(con)
        pending: list[Pending] = []
        problems = []
        for file, found in _new_files(con, spec, discover(input_dir, landing), result):
            try:
                header = _header(con, spec, file)
                rows = parquet_rows(con, file) if header is not None and file.format == "parquet" else 0
                pending.append(
                    Pending(
                        file=file,
                        sha=found.sha256,
                        header=header,
                        rows=rows,
                        mixed_line_endings=found.mixed_line_endings,
                    )
                )
            except LandingFileError as exc:
                problems.append(str(exc))
        if problems:
            raise LandingFileError("\n".join(problems))

        next_seq = _run(con, "select coalesce(max(load_seq), 0) + 1 from landing.ingested_files")[0][0]
        for offset, item in enumerate(pending):
            item.load_seq = next_seq + offset
        for chunk in _chunks(pending):
            for file_result in _load_chunk(con, spec, chunk, params, run_id):
                result.files.append(file_result)
                if progress:
                    progress(
                        f"{file_result.source_file}: {file_result.rows_read:,} read, "
                        f"{file_result.rows_accepted:,} accepted, {file_result.rows_updated:,} updated, "
                        f"{file_result.rows_quarantined:,} quarantined ({file_result.seconds:.1f} s)"
                    )
    return result
