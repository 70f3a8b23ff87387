"""The verdict rule: a pure function of the look history and the protocol.

:func:`decide` applies, in order (DESIGN.md, "Verdicts"):

1. **data health** — a sample-ratio mismatch at p < 0.001 halts the dispute (``halted``);
   data older than ``limits.max_data_age_days`` holds the look without a verdict;
2. **minimum duration and sample** — nothing is decided before the minimum number of
   days (rounded up to full weeks, so every weekday counts equally) and mature leads;
3. **the primary metric against the boundary** — group sequential or always valid, with
   Holm across comparisons when there are more than two arms (against the control, or
   all pairs when there is none);
4. **guardrails** — a winner that significantly harms a guardrail beyond its margin is
   not declared: the case is ``escalated`` to the committee;
5. **maximum sample or duration** — the last analysis: ``no_meaningful_difference`` when
   the repeated confidence interval lies within ±MDE, else ``inconclusive``.

The same function runs at every look (:mod:`arbiter.looks`) and when an analyst verifies
a decision record (:mod:`arbiter.records`), so the two can never disagree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from scipy.special import ndtri

from arbiter.policy import statistical_design
from experiments.protocol import Metric, Protocol
from stats import (
    AlwaysValid,
    CovariateSummary,
    Interim,
    MeanSummary,
    ProportionSummary,
    RatioSummary,
    SequentialResult,
    compare,
    sequential_holm,
    srm_test,
)

__all__ = [
    "VERDICTS",
    "ArmEffect",
    "LookDecision",
    "LookInput",
    "MetricSnapshot",
    "decide",
    "minimum_days",
]

Summary = MeanSummary | ProportionSummary | RatioSummary
VERDICTS = ("winner", "no_meaningful_difference", "inconclusive", "halted", "escalated")
Outcome = Literal[
    "continue",
    "held",
    "winner",
    "no_meaningful_difference",
    "inconclusive",
    "halted",
    "escalated",
]
SRM_ALPHA = 0.001


@dataclass(frozen=True, slots=True)
class MetricSnapshot:
    """One metric at one look: the per-arm summaries (and CUPED covariates)."""

    arms: Mapping[str, Summary]
    covariates: Mapping[str, CovariateSummary] | None = None
    cap: float | None = None

    @property
    def n(self) -> int:
        """Mature leads across arms."""
        return sum(s.n for s in self.arms.values())


@dataclass(frozen=True, slots=True)
class LookInput:
    """What one look saw. ``analysed`` is False when no new mature lead arrived since the
    previous analysed look (such a look adds nothing to the sequential history)."""

    number: int
    at: datetime
    information_fraction: float
    analysed: bool
    primary: MetricSnapshot
    guardrails: Mapping[str, MetricSnapshot]
    assigned: Mapping[str, int]
    elapsed_days: float
    data_age_days: float | None


@dataclass(frozen=True, slots=True)
class ArmEffect:
    """An effect of ``arm`` over ``versus`` on one metric, with its interval."""

    arm: str
    versus: str
    metric: str
    estimate: float
    ci: tuple[float, float]
    difference: str
    pvalue: float


@dataclass
class LookDecision:
    """Everything :func:`decide` concluded at the latest look."""

    outcome: Outcome
    rule: str
    final: bool
    information_fraction: float
    winner: str | None = None
    effect: ArmEffect | None = None
    also_beat_control: list[str] = field(default_factory=list)
    comparisons: list[dict[str, Any]] = field(default_factory=list)
    guardrails: list[dict[str, Any]] = field(default_factory=list)
    health: dict[str, Any] = field(default_factory=dict)
    ruled_out: tuple[float, float] | None = None

    @property
    def is_verdict(self) -> bool:
        """True when the dispute is decided by this look."""
        return self.outcome in VERDICTS


def minimum_days(protocol: Protocol) -> int:
    """The minimum duration rounded up to full weeks."""
    return 7 * math.ceil(protocol.limits.min_duration_days / 7)


def _pairs(protocol: Protocol) -> list[tuple[str, str]]:
    """(reference, challenger) pairs: against the control, or all pairs without one."""
    keys = [a.key for a in protocol.arms]
    control = protocol.control_arm
    if control is not None:
        return [(control.key, k) for k in keys if k != control.key]
    return [(keys[i], keys[j]) for i in range(len(keys)) for j in range(i + 1, len(keys))]


def _difference(protocol: Protocol) -> Literal["absolute", "relative"]:
    return "relative" if protocol.mde.kind == "relative" else "absolute"


def _fraction(protocol: Protocol, look: LookInput) -> float:
    """Information fraction under the protocol in force: mature leads over its maximum
    (so an amendment of ``max_sample`` re-scales earlier looks too, openly, through the
    amendment on record); the look's own stored fraction when there is no maximum."""
    if protocol.limits.max_sample:
        return min(look.primary.n / protocol.limits.max_sample, 1.0)
    return min(look.information_fraction, 1.0)


