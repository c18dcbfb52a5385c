"""The dbt models as Dagster assets, built with `dbt build` so dbt tests run (and gate) with them."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets

from orchestration.defs.dbt.project import process_environment
from orchestration.defs.dbt.translator import TierflowDbtTranslator
from orchestration.defs.gates import FULL_REFRESH_TAG
from orchestration.defs.resources import TierflowResource
from tierflow.faults import fault_point
from tierflow.targets import target_for
from tierflow.targets.base import duckdb_environment
from tierflow.warehouse import release


@contextmanager
def warehouse_environment(warehouse: Path, spill_root: Path | None = None) -> Iterator[None]:
    """dbt-duckdb on `warehouse` (a copy of the warehouse, for what-if runs, spills beside it)."""
    with process_environment(duckdb_environment(warehouse, spill_root or warehouse.parent)):
        yield


def build_dbt_assets(project: DbtProject) -> dg.AssetsDefinition:
    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=TierflowDbtTranslator(),
        name="tierflow_dbt_models",
    )
    def tierflow_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, tierflow: TierflowResource):
        # Unit tests check the SQL logic, not the data: the test suite runs them, nightly runs skip them.
        args = ["build", "--exclude-resource-type", "unit_test"]
        if context.run.tags.get(FULL_REFRESH_TAG) == "true":
            args.append("--full-refresh")
        engine = target_for(tierflow.target, tierflow.layout)
        with engine.around_dbt(project.manifest_path) as environment, process_environment(environment):
            release(tierflow.layout.warehouse)  # dbt's process opens the file
            for count, event in enumerate(
                dbt.cli(args, context=context, target_path=tierflow.layout.dbt_target).stream()
            ):
                yield event
                if count == 10:
                    fault_point("dbt.midway")  # some models built, others not

    return tierflow_dbt_models
