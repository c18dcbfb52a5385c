"""The visual report of a published run: one self-contained HTML file (inline CSS and SVG, no scripts, no
network), written to `<home>/reports/<as_of>_<run_id>.html` with `<home>/reports/latest.html` beside it."""

from tierflow.report.data import ReportData, load_report_data
from tierflow.report.render import render_report, write_report

__all__ = ["ReportData", "load_report_data", "render_report", "write_report"]