def _history(
    history: Sequence[LookInput], protocol: Protocol, pair: tuple[str, str]
) -> list[Interim]:
    """The comparison's sequential history: one entry per analysed look, with strictly
    increasing information; when several looks stand at the same information (several
    past the maximum after an amendment lowered it), the latest stands for it."""
    reference, challenger = pair
    out: list[Interim] = []
    for look in history:
        if not look.analysed:
            continue
        covariates = look.primary.covariates
        interim = Interim(
            control=look.primary.arms[reference],
            treatment=look.primary.arms[challenger],
            information_fraction=_fraction(protocol, look),
            covariate=(covariates[reference], covariates[challenger])
            if covariates is not None and protocol.primary.covariate
            else None,
        )
        previous = out[-1].information_fraction if out else 0.0
        if (
            out
            and interim.information_fraction is not None
            and previous is not None
            and (interim.information_fraction <= previous)
        ):
            out[-1] = interim
        else:
            out.append(interim)
    return out


def _final(protocol: Protocol, look: LookInput) -> bool:
    limits = protocol.limits
    by_sample = limits.max_sample is not None and look.information_fraction >= 1.0
    by_time = limits.max_duration_days is not None and look.elapsed_days >= limits.max_duration_days
    return by_sample or by_time


def _comparison_view(pair: tuple[str, str], r: SequentialResult) -> dict[str, Any]:
    return {
        "reference": pair[0],
        "challenger": pair[1],
        "decision": r.decision,
        "winner": (pair[1] if r.winner == "treatment" else pair[0]) if r.winner else None,
        "estimate": r.estimate,
        "standard_error": r.standard_error,
        "statistic": r.statistic,
        "boundary": r.boundary,
        "futility_boundary": r.futility_boundary,
        "ci": list(r.ci),
        "pvalue": r.pvalue,
        "adjusted_pvalue": r.adjusted_pvalue,
        "alpha": r.alpha,
        "status": r.status,
        "method": r.method,
        "statistics": list(r.statistics),
        "efficacy_boundaries": list(r.efficacy_boundaries),
        "futility_boundaries": list(r.futility_boundaries) if r.futility_boundaries else None,
        "information_fractions": list(r.information_fractions),
    }


def _effect(
    look: LookInput,
    protocol: Protocol,
    winner: str,
    loser: str,
    result: SequentialResult,
    difference: Literal["absolute", "relative"],
) -> ArmEffect:
    """The winner's effect over ``loser`` at this look with the repeated interval (the same
    boundary as the test, so the interval excludes zero exactly when the test rejects)."""
    covariates = look.primary.covariates if protocol.primary.covariate else None
    r = compare(
        look.primary.arms[loser],
        look.primary.arms[winner],
        difference=difference,
        alpha=result.alpha,
        covariate=(covariates[loser], covariates[winner]) if covariates is not None else None,
    )
    width = result.boundary * r.standard_error if math.isfinite(result.boundary) else math.nan
    return ArmEffect(
        winner,
        loser,
        protocol.primary.name,
        r.estimate,
        (r.estimate - width, r.estimate + width),
        difference,
        result.adjusted_pvalue,
    )


def _guardrail(
    look: LookInput,
    protocol: Protocol,
    index: int,
    guardrail: Any,
    winner: str,
    other: str,
) -> dict[str, Any]:
    """One guardrail of the winner against one arm it beat (one-sided, level α)."""
    snapshot = look.guardrails[str(index)]
    baseline, candidate = snapshot.arms[other], snapshot.arms[winner]
    r = compare(baseline, candidate, difference="absolute", alpha=protocol.alpha)
    sign = 1.0 if guardrail.direction == "higher_is_better" else -1.0
    margin = guardrail.margin
    if guardrail.margin_kind == "relative":
        margin = guardrail.margin * abs(baseline.mean) if baseline.n else math.nan
    view: dict[str, Any] = {
        "metric": guardrail.name,
        "winner": winner,
        "versus": other,
        "estimate": r.estimate,
        "standard_error": r.standard_error,
        "margin": margin,
        "direction": guardrail.direction,
        "status": r.status,
    }
    if not r.ok or not math.isfinite(margin):
        view.update(harm=False, non_inferior=False, note="not enough data to judge")
        return view
    z = float(ndtri(1.0 - protocol.alpha))
    good = sign * r.estimate
    view["good_direction_ci"] = [good - z * r.standard_error, good + z * r.standard_error]
    view["harm"] = good + z * r.standard_error < -margin
    view["non_inferior"] = good - z * r.standard_error > -margin
    return view


