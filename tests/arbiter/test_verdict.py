"""The verdict rule as a pure function: the order of the checks (health, minimum,
boundary, guardrails, maximum), every verdict kind, and more than two arms."""

from datetime import UTC, datetime

import pytest

from arbiter.verdict import LookInput, MetricSnapshot, decide, minimum_days
from experiments.protocol import parse_protocol
from stats import MeanSummary, ProportionSummary
from tests.factories import protocol_data

AT = datetime(2026, 3, 1, tzinfo=UTC)
CONVERSION = {"name": "deal conversion", "kind": "conversion", "window_days": 30}


def protocol(**changes):
    base = {
        "primary": CONVERSION,
        "mde": {"value": 0.02, "kind": "absolute"},
        "guardrails": [],
        "limits": {"max_sample": 20000, "min_duration_days": 14},
    }
    base.update(changes)
    return parse_protocol(protocol_data(**base))


def look(
    counts,
    n,
    fraction,
    *,
    number=1,
    analysed=True,
    elapsed=60.0,
    assigned=None,
    guardrails=None,
    age=1.0,
):
    arms = {arm: ProportionSummary(c, n) for arm, c in counts.items()}
    return LookInput(
        number,
        AT,
        fraction,
        analysed,
        MetricSnapshot(arms),
        guardrails or {},
        assigned or dict.fromkeys(counts, n),
        elapsed,
        age,
    )


STRONG = {"webinar": 400, "cold-call": 560}  # 10 % vs 14 % of 4,000


def test_a_clear_difference_names_the_winner_with_its_interval():
    d = decide(protocol(), [look(STRONG, 4000, 0.4)])
    assert (d.outcome, d.rule, d.winner) == ("winner", "efficacy_boundary", "cold-call")
    assert d.effect is not None and d.effect.versus == "webinar"
    assert d.effect.estimate == pytest.approx(0.04)
    assert 0 < d.effect.ci[0] < 0.04 < d.effect.ci[1]


def test_the_winner_can_be_either_side():
    d = decide(protocol(), [look({"webinar": 560, "cold-call": 400}, 4000, 0.4)])
    assert d.winner == "webinar" and d.effect.estimate == pytest.approx(0.04)


def test_sample_ratio_mismatch_halts_before_anything_else():
    d = decide(protocol(), [look(STRONG, 4000, 0.4, assigned={"webinar": 4000, "cold-call": 4400})])
    assert (d.outcome, d.rule) == ("halted", "sample_ratio_mismatch")
    assert d.health["sample_ratio"]["pvalue"] < 0.001


def test_stale_data_holds_the_look_without_a_verdict():
    d = decide(protocol(), [look(STRONG, 4000, 0.4, age=9.5)])
    assert (d.outcome, d.rule) == ("held", "stale_data")
    assert not d.is_verdict


def test_nothing_is_decided_before_the_minimum_duration_in_full_weeks():
    p = protocol(limits={"max_sample": 20000, "min_duration_days": 10})
    assert minimum_days(p) == 14
    early = decide(p, [look(STRONG, 4000, 0.4, elapsed=12)])
    assert (early.outcome, early.rule) == ("continue", "minimum_duration")
    assert early.comparisons[0]["decision"] == "efficacy"  # crossed, but too early
    assert decide(p, [look(STRONG, 4000, 0.4, elapsed=14)]).outcome == "winner"


def test_nothing_is_decided_before_the_minimum_sample():
    p = protocol(limits={"max_sample": 20000, "min_duration_days": 0, "min_sample": 10000})
    assert decide(p, [look(STRONG, 4000, 0.4)]).rule == "minimum_sample"


def test_a_guardrail_harmed_beyond_its_margin_escalates():
    guard = {
        "name": "revenue per lead",
        "kind": "revenue_per_lead",
        "window_days": 30,
        "margin": 5.0,
    }
    harmed = MetricSnapshot(
        {
            "webinar": MeanSummary(4000, 400_000.0, 4000 * 100**2 + 4_000_000),
            "cold-call": MeanSummary(4000, 200_000.0, 4000 * 50**2 + 4_000_000),
        }
    )
    d = decide(protocol(guardrails=[guard]), [look(STRONG, 4000, 0.4, guardrails={"0": harmed})])
    assert (d.outcome, d.rule, d.winner) == ("escalated", "guardrail_harm", "cold-call")
    assert d.guardrails[0]["harm"] and d.guardrails[0]["estimate"] == pytest.approx(-50.0)


