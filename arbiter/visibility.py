"""Who may see interim effects.

Blinding protects a running dispute from pressure: a team sees progress (assigned,
mature, pending per arm) and health always, but interim outcomes per arm and every
comparison's estimate, statistic, interval and p-value only when the protocol unblinds
them (``unblinded = true``) or once the dispute is decided. The committee and analysts
always see everything.
"""

from __future__ import annotations

from typing import Any

__all__ = ["BLINDED_ARM_FIELDS", "blind_look", "blind_status", "sees_effects"]

BLINDED_ARM_FIELDS = ("leads_with_deal", "leads_won", "won_deals", "revenue", "excluded")
_COMPARISON_KEEP = (
    "reference",
    "challenger",
    "decision",
    "status",
    "method",
    "information_fractions",
    "efficacy_boundaries",
    "futility_boundaries",
    "boundary",
    "futility_boundary",
)


def sees_effects(role: str, *, unblinded: bool, status: str) -> bool:
    """True when a caller of ``role`` may see interim effects of this dispute."""
    return role in ("committee", "analyst") or unblinded or status in ("decided", "archived")


def blind_status(document: dict[str, Any]) -> dict[str, Any]:
    """A status document without per-arm outcomes (progress and health stay)."""
    arms = {
        key: {k: v for k, v in arm.items() if k not in BLINDED_ARM_FIELDS}
        for key, arm in document["arms"].items()
    }
    return {**document, "arms": arms, "blinded": True}


def blind_look(look: dict[str, Any]) -> dict[str, Any]:
    """A look without estimates, statistics, intervals, p-values or the effect."""
    decision = dict(look.get("decision") or {})
    decision["comparisons"] = [
        {k: v for k, v in c.items() if k in _COMPARISON_KEEP}
        for c in decision.get("comparisons") or []
    ]
    for hidden in ("effect", "guardrails", "ruled_out"):
        decision.pop(hidden, None)
    blinded = {**look, "decision": decision, "blinded": True}
    blinded["rationale"] = dict.fromkeys(
        ("en", "pl", "ru"), "Interim results are blinded for teams until the verdict."
    )
    return blinded
