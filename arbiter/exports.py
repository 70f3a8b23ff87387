"""CSV exports of verdicts and look histories.

Text cells that a spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) are prefixed with an apostrophe (OWASP, "CSV
Injection"); numbers are written as numbers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from arbiter.tables import DecisionRecord, Look

__all__ = ["decisions_csv", "looks_csv", "safe_cell"]

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A cell that cannot run as a spreadsheet formula."""
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    if value is None:
        return ""
    return value


def decisions_csv(
    session: Session, experiment_ids: Sequence[str]
) -> tuple[list[str], list[list[Any]]]:
    """One row per verdict."""
    header = [
        "experiment",
        "verdict",
        "winner_arm",
        "winner_party",
        "rule",
        "look",
        "estimate",
        "ci_low",
        "ci_high",
        "difference",
        "decided_at",
        "record_sha256",
        "rationale_en",
    ]
    rows = []
    query = select(DecisionRecord).where(col(DecisionRecord.experiment_id).in_(experiment_ids))
    for row in session.scalars(query.order_by(col(DecisionRecord.id))):
        effect = json.loads(row.record)["verdict"].get("effect") or {}
        ci = effect.get("ci") or [None, None]
        rows.append(
            [
                safe_cell(v)
                for v in (
                    row.experiment_id,
                    row.verdict,
                    row.winner_arm,
                    row.winner_party,
                    row.rule,
                    row.look_number,
                    effect.get("estimate"),
                    ci[0],
                    ci[1],
                    effect.get("difference"),
                    row.decided_at.isoformat().replace("+00:00", "Z"),
                    row.record_sha256,
                    json.loads(row.rationale)["en"],
                )
            ]
        )
    return header, rows


def looks_csv(session: Session, experiment_ids: Sequence[str]) -> tuple[list[str], list[list[Any]]]:
    """One row per look and comparison."""
    header = [
        "experiment",
        "look",
        "at",
        "information_fraction",
        "analysed",
        "outcome",
        "rule",
        "reference",
        "challenger",
        "estimate",
        "ci_low",
        "ci_high",
        "statistic",
        "boundary",
        "futility_boundary",
        "pvalue",
        "adjusted_pvalue",
        "snapshot_sha256",
    ]
    rows = []
    query = select(Look).where(col(Look.experiment_id).in_(experiment_ids))
    for look in session.scalars(query.order_by(col(Look.experiment_id), col(Look.number))):
        decision = json.loads(look.data)["decision"]
        for c in decision.get("comparisons") or [{}]:
            ci = c.get("ci") or [None, None]
            rows.append(
                [
                    safe_cell(v)
                    for v in (
                        look.experiment_id,
                        look.number,
                        look.at.isoformat().replace("+00:00", "Z"),
                        look.information_fraction,
                        look.analysed,
                        look.outcome,
                        look.rule,
                        c.get("reference"),
                        c.get("challenger"),
                        c.get("estimate"),
                        ci[0],
                        ci[1],
                        c.get("statistic"),
                        c.get("boundary"),
                        c.get("futility_boundary"),
                        c.get("pvalue"),
                        c.get("adjusted_pvalue"),
                        look.snapshot_sha256,
                    )
                ]
            )
    return header, rows