def test_a_guardrail_within_its_margin_lets_the_winner_stand():
    guard = {
        "name": "revenue per lead",
        "kind": "revenue_per_lead",
        "window_days": 30,
        "margin": 0.5,
        "margin_kind": "relative",
    }
    fine = MetricSnapshot(
        {
            "webinar": MeanSummary(4000, 400_000.0, 4000 * 100**2 + 4_000_000),
            "cold-call": MeanSummary(4000, 396_000.0, 4000 * 99**2 + 4_000_000),
        }
    )
    d = decide(protocol(guardrails=[guard]), [look(STRONG, 4000, 0.4, guardrails={"0": fine})])
    assert d.outcome == "winner" and d.guardrails[0]["non_inferior"]


def test_futility_at_an_interim_look_is_no_meaningful_difference():
    same = {"webinar": 1200, "cold-call": 1201}
    d = decide(protocol(), [look(same, 8000, 0.8)])
    assert (d.outcome, d.rule) == ("no_meaningful_difference", "futility_boundary")


def test_the_maximum_gives_equivalence_or_inconclusive():
    p = protocol(design={"futility": "none"}, mde={"value": 0.03, "kind": "absolute"})
    narrow = decide(p, [look({"webinar": 1500, "cold-call": 1510}, 10000, 1.0)])
    assert (narrow.outcome, narrow.rule) == ("no_meaningful_difference", "equivalence_at_maximum")
    wide = decide(
        protocol(design={"futility": "none"}), [look({"webinar": 60, "cold-call": 72}, 500, 1.0)]
    )
    assert (wide.outcome, wide.rule) == ("inconclusive", "maximum_reached")
    assert wide.ruled_out is not None and wide.ruled_out[0] < 0 < wide.ruled_out[1]


def test_looks_without_new_information_are_skipped_in_the_history():
    first = look({"webinar": 100, "cold-call": 110}, 1000, 0.1)
    repeat = look({"webinar": 100, "cold-call": 110}, 1000, 0.1, number=2, analysed=False)
    d = decide(protocol(), [first, repeat])
    assert d.comparisons[0]["information_fractions"] == [0.1]


def test_an_amended_maximum_rescales_the_information_of_earlier_looks():
    """Looks store the fraction under the protocol of their day; the verdict uses the one in
    force, so lowering ``max_sample`` makes a look the final analysis it now is."""
    amended = protocol(limits={"max_sample": 8000, "min_duration_days": 14})
    early = look({"webinar": 200, "cold-call": 280}, 2000, 0.1)
    later = look(STRONG, 4000, 0.2, number=2)
    d = decide(amended, [early, later])
    assert d.comparisons[0]["information_fractions"] == [0.5, 1.0]
    beyond = look({"webinar": 500, "cold-call": 750}, 5000, 0.25, number=3)
    capped = decide(amended, [early, later, beyond])
    assert capped.comparisons[0]["information_fractions"] == [0.5, 1.0]  # latest stands
    assert capped.effect is not None and capped.effect.estimate == pytest.approx(0.05)


THREE = [
    {"key": "current", "name": "current page", "party": "committee", "weight": 1},
    {"key": "long", "name": "long form", "party": "marketing", "weight": 1},
    {"key": "short", "name": "short form", "party": "sales", "weight": 1},
]


def test_three_arms_against_a_control_use_holm_and_name_the_best():
    p = protocol(parties=["committee", "marketing", "sales"], arms=THREE, control="current")
    d = decide(p, [look({"current": 400, "long": 470, "short": 580}, 4000, 0.4)])
    assert d.winner == "short" and d.effect.versus == "current"
    assert all(c["alpha"] == pytest.approx(0.025) for c in d.comparisons)
    assert {c["challenger"] for c in d.comparisons} == {"long", "short"}


def test_three_arms_without_control_need_an_arm_that_beats_both():
    p = protocol(parties=["committee", "marketing", "sales"], arms=THREE)
    clear = decide(p, [look({"current": 400, "long": 410, "short": 620}, 4000, 0.4)])
    assert clear.winner == "short" and len(clear.comparisons) == 3
    assert clear.effect.versus == "long"  # reported against the closest competitor
    split = decide(p, [look({"current": 400, "long": 560, "short": 560}, 4000, 0.4)])
    assert split.outcome == "continue"
