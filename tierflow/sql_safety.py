"""Names and paths that come from configuration, made safe before they reach SQL or the file system.

- `identifier(name)`: a schema, table, role or tier name from configuration or the dbt manifest must match
  IDENTIFIER_PATTERN (lower-case letters, digits, underscores; at most 63 characters, PostgreSQL's limit) and
  is then quoted anyway. Values never go through here: they are bound as parameters.
- `literal(text)`: for the few places DuckDB takes no parameter (file paths in COPY/ATTACH, SET values).
- `inside(root, *parts)`: a path built from configuration that must stay inside `root` (no `..`, no symlink
  leading out).
"""

from __future__ import annotations

import re
from pathlib import Path

IDENTIFIER_PATTERN = r"^[a-z_][a-z0-9_]{0,62}$"
_IDENTIFIER = re.compile(IDENTIFIER_PATTERN)


class UnsafeNameError(ValueError):
    """A configured name or path that tierflow refuses to use (the message says which and why)."""


def checked_identifier(name: str, what: str = "identifier") -> str:
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
        raise UnsafeNameError(
            f"{what} {name!r} is not allowed: use lower-case letters, digits and underscores (at most 63, "
            "not starting with a digit)"
        )
    return name


def identifier(name: str, what: str = "identifier") -> str:
    """The name validated and double-quoted, ready for SQL."""
    return '"' + checked_identifier(name, what) + '"'


def literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def inside(root: Path, *parts: str | Path, what: str = "path") -> Path:
    """`root / parts`, refusing anything that resolves outside `root` (through `..` or a symlink)."""
    base = root.resolve()
    candidate = base.joinpath(*parts)
    if any(part == ".." for part in candidate.relative_to(base).parts):
        raise UnsafeNameError(f"{what} {candidate} leaves {base} (contains '..')")
    resolved = candidate.resolve()
    if resolved != base and base not in resolved.parents:
        raise UnsafeNameError(f"{what} {candidate} resolves to {resolved}, outside {base} (a symlink leads out)")
    return candidate


def check_layout(home_root: Path, names: list[str]) -> None:
    """Every directory tierflow writes in a home must really be inside it: a `published` or `exports` that is a
    symlink to somewhere else would make a run write outside the home, so it is refused before anything runs."""
    for name in names:
        path = home_root / name
        if path.exists() or path.is_symlink():
            inside(home_root, name, what=f"home directory {name!r}")
