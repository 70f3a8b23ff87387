"""The scoreboard: decided disputes per party — "the result is on the scoreboard".

For each party: disputes it took part in, wins (its proposal was declared the winner),
losses (another party's proposal beat one of its own), outcomes with no meaningful
difference, inconclusive, escalated and halted ones, and the estimated effects of its
adopted (winning) proposals in their metrics' units.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from arbiter.rationale import _effect
from arbiter.tables import DecisionRecord
from experiments.protocol import parse_protocol

__all__ = ["PartyScore", "scoreboard"]


@dataclass
class PartyScore:
    """One party's record."""

    party: str
    disputes: int = 0
    wins: int = 0
    losses: int = 0
    no_meaningful_difference: int = 0
    inconclusive: int = 0
    escalated: int = 0
    halted: int = 0
    adopted: list[dict[str, Any]] = field(default_factory=list)


def scoreboard(session: Session, language: str = "en") -> list[dict[str, Any]]:
    """Every party's record, most wins first."""
    scores: dict[str, PartyScore] = {}
    rows = session.scalars(select(DecisionRecord).order_by(col(DecisionRecord.decided_at)))
    for row in rows:
        record = json.loads(row.record)
        protocol = parse_protocol(record["protocol"]["versions"][-1]["document"])
        parties = {a.party for a in protocol.arms}
        verdict = record["verdict"]
        for party in parties:
            score = scores.setdefault(party, PartyScore(party))
            score.disputes += 1
            kind = verdict["kind"]
            if kind == "winner":
                if party == verdict["winner_party"]:
                    score.wins += 1
                    effect = verdict.get("effect") or {}
                    score.adopted.append(
                        {
                            "experiment": record["experiment"]["id"],
                            "arm": verdict["winner_arm"],
                            "proposal": protocol.arm(verdict["winner_arm"]).name,
                            "metric": protocol.primary.name,
                            "effect": effect.get("estimate"),
                            "ci": effect.get("ci"),
                            "difference": effect.get("difference"),
                            "text": _effect(
                                protocol, effect["estimate"], effect["difference"], language
                            )
                            if effect
                            else None,
                        }
                    )
                elif effect_against(verdict, protocol, party):
                    score.losses += 1
            elif kind in ("no_meaningful_difference", "inconclusive", "escalated", "halted"):
                setattr(score, kind, getattr(score, kind) + 1)
    ordered = sorted(scores.values(), key=lambda s: (-s.wins, s.losses, s.party))
    return [asdict(s) for s in ordered]


def effect_against(verdict: dict[str, Any], protocol: Any, party: str) -> bool:
    """True when the winner beat a proposal of ``party``."""
    effect = verdict.get("effect") or {}
    versus = effect.get("versus")
    return versus is not None and protocol.arm(versus).party == party
