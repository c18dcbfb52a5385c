"""SQL that types one landing column, from CSV text or from a Parquet column that already has a type.

A Parquet column written with a proper type (a DECIMAL or DOUBLE amount, a TIMESTAMP order time) is converted
directly, never through text; only text is parsed. Either way a value that does not fit becomes NULL, never an
error, so the rules of the input spec quarantine its row instead of failing the file. A Parquet type that
cannot hold the column's values at all (a BOOLEAN amount, an integer timestamp) is refused up front
(`misfit`): every row would be quarantined, and the export is what needs fixing.
"""

from __future__ import annotations

from tierflow.ingest.inputs import SQL_TYPES, Kind, TypedColumn

_BOOLEAN_WORDS = {"true": True, "t": True, "yes": True, "y": True, "1": True}
_BOOLEAN_WORDS |= {"false": False, "f": False, "no": False, "n": False, "0": False}

_INTEGERS = ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT")
_INTEGERS += ("UHUGEINT",)

# The type families each kind accepts (text always: CSV, or Parquet written as text), and how to say so.
_ACCEPTED: dict[Kind, tuple[frozenset[str], str]] = {
    "text": (frozenset({"text", "integer"}), "text or an integer (kept as text)"),
    "timestamp": (
        frozenset({"text", "timestamp"}),
        "a timestamp (with a time zone, or naive: read in the policy time zone) or text",
    ),
    "money": (frozenset({"text", "decimal", "double", "integer"}), "a decimal, double or integer amount, or text"),
    "date": (frozenset({"text", "date", "timestamp"}), "a date or timestamp, or text"),
    "boolean": (frozenset({"text", "boolean", "integer"}), "a boolean or an integer 1/0, or text"),
}


def _family(source_type: str) -> str:
    t = source_type.upper()
    if t == "VARCHAR":
        return "text"
    if t.strip('"') == "NULL":  # a column of nulls only (Arrow's null type): no value that could not fit
        return "null"
    if t.startswith("TIMESTAMP"):  # TIMESTAMP, TIMESTAMP_MS, TIMESTAMP WITH TIME ZONE, ...
        return "timestamp"
    if t == "DATE":
        return "date"
    if t == "BOOLEAN":
        return "boolean"
    if t.startswith("DECIMAL"):
        return "decimal"
    if t in ("DOUBLE", "FLOAT", "REAL"):
        return "double"
    if t in _INTEGERS:
        return "integer"
    return "other"  # TIME, BLOB, UUID, lists, structs, ...


def misfit(column: TypedColumn, source_type: str) -> str | None:
    """Why a file's column of `source_type` cannot be typed as `column`, or None when it can."""
    families, expected = _ACCEPTED[column.kind]
    if _family(source_type) in families | {"null"}:
        return None
    return f"column '{column.name}' is {source_type}, expected {expected}"


def given(raw: str | None, source_type: str | None) -> str:
    """The value as given: NULL when the column is absent or the text is blank."""
    if raw is None or source_type is None:
        return "cast(null as varchar)"
    return f"nullif(trim({raw}), '')" if _family(source_type) == "text" else raw


def _typed(kind: Kind, raw: str, source_type: str) -> str:
    family = _family(source_type)
    if family == "null":
        return f"cast(null as {SQL_TYPES[kind]})"
    # Only text is parsed; a typed value is converted as it is.
    value = f"nullif(trim({raw}), '')" if family == "text" else raw
    if kind == "text":
        return value if family == "text" else f"cast({raw} as varchar)"  # an integer id
    if kind == "timestamp":
        # A timestamp without a time zone is read in the session time zone, which ingest sets to the policy's.
        return f"timezone('UTC', try_cast({value} as timestamptz))"
    if kind == "money":  # NaN, infinities and out-of-range values become NULL: unparseable
        return f"try_cast({value} as decimal(18, 2))"
    if kind == "date":
        return f"try_cast({value} as date)"
    if family == "boolean":
        return raw
    if family == "integer":
        return f"case {raw} when 1 then true when 0 then false end"
    whens = " ".join(f"when '{word}' then {str(flag).lower()}" for word, flag in _BOOLEAN_WORDS.items())
    return f"case lower({value}) {whens} end"


def column_sql(column: TypedColumn, raw: str | None, source_type: str | None) -> str:
    """The typed landing value of `column`; `raw` is the quoted source column, None when the file lacks it.
    A Parquet column of a type `misfit` refuses never gets here."""
    if raw is None or source_type is None:
        if column.absent is not None:
            return column.absent
        value = f"cast(null as {column.sql_type})"
    else:
        value = _typed(column.kind, raw, source_type)
    return column.wrap.replace("{v}", value)
