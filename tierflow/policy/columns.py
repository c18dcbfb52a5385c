"""Where a policy key lands in the warehouse: a field of the policy model that the SQL reads says so with
`json_schema_extra=column("table.column")`, and the run-parameter tables are written from those fields by
column name. Adding a key the SQL reads takes the field, the SQL that uses it and its line in the policy
reference; nothing else lists it."""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo

SQL_TYPES = {int: "integer", Decimal: "decimal(18, 4)", str: "varchar", bool: "boolean"}


def column(target: str, *, value: str | None = None, sql_type: str | None = None) -> dict[str, str]:
    """Field metadata: the key is written to `target` ("table.column"); `value` names another attribute of the
    section to write instead of the key itself (e.g. a derived number), with its `sql_type`."""
    return {"column": target, **({"value": value} if value else {}), **({"sql_type": sql_type} if sql_type else {})}


@dataclass(frozen=True)
class Parameter:
    table: str
    column: str
    sql_type: str
    value: Any
    key: str  # the policy key path, e.g. lifecycle.new_days


def _sql_type(field: FieldInfo) -> str:
    kind = field.annotation
    if typing.get_origin(kind) in (typing.Union, types.UnionType):  # X | None
        kind = next(k for k in typing.get_args(kind) if k is not type(None))
    if typing.get_origin(kind) is Literal:
        kind = type(typing.get_args(kind)[0])
    return SQL_TYPES[kind]


def _section(field: FieldInfo) -> type[BaseModel] | None:
    """The model class of a section field (`Section` or `Section | None`), else None."""
    kinds = (
        typing.get_args(field.annotation)
        if typing.get_origin(field.annotation) in (typing.Union, types.UnionType)
        else (field.annotation,)
    )
    return next((k for k in kinds if isinstance(k, type) and issubclass(k, BaseModel)), None)


def parameters(model: BaseModel | None, prefix: str = "", cls: type[BaseModel] | None = None) -> list[Parameter]:
    """Every key of `model` (and of its sections) declared with `column`, with its value; the keys of a
    section left out of the policy (`model` None) are written as null."""
    cls = cls or type(model)
    found = []
    for name, field in cls.model_fields.items():
        value = getattr(model, name) if model is not None else None
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        if "column" in extra:
            table, column_name = str(extra["column"]).split(".")
            if "value" in extra and model is not None:
                value = getattr(model, str(extra["value"]))
            sql_type = str(extra.get("sql_type") or _sql_type(field))
            found.append(Parameter(table, column_name, sql_type, value, f"{prefix}{name}"))
        elif section := _section(field):
            found += parameters(value, f"{prefix}{name}.", section)
    return found


def insert_rows(con: Any, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert `rows` into `table` by column name (values bound as parameters, never formatted into SQL)."""
    if rows:
        names = list(rows[0])
        con.executemany(
            f"insert into {table} ({', '.join(names)}) values ({', '.join('?' for _ in names)})",
            [[row[name] for name in names] for row in rows],
        )


def write_keys(con: Any, table: str, keys: list[Parameter], leading: dict[str, tuple[str, Any]] | None = None) -> None:
    """(Re)create tierflow.`table` with one row: the `leading` columns ({name: (sql type, value)}), then every
    policy key declared for it."""
    typed = {name: sql_type for name, (sql_type, _) in (leading or {}).items()}
    row = {name: value for name, (_, value) in (leading or {}).items()}
    for key in keys:
        if key.table == table:
            typed[key.column], row[key.column] = key.sql_type, key.value
    con.execute(f"create or replace table tierflow.{table} ({', '.join(f'{n} {t}' for n, t in typed.items())})")
    insert_rows(con, f"tierflow.{table}", [row])
