"""The dbt models as Dagster assets, built with `dbt build` so dbt tests run (and gate) with them."""

import os
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets

from orchestration.defs.dbt.translator import TierflowDbtTranslator
from orchestration.defs.resources import TierflowResource


@contextmanager
def warehouse_environment(tierflow: TierflowResource) -> Iterator[None]:
    """dbt runs in a subprocess and finds the warehouse through TIERFLOW_WAREHOUSE (see profiles.yml)."""
    previous = os.environ.get("TIERFLOW_WAREHOUSE")
    os.environ["TIERFLOW_WAREHOUSE"] = str(tierflow.layout.warehouse)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("TIERFLOW_WAREHOUSE", None)
        else:
            os.environ["TIERFLOW_WAREHOUSE"] = previous


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
        with warehouse_environment(tierflow):
            yield from dbt.cli(args, context=context, target_path=tierflow.layout.dbt_target).stream()

    return tierflow_dbt_models
