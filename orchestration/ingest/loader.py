"""Loading landing files into the warehouse: every row is either accepted into `landing.<input>` or
quarantined in `landing.quarantine` with a reason code, so rows read = accepted + quarantined, always.

A file is tracked by the SHA-256 of its content in `landing.ingested_files`: dropping the same file again,
under any name, is a no-op. Each file loads in one transaction, so a failure never leaves half a file.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.ingest.files import (
    LandingFileError,
    discover,
    file_format,
    load_text_rows,
    quote_identifier,
    quote_literal,
    read_columns,
    sha256_of,
)
from orchestration.ingest.inputs import INPUTS, InputSpec
from orchestration.warehouse import column_names, connect

LINEAGE_COLUMNS = (
    ("extra_columns", "varchar"),
    ("row_hash", "varchar"),
    ("file_sha256", "varchar"),
    ("source_file", "varchar"),
    ("source_row", "bigint"),
    ("load_seq", "bigint"),
    ("ingested_at", "timestamp"),
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
"""


@dataclass
class FileResult:
    source_file: str
    file_sha256: str
    rows_read: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    skipped: bool = False
    seconds: float = 0.0

    @property
    def reconciles(self) -> bool:
        return self.rows_read == self.rows_accepted + self.rows_quarantined


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
            "rows_quarantined": self.total("rows_quarantined"),
            "quarantine_reasons": self.reasons,
        }


def ensure_landing_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SCHEMA_DDL)
    for spec in INPUTS.values():
        columns = [(c.name, c.sql_type) for c in spec.columns] + list(LINEAGE_COLUMNS)
        ddl = ", ".join(f"{name} {sql_type}" for name, sql_type in columns)
        con.execute(f"create table if not exists landing.{spec.name} ({ddl})")


def _bind(sql: str, values: dict) -> dict:
    """Only the named parameters a statement uses: DuckDB rejects unused ones."""
    used = set(re.findall(r"\$([a-z_]+)", sql))
    return {k: v for k, v in values.items() if k in used}


def _check_header(spec: InputSpec, columns: list[str], label: str) -> list[str]:
    problems = []
    normalised = [c.strip().lower() for c in columns]
    for name in sorted({c for c in normalised if normalised.count(c) > 1}):
        problems.append(f"{label}: column '{name}' appears more than once in the header")
    for name in spec.required:
        if name not in normalised:
            problems.append(
                f"{label}: missing required column '{name}' (an {spec.name} file needs {', '.join(spec.required)})"
            )
    return problems


def _substitute(sql: str, column_sql: Callable[[str], str]) -> str:
    return re.sub(r"{([a-z_]+)}", lambda m: column_sql(m.group(1)), sql)


def _checked_select(spec: InputSpec, columns: list[str]) -> str:
    """SQL typing each raw row, keeping unknown columns as a JSON object, and naming the first rule broken."""
    by_name = {c.strip().lower(): c for c in columns}

    def raw(name: str) -> str:
        return f"cast({quote_identifier(by_name[name])} as varchar)" if name in by_name else "cast(null as varchar)"

    typed = [f"{_substitute(column.expr, raw)} as {column.name}" for column in spec.columns]
    texts = [f"{raw(name)} as raw__{name}" for name in spec.known_columns]
    extras = [c for key, c in by_name.items() if key not in spec.known_columns]
    if extras:
        pairs = ", ".join(f"{quote_literal(c)}, cast({quote_identifier(c)} as varchar)" for c in extras)
        typed.append(f"json_object({pairs}) as extra_columns")
    else:
        typed.append("cast(null as varchar) as extra_columns")
    # Rules see the typed columns by name and the text as written as {name} (e.g. "given but unparseable").
    whens = " ".join(
        f"when {_substitute(rule.condition, lambda n: f'raw__{n}')} then {quote_literal(rule.reason)}"
        for rule in spec.rules
    )
    data_columns = [c.name for c in spec.columns if c.name != spec.key]
    hash_input = ", ".join(f"coalesce(cast({c} as varchar), chr(0))" for c in data_columns)
    return f"""
        select
            typed.* exclude ({", ".join(f"raw__{n}" for n in spec.known_columns)}),
            case {whens} end as rule_reason,
            md5(concat_ws(chr(31), {hash_input})) as row_hash
        from (
            select __row as source_row, {", ".join(typed + texts)}
            from raw_rows
        ) as typed
    """


