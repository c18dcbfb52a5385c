"""Names and paths from configuration: validated before they reach SQL or the file system. (Secrets in files
and output: tests/test_crash_safety.py, on real runs.)"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from tierflow.cli import main
from tierflow.secrets import redact
from tierflow.sql_safety import UnsafeNameError, checked_identifier, identifier, inside


@pytest.mark.parametrize("name", ["customer_tiers", "tierflow", "_x1", "a" * 63])
def test_plain_identifiers_are_accepted_and_quoted(name: str) -> None:
    assert identifier(name) == f'"{name}"'


@pytest.mark.parametrize(
    "name", ["Tiers", "1tier", "tiers; drop table x", 'a"b', "../etc", "a" * 64, "", "tier-code", "t iers"]
)
def test_anything_else_is_refused_with_a_clear_message(name: str) -> None:
    with pytest.raises(UnsafeNameError, match="is not allowed"):
        checked_identifier(name, "TIERFLOW_PG_SCHEMA")


def test_paths_built_from_names_stay_inside_their_root(tmp_path: Path) -> None:
    root = tmp_path / "home"
    (root / "exports").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (root / "exports" / "out").symlink_to(tmp_path / "elsewhere")
    assert inside(root, "exports", "2026-01-01_run") == root.resolve() / "exports" / "2026-01-01_run"
    with pytest.raises(UnsafeNameError, match=r"contains '\.\.'"):
        inside(root, "exports", "../../etc")
    with pytest.raises(UnsafeNameError, match="a symlink leads out"):
        inside(root, "exports", "out", "file.csv")


def _cli(*args: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(list(args))
    return code, err.getvalue()


def test_a_home_directory_that_leads_out_of_the_home_is_refused_before_anything_runs(tmp_path: Path) -> None:
    home, outside = tmp_path / "home", tmp_path / "outside"
    home.mkdir()
    outside.mkdir()
    (home / "published").symlink_to(outside)
    landing = tmp_path / "landing"
    (landing / "orders").mkdir(parents=True)
    code, err = _cli("run", "--landing", str(landing), "--home", str(home), "--as-of", "2026-01-31")
    assert code == 2 and "outside" in err and "Traceback" not in err
    assert list(outside.iterdir()) == [] and not (home / "warehouse").exists()


def test_a_schema_name_with_sql_in_it_is_bad_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERFLOW_PG_SCHEMA", 'tierflow"; drop schema public cascade; --')
    code, err = _cli("run", "--landing", str(tmp_path), "--home", str(tmp_path / "home"), "--as-of", "2026-01-31")
    assert code == 2 and "TIERFLOW_PG_SCHEMA=" in err


def test_redact_hides_every_configured_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERFLOW_PG_DSN", "postgresql://bi:pg-secret-1@db:5432/analytics")
    monkeypatch.setenv("TIERFLOW_CRM_WEBHOOK_URL", "https://crm.example/hook?key=url-secret-2")
    monkeypatch.setenv("TIERFLOW_CRM_WEBHOOK_TOKEN", "token-secret-3")
    monkeypatch.setenv("TIERFLOW_HASH_SALT", "salt-secret-4")
    text = redact(
        "failed: postgresql://bi:pg-secret-1@db:5432/analytics; key=url-secret-2 "
        "token-secret-3 salt-secret-4 pg-secret-1"
    )
    assert "secret" not in text and text.count("***") >= 4
