"""sequential_test and sequential_holm: decisions from the look history."""

import math

import numpy as np
import pytest

from stats import (
    AlwaysValid,
    GroupSequentialDesign,
    Interim,
    MeanSummary,
    ProportionSummary,
    sequential_holm,
    sequential_test,
    spending_boundaries,
)

DESIGN = GroupSequentialDesign(looks=5, futility="obrien-fleming", max_sample=20_000)


def history(rate_c, rate_t, sizes, seed=0):
    rng = np.random.default_rng(seed)
    c = rng.random(max(sizes)) < rate_c
    t = rng.random(max(sizes)) < rate_t
    return [
        Interim(ProportionSummary.from_array(c[:n]), ProportionSummary.from_array(t[:n]))
        for n in sizes
    ]


def test_a_clear_difference_crosses_the_efficacy_boundary():
    looks = history(0.10, 0.16, [2000, 4000, 6000])
    r = sequential_test(DESIGN, looks, mde=0.02)
    assert r.decision == "efficacy"
    assert r.winner == "treatment"
    assert abs(r.statistic) >= r.boundary
    assert r.pvalue <= 0.05
    assert r.ci[0] > 0


def test_boundaries_are_recomputed_at_the_actual_information_fractions():
    looks = history(0.10, 0.10, [1300, 2100, 5000])
    r = sequential_test(DESIGN, looks, mde=0.02)
    expected = spending_boundaries([0.13, 0.21, 0.5]).upper
    assert r.information_fractions == pytest.approx((0.13, 0.21, 0.5))
    assert r.efficacy_boundaries == pytest.approx(expected)


def test_repeated_pvalue_agrees_with_the_boundary():
    for seed in range(12):
        looks = history(0.10, 0.115, [2000, 4000, 6000], seed=seed)
        r = sequential_test(DESIGN, looks, mde=0.02)
        crossed = abs(r.statistic) >= r.boundary
        assert (r.pvalue <= 0.05 + 1e-6) == crossed or abs(abs(r.statistic) - r.boundary) < 1e-4


def test_repeated_confidence_interval_uses_the_current_boundary():
    looks = history(0.10, 0.12, [3000, 6000])
    r = sequential_test(DESIGN, looks, mde=0.02)
    assert r.ci == pytest.approx(
        (r.estimate - r.boundary * r.standard_error, r.estimate + r.boundary * r.standard_error)
    )


def test_a_null_result_late_in_the_trial_stops_for_futility():
    looks = history(0.10, 0.10, [2000, 4000, 6000, 8000], seed=3)
    r = sequential_test(DESIGN, looks, mde=0.02)
    assert r.futility_boundary is not None
    assert r.decision == "futility"
    assert abs(r.statistic) < r.futility_boundary


def test_the_final_look_without_efficacy_is_a_futility_decision():
    looks = history(0.10, 0.10, [2000, 4000, 6000, 8000, 10000], seed=4)
    r = sequential_test(GroupSequentialDesign(looks=5, max_sample=20_000), looks)
    assert r.final
    assert r.decision == "futility"
    assert r.winner is None


def test_same_history_gives_the_same_result():
    looks = history(0.10, 0.12, [2000, 4000])
    assert sequential_test(DESIGN, looks, mde=0.02) == sequential_test(DESIGN, looks, mde=0.02)


def test_empty_arm_at_the_latest_look_continues_with_a_status():
    looks = [Interim(ProportionSummary(0, 0), ProportionSummary(1, 10), information_fraction=0.1)]
    r = sequential_test(DESIGN, looks)
    assert r.decision == "continue"
    assert r.status == "empty_arm"
    assert math.isnan(r.pvalue)


def test_missing_information_is_refused():
    looks = [Interim(ProportionSummary(1, 10), ProportionSummary(1, 10))]
    with pytest.raises(ValueError, match="max_sample"):
        sequential_test(GroupSequentialDesign(), looks)
    with pytest.raises(ValueError, match="at least one look"):
        sequential_test(DESIGN, [])