def _load_file(
    con: duckdb.DuckDBPyConnection,
    spec: InputSpec,
    path: Path,
    label: str,
    sha: str,
    load_seq: int,
    params: dict,
    run_id: str | None,
) -> FileResult:
    started = time.perf_counter()
    result = FileResult(source_file=label, file_sha256=sha)
    entity = spec.name.removesuffix("s")
    table = f"landing.{spec.name}"
    data_columns = [c.name for c in spec.columns]
    values = {**params, "sha": sha, "source_file": label, "load_seq": load_seq, "run_id": run_id}

    con.begin()
    try:
        if path.stat().st_size == 0:
            result.rows_read = 0
        else:
            load_text_rows(con, path, label, "raw_rows")
            columns = [c for c in column_names(con, "raw_rows") if c != "__row"]
            checked = f"create or replace temp table checked_rows as {_checked_select(spec, columns)}"
            con.execute(checked, _bind(checked, values))

            reject_later = spec.later_duplicates == "reject"
            existing = (
                f"left join (select {spec.key} as existing_key, any_value(row_hash) as existing_hash "
                f"from {table} group by {spec.key}) as existing on checked_rows.{spec.key} = existing.existing_key"
                if reject_later
                else "left join (select null as existing_key, null as existing_hash) as existing on false"
            )
            decide = f"""
                create or replace temp table decided_rows as
                with ranked as (
                    select
                        *,
                        row_number() over (partition by {spec.key} order by source_row) as key_rank,
                        first_value(row_hash) over (partition by {spec.key} order by source_row) as first_hash
                    from checked_rows
                    where rule_reason is null
                )
                select
                    checked_rows.*,
                    case
                        when checked_rows.rule_reason is not null then checked_rows.rule_reason
                        when ranked.key_rank > 1 and ranked.first_hash = checked_rows.row_hash
                            then 'duplicate_{entity}'
                        when ranked.key_rank > 1 then 'duplicate_{entity}_conflict'
                        when existing.existing_hash = checked_rows.row_hash then 'duplicate_{entity}'
                        when existing.existing_hash is not null then 'duplicate_{entity}_conflict'
                    end as reason
                from checked_rows
                left join ranked on checked_rows.source_row = ranked.source_row
                {existing}
            """
            con.execute(decide)
            insert_columns = [*data_columns, "extra_columns", "row_hash"]
            accept = (
                f"insert into {table} ({', '.join(insert_columns)}, file_sha256, source_file, source_row, "
                f"load_seq, ingested_at) select {', '.join(insert_columns)}, $sha, $source_file, source_row, "
                f"$load_seq, $now from decided_rows where reason is null"
            )
            con.execute(accept, _bind(accept, values))
            quarantine = (
                # The raw record is kept for quarantined rows only: turning every row into JSON costs time.
                "insert into landing.quarantine select $input, $source_file, source_row, reason, "
                "to_json(raw_rows) as record, $sha, $run_id, $now "
                "from decided_rows join raw_rows on raw_rows.__row = decided_rows.source_row "
                "where reason is not null"
            )
            con.execute(quarantine, _bind(quarantine, {**values, "input": spec.name}))
            counts = con.execute("select reason, count(*) from decided_rows group by reason order by reason").fetchall()
            for reason, count in counts:
                if reason is None:
                    result.rows_accepted = count
                else:
                    result.reasons[reason] = count
                    result.rows_quarantined += count
            read = con.execute("select count(*) from raw_rows").fetchall()
            result.rows_read = read[0][0]
        register = (
            "insert into landing.ingested_files values ($input, $source_file, $sha, $format, $size, $read, "
            "$accepted, $quarantined, $load_seq, $run_id, $now)"
        )
        con.execute(
            register,
            _bind(
                register,
                {
                    **values,
                    "input": spec.name,
                    "format": file_format(path),
                    "size": path.stat().st_size,
                    "read": result.rows_read,
                    "accepted": result.rows_accepted,
                    "quarantined": result.rows_quarantined,
                },
            ),
        )
        con.commit()
    except BaseException:
        con.rollback()
        raise
    finally:
        for temp in ("raw_rows", "typed_rows", "checked_rows", "decided_rows"):
            con.execute(f"drop table if exists {temp}")
    result.seconds = time.perf_counter() - started
    return result


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
    params = {"now": now, "currency": currency, "currencies": sorted(set(currencies) | {currency})}

    with connect(warehouse, timezone=timezone) as con:
        ensure_landing_schema(con)
        known = {
            row[0]
            for row in con.execute(
                "select file_sha256 from landing.ingested_files where input = ?", [spec.name]
            ).fetchall()
        }
        pending: list[tuple[Path, str, str]] = []
        for path in discover(input_dir):
            label = path.relative_to(landing).as_posix()
            sha = sha256_of(path)
            if sha in known:
                result.files.append(FileResult(source_file=label, file_sha256=sha, skipped=True))
                continue
            known.add(sha)
            pending.append((path, label, sha))

        problems = []
        for path, label, _ in pending:
            if path.stat().st_size == 0:
                continue
            problems += _check_header(spec, read_columns(con, path, label), label)
        if problems:
            raise LandingFileError("\n".join(problems))

        for path, label, sha in pending:
            load_seq = con.execute("select coalesce(max(load_seq), 0) + 1 from landing.ingested_files").fetchall()[0][0]
            file_result = _load_file(con, spec, path, label, sha, load_seq, params, run_id)
            result.files.append(file_result)
            if progress:
                progress(
                    f"{label}: {file_result.rows_read:,} read, {file_result.rows_accepted:,} accepted, "
                    f"{file_result.rows_quarantined:,} quarantined ({file_result.seconds:.1f} s)"
                )
    return result
