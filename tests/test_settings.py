"""One `Settings`: every TIERFLOW_* variable is a field (secrets hidden), unknown ones are refused with the list
of known ones, bad values are named by their variable, and docs/settings.md is generated from the model."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tierflow.cli import main
from tierflow.paths import REPO_ROOT
from tierflow.settings import INTERNAL, Settings, SettingsError, reference

SOURCES = ("tierflow", "orchestration", "bench", "dbt_project", "deploy")


def test_every_tierflow_variable_in_the_code_is_a_setting_or_internal() -> None:
    # Read by name anywhere (Python, dbt profile and macros, Dagster's deploy config): each must be known.
    found: set[str] = set()
    for folder in SOURCES:
        for path in (REPO_ROOT / folder).rglob("*"):
            if path.suffix in {".py", ".yml", ".yaml", ".sql"} and "target" not in path.parts:
                found |= set(re.findall(r"\bTIERFLOW_[A-Z0-9_]*[A-Z0-9]\b", path.read_text(encoding="utf-8")))
    known = {f"TIERFLOW_{name.upper()}" for name in Settings.model_fields} | {f"TIERFLOW__{n}" for n in INTERNAL}
    assert found - known == set()
    assert len(found & known) > 20  # the scan really finds them


def test_unknown_variable_is_refused_with_the_known_ones() -> None:
    with pytest.raises(SettingsError) as error:
        Settings.from_env({"TIERFLOW_HOEM": "/srv/tiers", "TIERFLOW__FAULT_POINT": "x"})
    message = str(error.value)
    assert "unknown setting TIERFLOW_HOEM" in message and "TIERFLOW_HOME" in message
    assert "TIERFLOW__FAULT_POINT" not in message  # internal variables are not settings, and not refused


def test_a_bad_value_is_named_by_its_variable_or_flag_and_a_secret_is_not_shown() -> None:
    with pytest.raises(SettingsError, match=r"TIERFLOW_CRM_BATCH_SIZE=lots: Input should be a valid integer"):
        Settings.from_env({"TIERFLOW_CRM_BATCH_SIZE": "lots"})
    with pytest.raises(SettingsError, match=r"--target=oracle: Input should be"):
        Settings.from_env({}, target="oracle")
    with pytest.raises(SettingsError, match="TIERFLOW_DUCKDB_MEMORY_LIMIT=lots"):
        Settings.from_env({"TIERFLOW_DUCKDB_MEMORY_LIMIT": "lots"})


def test_secrets_are_hidden_and_one_dsn_serves_publication_and_the_target() -> None:
    dsn = "postgresql://bi:pg-secret@db:5432/analytics"
    settings = Settings.from_env({"TIERFLOW_PG_DSN": dsn, "TIERFLOW_HASH_SALT": "pepper"})
    assert "pg-secret" not in repr(settings) and "pepper" not in str(settings.model_dump())
    assert settings.secret("pg_dsn") == dsn and settings.target_dsn == dsn
    own = "postgresql://builder@127.0.0.1:5432/models"
    assert Settings.from_env({"TIERFLOW_PG_DSN": dsn, "TIERFLOW_TARGET_PG_DSN": own}).target_dsn == own
    assert Settings.from_env({"TIERFLOW_PG_DSN": ""}).secret("pg_dsn") is None  # empty means unset


def test_cli_refuses_an_unknown_variable_with_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TIERFLOW_PG_SCEHMA", "bi")
    assert main(["explain", "c1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tierflow: unknown setting TIERFLOW_PG_SCEHMA") and "Traceback" not in err


def test_settings_reference_is_up_to_date() -> None:
    written = (REPO_ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert written == reference(), "regenerate it: python -m tierflow.settings > docs/settings.md"
    printed = subprocess.run(
        [sys.executable, "-m", "tierflow.settings"], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    ).stdout
    assert printed == written
    for name in Settings.model_fields:
        assert f"`TIERFLOW_{name.upper()}`" in written
