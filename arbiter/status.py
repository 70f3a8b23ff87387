"""The live status of a dispute: progress, the funnel per arm, and data health.

``GET /experiments/{id}/status`` and ``arbiter experiments status`` both print
:func:`experiment_status`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from experiments import lifecycle
from experiments.attribution import funnel
from experiments.clock import utcnow
from stats import srm_test

__all__ = ["experiment_status"]


def experiment_status(
    session: Session, experiment_id: str, *, now: datetime | None = None
) -> dict[str, Any]:
    """Progress toward the maximum sample, the funnel per arm, and the SRM check."""
    now = now or utcnow()
    experiment = lifecycle.get_experiment(session, experiment_id)
    protocol = lifecycle.current_protocol(session, experiment)
    arms = [a.key for a in protocol.arms]
    result = funnel(
        session,
        experiment_id=experiment_id,
        arms=arms,
        window_days=protocol.primary.window_days,
        currency=protocol.currency,
        now=now,
    )
    assigned = [result.arms[a].assigned for a in arms]
    srm = srm_test(assigned, [a.weight for a in protocol.arms])
    mature = sum(result.arms[a].mature for a in arms)
    maximum = protocol.limits.max_sample
    return {
        "id": experiment.id,
        "title": experiment.title,
        "status": experiment.status,
        "protocol_version": experiment.current_version,
        "started": experiment.started_at.isoformat().replace("+00:00", "Z")
        if experiment.started_at
        else None,
        "progress": {
            "assigned": sum(assigned),
            "mature": mature,
            "pending": sum(result.arms[a].pending for a in arms),
            "max_sample": maximum,
            "information_fraction": min(mature / maximum, 1.0) if maximum else None,
        },
        "arms": {
            a.key: {
                "name": a.name,
                "party": a.party,
                "weight": a.weight,
                "control": a is protocol.control_arm,
            }
            | result.as_dict()["arms"][a.key]
            for a in protocol.arms
        },
        "attribution": {k: v for k, v in result.as_dict().items() if k != "arms"},
        "health": {
            "sample_ratio": {
                "statistic": srm.statistic,
                "pvalue": srm.pvalue,
                "status": srm.status,
                "mismatch": srm.pvalue < 0.001,
            },
        },
    }
