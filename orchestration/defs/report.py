"""The report asset: after publication, one self-contained HTML report per run under <home>/reports/."""

import dagster as dg

from orchestration.defs.publish import PUBLISH_GROUP
from orchestration.defs.resources import TierflowResource
from tierflow.faults import fault_point
from tierflow.report import load_report_data, write_report

OWNERS = ["team:data-platform"]


def build_report_asset() -> dg.AssetsDefinition:
    @dg.asset(
        key="tier_report",
        deps=[dg.AssetKey("published_tables")],
        group_name=PUBLISH_GROUP,
        kinds={"html"},
        owners=OWNERS,
        description="The visual report of the published run (tier distribution, migrations, KPI trends, "
        "lifecycle funnel, RFM grid, top movers) as one offline HTML file under reports/.",
    )
    def tier_report(context: dg.AssetExecutionContext, tierflow: TierflowResource) -> dg.MaterializeResult:
        data = load_report_data(tierflow.layout.warehouse)
        path = write_report(data, tierflow.layout.root / "reports")
        fault_point("report.written")
        context.log.info(f"report written to {path}")
        return dg.MaterializeResult(
            metadata={
                "report": dg.MetadataValue.url(path.resolve().as_uri()),
                "report_path": dg.MetadataValue.path(str(path)),
                **{name: value for name, value in data.figures().items() if value is not None},
            }
        )

    return tier_report
