"""SQL that types one landing column, from CSV text or from a Parquet column that already has a type.

A Parquet file written with proper types (a DOUBLE amount, a TIMESTAMP order time) is converted directly;
only text goes through parsing. Either way a value that does not fit becomes NULL, never an error, so the
rules of the input spec quarantine its row instead of failing the file.
"""

from __future__ import annotations

from tierflow.ingest.inputs import Kind, TypedColumn

_BOOLEAN_WORDS = {"true": True, "t": True, "yes": True, "y": True, "1": True}
_BOOLEAN_WORDS |= {"false": False, "f": False, "no": False, "n": False, "0": False}


def _family(source_type: str) -> str:
    t = source_type.upper()
    if t == "VARCHAR":
        return "text"
    if t.startswith(("TIMESTAMP", "DATE")):
        return "temporal"
    if t == "BOOLEAN":
        return "boolean"
    if t.startswith(("DECIMAL", "DOUBLE", "FLOAT", "REAL", "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT")):
        return "numeric"
    if t.startswith(("UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT", "UHUGEINT")):
        return "numeric"
    return "other"


def given(raw: str | None, source_type: str | None) -> str:
    """The value as given: NULL when the column is absent or the text is blank."""
    if raw is None or source_type is None:
        return "cast(null as varchar)"
    return f"nullif(trim({raw}), '')" if _family(source_type) == "text" else raw


def _text(raw: str, source_type: str) -> str:
    if _family(source_type) == "text":
        return f"nullif(trim({raw}), '')"
    # Nested types (lists, structs) become their text form and then fail to parse like any bad text.
    return f"nullif(trim(try_cast({raw} as varchar)), '')"


def _typed(kind: Kind, raw: str, source_type: str) -> str:
    family = _family(source_type)
    text = _text(raw, source_type)
    if kind == "text":
        return text
    if kind == "timestamp":
        # A timestamp without an offset is read in the session time zone, which ingest sets to the policy's.
        value = raw if family == "temporal" else text
        return f"timezone('UTC', try_cast({value} as timestamptz))"
    if kind == "money":
        value = raw if family == "numeric" else text
        return f"try_cast({value} as decimal(18, 2))"
    if kind == "date":
        value = raw if family == "temporal" else text
        return f"try_cast({value} as date)"
    if family == "boolean":
        return raw
    whens = " ".join(f"when '{word}' then {str(flag).lower()}" for word, flag in _BOOLEAN_WORDS.items())
    return f"case lower({text}) {whens} end"


def column_sql(column: TypedColumn, raw: str | None, source_type: str | None) -> str:
    """The typed landing value of `column`; `raw` is the quoted source column, None when the file lacks it."""
    value = (
        f"cast(null as {column.sql_type})"
        if raw is None or source_type is None
        else _typed(column.kind, raw, source_type)
    )
    return column.wrap.replace("{v}", value)