def decide(protocol: Protocol, history: Sequence[LookInput]) -> LookDecision:
    """The decision at the latest look of ``history`` (see the module doc)."""
    look = history[-1]
    fraction = look.information_fraction
    final = _final(protocol, look)
    weights = [a.weight for a in protocol.arms]
    srm = srm_test([look.assigned.get(a.key, 0) for a in protocol.arms], weights)
    health = {
        "sample_ratio": {
            "statistic": srm.statistic,
            "pvalue": srm.pvalue,
            "status": srm.status,
            "threshold": SRM_ALPHA,
            "mismatch": srm.pvalue < SRM_ALPHA,
        },
        "data_age_days": look.data_age_days,
        "max_data_age_days": protocol.limits.max_data_age_days,
        "stale": look.data_age_days is not None
        and look.data_age_days > protocol.limits.max_data_age_days,
    }

    def made(outcome: Outcome, rule: str) -> LookDecision:
        return LookDecision(
            outcome, rule, final=final, information_fraction=fraction, health=health
        )

    if srm.pvalue < SRM_ALPHA:
        return made("halted", "sample_ratio_mismatch")
    if health["stale"]:
        return made("held", "stale_data")
    if not any(h.analysed for h in history):
        return made("continue", "no_mature_data")

    design = statistical_design(protocol)
    difference = _difference(protocol)
    pairs = _pairs(protocol)
    results = sequential_holm(
        design,
        {f"{a}|{b}": _history(history, protocol, (a, b)) for a, b in pairs},
        difference=difference,
        mde=protocol.mde.value,
        final=final,
        max_sample=protocol.limits.max_sample if isinstance(design, AlwaysValid) else None,
    )
    by_pair = {pair: results[f"{pair[0]}|{pair[1]}"] for pair in pairs}
    decision = made("continue", "boundary_not_crossed")
    decision.comparisons = [_comparison_view(p, r) for p, r in by_pair.items()]

    enough_time = look.elapsed_days >= minimum_days(protocol)
    enough_sample = look.primary.n >= protocol.limits.min_sample
    if not (enough_time and enough_sample):
        decision.rule = "minimum_duration" if not enough_time else "minimum_sample"
        return decision

    winner, loser = _winner(protocol, by_pair)
    if winner is not None and loser is not None:
        result = by_pair.get((loser, winner)) or by_pair[(winner, loser)]
        decision.winner = winner
        decision.effect = _effect(look, protocol, winner, loser, result, difference)
        control = protocol.control_arm
        if control is not None:
            decision.also_beat_control = [
                p[1] for p, r in by_pair.items() if r.winner == "treatment" and p[1] != winner
            ]
        beaten = (
            [loser]
            if control is not None or len(protocol.arms) == 2
            else [a.key for a in protocol.arms if a.key != winner]
        )
        decision.guardrails = [
            _guardrail(look, protocol, i, g, winner, other)
            for i, g in enumerate(protocol.guardrails)
            for other in beaten
        ]
        if any(g.get("harm") for g in decision.guardrails):
            decision.outcome, decision.rule = "escalated", "guardrail_harm"
        else:
            decision.outcome, decision.rule = "winner", "efficacy_boundary"
        return decision

    if all(r.decision == "futility" for r in by_pair.values()) and not final:
        decision.outcome, decision.rule = "no_meaningful_difference", "futility_boundary"
        return decision
    if final:
        mde = protocol.mde.value
        intervals = [r.ci for r in by_pair.values()]
        decision.ruled_out = (
            (min(ci[0] for ci in intervals), max(ci[1] for ci in intervals)) if intervals else None
        )
        within = all(
            -mde < ci[0] and ci[1] < mde for ci in intervals if all(map(math.isfinite, ci))
        )
        if within and intervals:
            decision.outcome, decision.rule = "no_meaningful_difference", "equivalence_at_maximum"
        else:
            decision.outcome, decision.rule = "inconclusive", "maximum_reached"
    return decision


def _winner(
    protocol: Protocol, by_pair: Mapping[tuple[str, str], SequentialResult]
) -> tuple[str | None, str | None]:
    """(winner, the arm its effect is reported against) or (None, None)."""

    def side(pair: tuple[str, str], r: SequentialResult) -> str | None:
        if r.decision != "efficacy" or r.winner is None:
            return None
        return pair[1] if r.winner == "treatment" else pair[0]

    control = protocol.control_arm
    if control is not None:
        challengers = [(p, r) for p, r in by_pair.items() if side(p, r) == p[1]]
        if challengers:
            best = max(challengers, key=lambda pr: pr[1].estimate)
            return best[0][1], control.key
        if by_pair and all(side(p, r) == control.key for p, r in by_pair.items()):
            closest = min(by_pair.items(), key=lambda pr: abs(pr[1].estimate))
            return control.key, closest[0][1]
        return None, None
    keys = [a.key for a in protocol.arms]
    for arm in keys:
        mine = [(p, r) for p, r in by_pair.items() if arm in p]
        if mine and all(side(p, r) == arm for p, r in mine):
            closest = min(mine, key=lambda pr: abs(pr[1].estimate))
            other = closest[0][0] if closest[0][1] == arm else closest[0][1]
            return arm, other
    return None, None


def metric_of(protocol: Protocol, key: str) -> Metric:
    """The primary metric (``"primary"``) or a guardrail (by index)."""
    return protocol.primary if key == "primary" else protocol.guardrails[int(key)]