def test_always_valid_keeps_the_running_minimum_and_intersection():
    looks = history(0.10, 0.13, [1000, 2000, 3000, 4000], seed=9)
    r = sequential_test(AlwaysValid(tuning=4000), looks)
    singles = [sequential_test(AlwaysValid(tuning=4000), looks[: k + 1]) for k in range(4)]
    assert r.pvalue == pytest.approx(min(s.comparison.pvalue for s in singles))
    assert r.ci[0] == pytest.approx(max(s.comparison.ci[0] for s in singles))
    assert r.ci[1] == pytest.approx(min(s.comparison.ci[1] for s in singles))


def test_always_valid_equivalence_within_the_mde_is_futility():
    looks = history(0.10, 0.10, [20000, 40000], seed=2)
    r = sequential_test(AlwaysValid(tuning=20000), looks, mde=0.02)
    assert r.decision == "futility"


def test_holm_across_comparisons_controls_the_family():
    def looks(count_c, count_t):
        return [
            Interim(ProportionSummary(count_c // 2, 3000), ProportionSummary(count_t // 2, 3000)),
            Interim(ProportionSummary(count_c, 6000), ProportionSummary(count_t, 6000)),
        ]

    good, null = looks(600, 780), looks(600, 640)
    results = sequential_holm(DESIGN, {"a": good, "b": null}, mde=0.02)
    assert results["a"].decision == "efficacy"
    assert results["b"].decision != "efficacy"
    assert results["a"].adjusted_pvalue >= results["a"].pvalue
    assert results["a"].alpha == pytest.approx(0.025)  # each comparison at alpha / m
    assert results["a"].boundary > sequential_test(DESIGN, good, mde=0.02).boundary


def test_mean_metrics_work_through_the_same_path():
    rng = np.random.default_rng(0)
    c, t = rng.lognormal(3, 1, 4000), rng.lognormal(3.3, 1, 4000)
    looks = [
        Interim(MeanSummary.from_array(c[:n]), MeanSummary.from_array(t[:n])) for n in (1000, 2000)
    ]
    r = sequential_test(GroupSequentialDesign(max_sample=8000), looks, difference="relative")
    assert r.decision == "efficacy"
    assert r.estimate > 0.2


def test_an_exact_tie_stands_for_a_quarter_lattice_step():
    from stats.sequential import tie_floor

    # 900 per arm, 90 conversions each: pooled SE √(0.1·0.9·2/900) = 0.01414, step 1/900
    assert float(tie_floor(90, 900, 90, 900)) == pytest.approx((1 / 900) / 0.0141421 / 4, 1e-4)
    # unequal arms: the difference moves in steps of gcd(n_c, n_t)/(n_c·n_t)
    se = math.sqrt(0.1 * 0.9 * (1 / 600 + 1 / 900))
    assert float(tie_floor(60, 600, 90, 900)) == pytest.approx(300 / (600 * 900) / se / 4)
    assert float(tie_floor(90, 900, 91, 900)) == 0.0  # not a tie
    assert float(tie_floor(0, 900, 0, 900)) == 0.0  # no variance: compare reports it
    assert tie_floor([90, 90], [900, 900], [90, 91], [900, 900]).tolist()[1] == 0.0


def test_a_tie_at_the_first_look_does_not_stop_a_two_sided_design_for_futility():
    # The committee default's first futility boundary is |z| < 0.013, far narrower than
    # the atom an exact tie is at 893 leads per arm (its centre |z| ≈ 0.019).
    design = GroupSequentialDesign(looks=5, futility="obrien-fleming", max_sample=8922)
    tie = [Interim(ProportionSummary(89, 893), ProportionSummary(89, 893))]
    r = sequential_test(design, tie, mde=0.02)
    assert r.statistic == 0.0
    assert r.futility_boundary is not None and 0 < r.futility_boundary < 0.019
    assert r.decision == "continue"
    # the same tie as a mean metric is not a lattice: the boundary applies as it stands
    as_mean = [
        Interim(
            MeanSummary(893, 89.0, 89.0),
            MeanSummary(893, 89.0, 89.0),
        )
    ]
    assert sequential_test(design, as_mean, mde=0.02).decision == "futility"
    # where the futility region is wider than the atom, a tie stops as before
    later = [*tie, Interim(ProportionSummary(178, 1785), ProportionSummary(178, 1785))]
    assert sequential_test(design, later, mde=0.02).decision == "futility"
