"""The what-if page of `tierflow simulate`: one self-contained HTML file in the style of the run report."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

from tierflow.report.render import CSS, heatmap
from tierflow.simulate import DEFINITION, Simulation


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def _change(before: int, after: int) -> str:
    css = "up" if after > before else "down" if after < before else "note"
    return f'<td class="{css}">{after - before:+,}</td>'


def tier_table(simulation: Simulation) -> str:
    rows = "".join(
        f"<tr><td>{escape(t.name)} <span class='note'>{escape(t.tier)}</span></td>"
        f"<td>{t.current_members:,}</td><td>{t.candidate_members:,}</td>"
        f"{_change(t.current_members, t.candidate_members)}<td>{t.requalified_members:,}</td>"
        f"<td>{_money(t.current_avg_spend_365d)}</td><td>{_money(t.candidate_avg_spend_365d)}</td></tr>"
        for t in simulation.tiers
    )
    return (
        "<table><tr><th>tier</th><th>members now</th><th>candidate</th><th>change</th><th>re-qualified</th>"
        f"<th>avg spend 365d now</th><th>candidate</th></tr>{rows}</table>"
    )


def render_simulation(simulation: Simulation) -> str:
    figures = {
        "customers": f"{simulation.customers:,}",
        "members who move": f"{simulation.moved_share:.1%}",
        "moved": f"{simulation.moved:,}",
        "upgraded": f"{simulation.upgraded:,}",
        "downgraded": f"{simulation.downgraded:,}",
        "move once re-qualified": f"{simulation.requalified_moved:,}",
        **{
            f"{kind.replace('_', ' ')} notices (now {now:,})": f"{then:,}"
            for kind, (now, then) in simulation.notices.items()
        },
    }
    figure_html = "".join(
        f'<div class="figure"><b>{value}</b><span>{escape(name)}</span></div>' for name, value in figures.items()
    )
    common = {"column_title": "candidate tier", "none_label": "not current"}
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tierflow what-if {escape(simulation.as_of)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>
<body><header><h1>What if policy {escape(simulation.candidate_policy_version)} applied as of
{escape(simulation.as_of)}</h1>
<p>candidate {escape(simulation.candidate_policy_path)} · current: {escape(simulation.current_source)}
(policy {escape(simulation.current_policy_version)}) · nothing was published</p></header>
<div class="figures">{figure_html}</div>
<main>
<section><h2>Migration: current tier (rows) × candidate tier (columns)</h2>
{heatmap(simulation.rows, simulation.columns, simulation.matrix, label="migration matrix", **common)}</section>
<section><h2>Once re-qualified: qualified tier now (rows) × under the candidate (columns)</h2>
{heatmap(simulation.rows, simulation.columns, simulation.requalified_matrix, label="re-qualified matrix", **common)}
</section>
<section><h2>Members and average spend per tier</h2>{tier_table(simulation)}</section>
<section><h2>What the columns mean</h2><p class="note">{escape(DEFINITION)}</p></section>
</main></body></html>
"""


def write_simulation(simulation: Simulation, out_dir: Path) -> dict[str, str]:
    """Write `simulation.json` and `simulation.html` into `out_dir`; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    html_path, json_path = out_dir / "simulation.html", out_dir / "simulation.json"
    simulation.files = {"json": str(json_path), "html": str(html_path)}
    html_path.write_text(render_simulation(simulation), encoding="utf-8")
    json_path.write_text(json.dumps(simulation.as_dict(), indent=2) + "\n", encoding="utf-8")
    return simulation.files
