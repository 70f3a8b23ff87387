"""JSON forms of summaries, look inputs and decisions (stored looks, decision records).

Every number is written as a JSON number (NaN and infinities as ``null``) and read back
into the same :mod:`stats` objects, so a record recomputes to the same result.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict
from datetime import datetime
from typing import Any

from arbiter.verdict import ArmEffect, LookDecision, LookInput, MetricSnapshot, Summary
from stats import CovariateSummary, MeanSummary, ProportionSummary, RatioSummary

__all__ = [
    "canonical",
    "decision_to_json",
    "digest",
    "finite",
    "look_from_json",
    "look_to_json",
    "summary_from_json",
    "summary_to_json",
]


def finite(value: Any) -> Any:
    """Replace NaN and infinities by None, recursively (strict JSON)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def canonical(value: Any) -> str:
    """Sorted, compact, strict JSON."""
    return json.dumps(
        finite(value),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_default,
    )


def digest(value: Any) -> str:
    """SHA-256 of the canonical JSON."""
    return hashlib.sha256(canonical(value).encode("utf-8")).hexdigest()


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    raise TypeError(f"cannot serialise {type(value).__name__}")


def summary_to_json(summary: Summary | CovariateSummary) -> dict[str, Any]:
    """A summary as {"type": …, fields…}."""
    if isinstance(summary, ProportionSummary):
        return {"type": "proportion", "count": summary.count, "nobs": summary.nobs}
    if isinstance(summary, MeanSummary):
        return {
            "type": "mean",
            "n": summary.n,
            "sum": summary.sum,
            "sum_squares": summary.sum_squares,
        }
    if isinstance(summary, RatioSummary):
        return {"type": "ratio", **asdict(summary)}
    return {"type": "covariate", **asdict(summary)}


def summary_from_json(data: dict[str, Any]) -> Any:
    """The summary a :func:`summary_to_json` document describes."""
    kind = data["type"]
    fields = {k: v for k, v in data.items() if k != "type"}
    cls = {
        "proportion": ProportionSummary,
        "mean": MeanSummary,
        "ratio": RatioSummary,
        "covariate": CovariateSummary,
    }[kind]
    return cls(**fields)


def _snapshot_to_json(snapshot: MetricSnapshot) -> dict[str, Any]:
    return {
        "arms": {k: summary_to_json(v) for k, v in snapshot.arms.items()},
        "covariates": None
        if snapshot.covariates is None
        else {k: summary_to_json(v) for k, v in snapshot.covariates.items()},
        "cap": snapshot.cap,
    }


def _snapshot_from_json(data: dict[str, Any]) -> MetricSnapshot:
    covariates = data.get("covariates")
    return MetricSnapshot(
        arms={k: summary_from_json(v) for k, v in data["arms"].items()},
        covariates=None
        if covariates is None
        else {k: summary_from_json(v) for k, v in covariates.items()},
        cap=data.get("cap"),
    )


def look_to_json(look: LookInput) -> dict[str, Any]:
    """Everything a look saw, as JSON."""
    return {
        "number": look.number,
        "at": look.at.isoformat().replace("+00:00", "Z"),
        "information_fraction": look.information_fraction,
        "analysed": look.analysed,
        "primary": _snapshot_to_json(look.primary),
        "guardrails": {k: _snapshot_to_json(v) for k, v in look.guardrails.items()},
        "assigned": dict(look.assigned),
        "elapsed_days": look.elapsed_days,
        "data_age_days": look.data_age_days,
    }


def look_from_json(data: dict[str, Any]) -> LookInput:
    """The :class:`LookInput` a :func:`look_to_json` document describes."""
    return LookInput(
        number=int(data["number"]),
        at=datetime.fromisoformat(data["at"]),
        information_fraction=float(data["information_fraction"]),
        analysed=bool(data["analysed"]),
        primary=_snapshot_from_json(data["primary"]),
        guardrails={k: _snapshot_from_json(v) for k, v in data["guardrails"].items()},
        assigned={k: int(v) for k, v in data["assigned"].items()},
        elapsed_days=float(data["elapsed_days"]),
        data_age_days=None if data.get("data_age_days") is None else float(data["data_age_days"]),
    )


def effect_to_json(effect: ArmEffect | None) -> dict[str, Any] | None:
    """An effect with its interval."""
    return None if effect is None else finite(asdict(effect))


def decision_to_json(decision: LookDecision) -> dict[str, Any]:
    """What a look decided, with the comparisons, guardrails and health checks behind it."""
    view: dict[str, Any] = finite(
        {
            "outcome": decision.outcome,
            "rule": decision.rule,
            "final": decision.final,
            "information_fraction": decision.information_fraction,
            "winner": decision.winner,
            "effect": effect_to_json(decision.effect),
            "also_beat_control": decision.also_beat_control,
            "comparisons": decision.comparisons,
            "guardrails": decision.guardrails,
            "health": decision.health,
            "ruled_out": list(decision.ruled_out) if decision.ruled_out else None,
        }
    )
    return view
