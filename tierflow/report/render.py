"""The report as one HTML file: inline CSS and SVG charts drawn here, so it opens offline and in mail."""

from __future__ import annotations

from html import escape
from pathlib import Path

from tierflow.publish.files import replace_atomically
from tierflow.report.data import ReportData

PALETTE = ("#c9812f", "#8f9aa6", "#d4af37", "#4a7bd0", "#7a4fb5", "#2f9e77", "#d05a4a", "#5b6b7a")
SEGMENT_COLOURS = {
    "champions": "#1b7f5b",
    "loyal": "#39a97a",
    "potential_loyalist": "#7cc6a4",
    "new_customers": "#4a7bd0",
    "promising": "#8fb0e8",
    "need_attention": "#e0b341",
    "about_to_sleep": "#e89a4f",
    "at_risk": "#d9663f",
    "cant_lose": "#b3261e",
    "hibernating": "#8c8c8c",
}
# The report is read by people: every figure is labelled in words, never by its field name.
FIGURE_LABELS = {
    "customers": "Customers",
    "recently_active_share": "Recently active",
    "repurchase_rate": "Bought twice or more in 365 days",
    "upgrades": "Moved up a tier",
    "downgrades": "Moved down a tier",
    "champions": "Champions (RFM)",
    "churned": "Churned",
    "unmapped_occupations": "Profiles whose occupation maps to no category",
}
CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f4f5f7;color:#1f2933}
header{background:#1f2d3d;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#c8d1dc;font-size:13px}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:18px;padding:18px 28px}
section{background:#fff;border-radius:8px;padding:14px 18px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
section h2{font-size:15px;margin:0 0 10px}.figures{display:flex;flex-wrap:wrap;gap:12px;padding:18px 28px 0}
.figure{background:#fff;border-radius:8px;padding:10px 16px;box-shadow:0 1px 3px rgba(0,0,0,.08);min-width:120px}
.figure b{display:block;font-size:20px}.figure span{font-size:12px;color:#52606d}
table{border-collapse:collapse;font-size:12px;width:100%}td,th{padding:4px 6px;border-bottom:1px solid #e4e7eb}
th{text-align:left;color:#52606d}.up{color:#1b7f5b}.down{color:#b3261e}svg text{font-size:11px;fill:#1f2933}
.note{font-size:12px;color:#52606d}.data-quality .figures{padding:0}
.data-quality .figure{box-shadow:none;background:#f4f5f7}
"""


def _svg(width: int, height: int, body: str, label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(label)}" '
        f'viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px">{body}</svg>'
    )


def tier_distribution(data: ReportData) -> str:
    width, bar_h, gap, left = 460, 26, 10, 90
    top = max([m for _, _, m in data.tiers] + [1])
    total = sum(m for _, _, m in data.tiers) or 1
    parts = []
    for i, (_, name, members) in enumerate(data.tiers):
        y = 10 + i * (bar_h + gap)
        w = (width - left - 90) * members / top
        colour = PALETTE[i % len(PALETTE)]
        parts.append(
            f'<text x="{left - 8}" y="{y + 17}" text-anchor="end">{escape(name)}</text>'
            f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" rx="3" fill="{colour}"/>'
            f'<text x="{left + w + 6:.1f}" y="{y + 17}">{members:,} ({members / total:.1%})</text>'
        )
    return _svg(width, 20 + len(data.tiers) * (bar_h + gap), "".join(parts), "tier distribution")


def heatmap(
    rows: list[str | None],
    columns: list[str],
    counts: dict[tuple[str | None, str], int],
    *,
    column_title: str,
    label: str,
    none_label: str = "new",
) -> str:
    """Counts per (row, column) as shaded cells; a row of None is labelled `none_label`."""
    top = max([*counts.values(), 1])
    cell, left, head = 64, 90, 40
    parts = [f'<text x="{left + len(columns) * cell / 2}" y="12" text-anchor="middle">{escape(column_title)}</text>']
    for j, code in enumerate(columns):
        parts.append(
            f'<text x="{left + j * cell + cell / 2}" y="{head - 8}" text-anchor="middle">{escape(code)}</text>'
        )
    for i, source in enumerate(rows):
        y = head + i * cell * 0.6
        row_label = none_label if source is None else source
        parts.append(f'<text x="{left - 8}" y="{y + cell * 0.35}" text-anchor="end">{escape(row_label)}</text>')
        for j, code in enumerate(columns):
            value = counts.get((source, code), 0)
            alpha = 0.08 + 0.92 * value / top if value else 0.04
            parts.append(
                f'<rect x="{left + j * cell}" y="{y}" width="{cell - 3}" height="{cell * 0.6 - 3}" '
                f'fill="rgba(74,123,208,{alpha:.3f})"/>'
                f'<text x="{left + j * cell + cell / 2 - 1}" y="{y + cell * 0.35}" '
                f'text-anchor="middle">{value:,}</text>'
            )
    height = head + len(rows) * cell * 0.6 + 10
    return _svg(left + len(columns) * cell + 10, int(height), "".join(parts), label)


def migration_heatmap(data: ReportData) -> str:
    codes = [code for code, _, _ in data.tiers]
    rows: list[str | None] = [*codes]
    if any(f is None for f, _, _ in data.migrations):
        rows.insert(0, None)
    counts = {(f, t): c for f, t, c in data.migrations}
    return heatmap(rows, codes, counts, column_title="to tier", label="tier migration heat map")


def kpi_trends(data: ReportData) -> str:
    dates = sorted({d for d, *_ in data.trends})
    codes = [code for code, _, _ in data.tiers]
    width, height, left, bottom, top_pad = 460, 220, 50, 40, 14
    plot_w, plot_h = width - left - 110, height - bottom - top_pad
    peak = max([m for _, _, m, _, _ in data.trends] + [1])

    def x(date: str) -> float:
        return left + (plot_w * dates.index(date) / (len(dates) - 1) if len(dates) > 1 else plot_w / 2)

    def y(value: float) -> float:
        return top_pad + plot_h - plot_h * value / peak

    parts = [
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{left + plot_w}" y2="{top_pad + plot_h}" stroke="#9aa5b1"/>',
        f'<line x1="{left}" y1="{top_pad}" x2="{left}" y2="{top_pad + plot_h}" stroke="#9aa5b1"/>',
        f'<text x="{left - 6}" y="{top_pad + 4}" text-anchor="end">{peak:,}</text>',
        f'<text x="{left - 6}" y="{top_pad + plot_h}" text-anchor="end">0</text>',
    ]
    for date in dates:
        parts.append(f'<text x="{x(date):.1f}" y="{height - bottom + 18}" text-anchor="middle">{date}</text>')
    for i, code in enumerate(codes):
        points = [(x(d), y(m)) for d, t, m, _, _ in data.trends if t == code]
        colour = PALETTE[i % len(PALETTE)]
        if len(points) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
        for px, py in points:
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="4" fill="{colour}"/>')
        parts.append(
            f'<rect x="{left + plot_w + 16}" y="{top_pad + i * 18}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{left + plot_w + 30}" y="{top_pad + i * 18 + 9}">{escape(code)}</text>'
        )
    return _svg(width, height, "".join(parts), "members per tier across runs")


def lifecycle_funnel(data: ReportData) -> str:
    width, bar_h, gap = 460, 24, 6
    top = max([n for _, n in data.lifecycle] + [1])
    parts = []
    centre = 230
    for i, (stage, count) in enumerate(data.lifecycle):
        w = max(2.0, 300 * count / top)
        y = 6 + i * (bar_h + gap)
        parts.append(
            f'<rect x="{centre - w / 2:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" rx="3" '
            f'fill="{PALETTE[(i + 3) % len(PALETTE)]}"/>'
            f'<text x="8" y="{y + 16}">{escape(stage)}</text>'
            f'<text x="{width - 8}" y="{y + 16}" text-anchor="end">{count:,}</text>'
        )
    return _svg(width, 12 + len(data.lifecycle) * (bar_h + gap), "".join(parts), "lifecycle funnel")


def rfm_grid(data: ReportData) -> str:
    cell, left, top = 92, 40, 24
    parts = [
        f'<text x="{left + 2.5 * cell}" y="14" text-anchor="middle">frequency score →</text>',
        f'<text x="12" y="{top + 2.5 * cell}" transform="rotate(-90 12 {top + 2.5 * cell})" '
        'text-anchor="middle">recency score →</text>',
    ]
    for r in range(5, 0, -1):
        for f in range(1, 6):
            count, segment = data.rfm_grid.get((r, f), (0, ""))
            x0, y0 = left + (f - 1) * cell, top + (5 - r) * cell
            colour = SEGMENT_COLOURS.get(segment, "#eef0f3")
            parts.append(
                f'<rect x="{x0}" y="{y0}" width="{cell - 3}" height="{cell - 3}" fill="{colour}"/>'
                f'<text x="{x0 + 5}" y="{y0 + 16}" style="fill:#fff;font-weight:600">R{r}F{f}</text>'
                f'<text x="{x0 + 5}" y="{y0 + 34}" style="fill:#fff">{count:,}</text>'
                f'<text x="{x0 + 5}" y="{y0 + 52}" style="fill:#fff;font-size:9px">{escape(segment)}</text>'
            )
    return _svg(left + 5 * cell + 10, top + 5 * cell + 10, "".join(parts), "RFM 5x5 grid")


def movers_table(data: ReportData) -> str:
    if not data.movers:
        return '<p class="note">No tier changes since the previous published run (or this is the first one).</p>'
    rows = "".join(
        f"<tr><td>{escape(cid)}</td><td>{escape(before or '-')}</td><td>{escape(after)}</td>"
        f'<td class="{"up" if change > 0 else "down"}">{change:+d}</td>'
        f"<td>{(then or 0):,.2f}</td><td>{now:,.2f}</td></tr>"
        for cid, before, after, change, then, now in data.movers
    )
    return (
        "<table><tr><th>customer</th><th>was</th><th>now</th><th>tier change</th>"
        f"<th>spend 365d then</th><th>now</th></tr>{rows}</table>"
    )


def figure_label(name: str) -> str:
    return FIGURE_LABELS.get(name) or name.replace("_", " ").capitalize()


def figure_boxes(figures: dict[str, float | int | str | None]) -> str:
    return "".join(
        f'<div class="figure"><b>{value:.1%}</b><span>{escape(figure_label(name))}</span></div>'
        if isinstance(value, float)
        else f'<div class="figure"><b>{value:,}</b><span>{escape(figure_label(name))}</span></div>'
        for name, value in figures.items()
    )


def render_report(data: ReportData) -> str:
    figures = figure_boxes(data.key_figures)
    # Data quality describes the input, not the members: it sits apart so it is not read as a business KPI.
    quality = (
        '<section class="data-quality"><h2>Data quality</h2>'
        f'<div class="figures">{figure_boxes(data.data_quality)}</div></section>'
        if data.data_quality
        else ""
    )
    since = f"since {data.previous_as_of}" if data.previous_as_of else "first published run: everyone is new"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tierflow report {escape(data.as_of)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>
<body><header><h1>Membership tiers as of {escape(data.as_of)}</h1>
<p>run {escape(data.run_id)} · policy {escape(data.policy_version)}</p></header>
<div class="figures">{figures}</div>
<main>
<section><h2>Tier distribution</h2>{tier_distribution(data)}</section>
<section><h2>Tier migrations ({escape(since)})</h2>{migration_heatmap(data)}</section>
<section><h2>Members per tier across runs</h2>{kpi_trends(data)}</section>
<section><h2>Lifecycle funnel</h2>{lifecycle_funnel(data)}</section>
<section><h2>RFM grid (customers with orders)</h2>{rfm_grid(data)}</section>
<section><h2>Top movers</h2>{movers_table(data)}</section>
{quality}
</main></body></html>
"""


def write_report(data: ReportData, reports_dir: Path) -> Path:
    """Write the report for this run and point `latest.html` at it (replaced in one rename)."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    path = reports_dir / f"{data.as_of}_{data.run_id}.html"
    html = render_report(data)
    # Both files appear complete or not at all (a crash leaves only a hidden .staged file, cleaned next run).
    for target in (path, reports_dir / "latest.html"):
        staged = reports_dir / f".{target.name}.staged"
        staged.write_text(html, encoding="utf-8")
        replace_atomically(staged, target)
    return path
