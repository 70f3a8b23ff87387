"""A single-file HTML report of one dispute: protocol summary, the chart of the test
statistic against the efficacy and futility boundaries across looks, per-arm estimates
with intervals, health checks and the verdict. Charts are drawn server-side as SVG by
matplotlib and embedded, so the file opens offline."""

from __future__ import annotations

import html
import io
import json
import math
from typing import Any

from sqlmodel import Session, col, select

from arbiter.looks import list_looks
from arbiter.rationale import format_number
from arbiter.serial import summary_from_json
from arbiter.tables import DecisionRecord, Look
from experiments import lifecycle

__all__ = ["boundary_chart", "render_report"]


def boundary_chart(looks: list[dict[str, Any]]) -> str:
    """SVG: |z| (or z) of each comparison against the boundaries, by information fraction."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    analysed = [look for look in looks if look["decision"].get("comparisons")]
    fig, ax = plt.subplots(figsize=(7.5, 3.6), dpi=100)
    if analysed:
        comparisons = analysed[-1]["decision"]["comparisons"]
        for c in comparisons:
            fractions = c.get("information_fractions") or []
            stats_ = [abs(z) if z is not None else math.nan for z in c.get("statistics") or []]
            label = f"{c['challenger']} vs {c['reference']}"
            ax.plot(fractions[: len(stats_)], stats_, "o-", label=f"|z| {label}")
        first = comparisons[0]
        fractions = first.get("information_fractions") or []
        eff = [
            b if b is not None and b < 8 else math.nan
            for b in first.get("efficacy_boundaries") or []
        ]
        ax.plot(fractions, eff, "s--", color="#b22222", label="efficacy boundary")
        if first.get("futility_boundaries"):
            ax.plot(
                fractions,
                first["futility_boundaries"],
                "^--",
                color="#2e8b57",
                label="futility boundary",
            )
    ax.set_xlabel("information fraction")
    ax.set_ylabel("test statistic |z|")
    ax.set_xlim(0, 1.05)
    ax.set_ylim(0, 6)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    out = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "arbiter"}):  # stable ids: reproducible file
        fig.savefig(
            out,
            format="svg",
            metadata={"Creator": None, "Date": None, "Format": None, "Type": None},
        )
    plt.close(fig)
    svg = out.getvalue()
    return svg[svg.index("<svg") :]


def _arm_table(protocol: Any, look: dict[str, Any] | None, lang: str) -> str:
    if look is None:
        return "<p>No look yet.</p>"
    rows = []
    arms = look["input"]["primary"]["arms"]
    for arm in protocol.arms:
        summary = summary_from_json(arms[arm.key])
        mean = summary.mean
        se = (
            math.sqrt(summary.variance / summary.n)
            if summary.n > 1 and summary.variance == summary.variance
            else math.nan
        )
        scale = 100.0 if protocol.primary.kind == "conversion" else 1.0
        lo, hi = (mean - 1.96 * se) * scale, (mean + 1.96 * se) * scale
        rows.append(
            f"<tr><td>{html.escape(arm.name)}</td><td>{html.escape(arm.party)}</td>"
            f"<td>{look['input']['assigned'].get(arm.key, 0)}</td><td>{summary.n}</td>"
            f"<td>{format_number(mean * scale, lang, 2)}</td>"
            f"<td>[{format_number(lo, lang, 2)}, {format_number(hi, lang, 2)}]</td></tr>"
        )
    unit = "%" if protocol.primary.kind == "conversion" else protocol.currency
    return (
        "<table><thead><tr><th>arm</th><th>party</th><th>assigned</th><th>mature</th>"
        f"<th>{html.escape(protocol.primary.name)} ({unit})</th><th>95% CI (per arm)</th></tr>"
        "</thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def render_report(session: Session, experiment_id: str, language: str | None = None) -> str:
    """The report as one HTML document."""
    experiment = lifecycle.get_experiment(session, experiment_id)
    protocol = lifecycle.current_protocol(session, experiment)
    lang = language or protocol.language
    looks = list_looks(session, experiment_id)
    decision = session.scalars(
        select(DecisionRecord).where(col(DecisionRecord.experiment_id) == experiment_id)
    ).first()
    last = looks[-1] if looks else None
    row = session.scalars(
        select(Look)
        .where(col(Look.experiment_id) == experiment_id)
        .order_by(col(Look.number).desc())
    ).first()
    last_full = json.loads(row.data) if row is not None else None
    verdict_text = (
        json.loads(decision.rationale)[lang]
        if decision is not None
        else (last["rationale"][lang] if last else "No look yet.")
    )
    health = last["decision"]["health"] if last else {}
    srm = health.get("sample_ratio", {})
    look_rows = "".join(
        f"<tr><td>{look['look']}</td><td>{look['at'][:10]}</td>"
        f"<td>{format_number(100 * min(look['information_fraction'], 1), lang, 0)}%</td>"
        f"<td>{html.escape(look['outcome'])}</td><td>{html.escape(look['rule'])}</td></tr>"
        for look in looks
    )
    arms = "".join(
        f"<li><b>{html.escape(a.name)}</b> ({html.escape(a.party)}, weight {a.weight:g})"
        f"{' — control' if protocol.control_arm is a else ''}</li>"
        for a in protocol.arms
    )
    verdict_label = decision.verdict.replace("_", " ") if decision else experiment.status
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(experiment.title)} — Arbiter report</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}}
h1{{font-size:1.5rem}} table{{border-collapse:collapse;width:100%;margin:1rem 0}}
td,th{{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left}}
.verdict{{background:#f4f6fb;border-left:4px solid #3557a7;padding:1rem}}
.badge{{display:inline-block;padding:.1rem .5rem;border-radius:.3rem;background:#3557a7;color:#fff}}
svg{{max-width:100%;height:auto}}
</style></head><body>
<h1>{html.escape(experiment.title)} <span class="badge">{html.escape(verdict_label)}</span></h1>
<p>{html.escape(protocol.question)}</p>
<h2>Protocol</h2>
<ul>{arms}</ul>
<p>Primary metric: <b>{html.escape(protocol.primary.name)}</b> ({protocol.primary.kind},
{protocol.primary.window_days}-day attribution window); minimum effect {protocol.mde.value:g}
({protocol.mde.kind}); α = {protocol.alpha:g}, power {protocol.power:g};
design {protocol.design.kind.replace("_", " ")}; maximum sample {protocol.limits.max_sample or "—"}.
Protocol version {experiment.current_version}.</p>
<h2>Verdict</h2>
<div class="verdict">{html.escape(verdict_text)}</div>
<h2>Test statistic against the boundaries</h2>
{boundary_chart(looks)}
<h2>Per-arm estimates (latest look)</h2>
{_arm_table(protocol, last_full, lang)}
<h2>Health</h2>
<p>Sample-ratio test: p = {format_number(srm.get("pvalue") or float("nan"), lang, 4)}
({"mismatch" if srm.get("mismatch") else "ok"}); data age
{format_number(health.get("data_age_days") or float("nan"), lang, 1)} days.</p>
<h2>Looks</h2>
<table><thead><tr><th>look</th><th>date</th><th>information</th><th>outcome</th><th>rule</th></tr>
</thead><tbody>{look_rows}</tbody></table>
<p><small>Generated by Arbiter. Decision record SHA-256:
{decision.record_sha256 if decision else "—"}.</small></p>
</body></html>
"""
