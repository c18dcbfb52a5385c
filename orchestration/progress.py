"""What a person running `tierflow` sees on stderr while the job runs.

Dagster logs every engine event and dagster-dbt echoes every dbt line on stdout; by default the CLI shows
only the messages the steps write for people (files ingested, tables published), dbt's own progress and
summary lines, and warnings. --verbose shows everything. stdout stays free for --json.
"""

from __future__ import annotations

import io
import logging
import re
import sys

import dagster as dg

from tierflow.faults import carried_state_fault_point

DBT_PROGRESS = re.compile(r"(START sql|OK created|ERROR|FAIL|WARN|Completed|Done\.|Finished running)")
# dagster-dbt's notes about how it selected models: useful when debugging, noise otherwise.
DAGSTER_DBT_NOISE = re.compile(r"^(A dbt subsetted execution|Running dbt command|Finished dbt command)")


class DbtEchoFilter(io.TextIOBase):
    """A stand-in for stdout while the job runs: forwards dbt's echo to stderr, filtered unless verbose."""

    def __init__(self, verbose: bool) -> None:
        self.verbose = verbose

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        for line in text.splitlines():
            if line.strip() and (self.verbose or DBT_PROGRESS.search(line)):
                sys.stderr.write(f"  dbt | {line.strip()}\n")
            carried_state_fault_point(line)
        return len(text)


class _StepMessages(logging.Filter):
    def __init__(self, verbose: bool) -> None:
        super().__init__()
        self.verbose = verbose

    def filter(self, record: logging.LogRecord) -> bool:
        meta = getattr(record, "dagster_meta", None) or {}
        is_engine_event = meta.get("dagster_event") is not None
        message = str(meta.get("orig_message") or record.getMessage())
        if self.verbose:
            return True
        return not is_engine_event and record.levelno >= logging.INFO and not DAGSTER_DBT_NOISE.match(message)


@dg.logger(
    config_schema={"verbose": dg.Field(bool, default_value=False)},
    description="Concise progress for the tierflow CLI: step messages, warnings and errors on stderr.",
)
def cli_progress_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.getLogger("tierflow.progress")
    logger.setLevel(logging.DEBUG if init_context.logger_config["verbose"] else logging.INFO)
    logger.handlers.clear()
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_StepMessages(init_context.logger_config["verbose"]))
    handler.setFormatter(logging.Formatter("  %(step)s | %(message)s"))
    handler.addFilter(_add_step_name)
    logger.addHandler(handler)
    logger.propagate = False
    return logger


def _add_step_name(record: logging.LogRecord) -> bool:
    meta = getattr(record, "dagster_meta", None) or {}
    record.step = meta.get("step_key") or "tierflow"
    record.msg = meta.get("orig_message") or record.msg
    return True
