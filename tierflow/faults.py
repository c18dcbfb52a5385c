"""Named fault points for crash tests: `fault_point("publish.duckdb_replaced")` kills the run with SIGKILL
when TIERFLOW__FAULT_POINT names that point (a comma list may name several), exactly as a power cut or a
container kill would at that moment. No clean-up handler runs. When the process leads its own process group
(a test starts `tierflow run` in a new session) the whole group dies, dbt's subprocess included, as it does
when systemd or Kubernetes kill a run; otherwise only this process. Outside tests the variable is unset and
a fault point costs one environment lookup.
"""

from __future__ import annotations

import os
import re
import signal

from tierflow.settings import internal_value


def fault_point(name: str) -> None:
    wanted = internal_value("FAULT_POINT")
    if wanted and name in {w.strip() for w in wanted.split(",")}:
        if os.getpgrp() == os.getpid():
            os.killpg(os.getpgrp(), signal.SIGKILL)
        os.kill(os.getpid(), signal.SIGKILL)


# dbt's progress lines for a carried (incremental) model: it starts updating it, or has committed the update.
_CARRIED_PROGRESS = re.compile(r"\b(START|OK created) sql incremental model \S*?\.?(\w+)\s")


def carried_state_fault_point(dbt_line: str) -> None:
    """`updating.<model>` as dbt reports that it starts updating a carried table (the kill lands while the
    update runs, before its transaction commits), `updated.<model>` once it reports the update committed and
    before the models that read it run."""
    # Outside crash tests no fault point is set: skip the match on every line dbt prints.
    found = internal_value("FAULT_POINT") and _CARRIED_PROGRESS.search(dbt_line)
    if found:
        fault_point(f"{'updating' if found.group(1) == 'START' else 'updated'}.{found.group(2)}")
