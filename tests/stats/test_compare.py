"""compare(): fixed-horizon agreement with scipy/statsmodels, delta method, CUPED,
always-valid intervals, degenerate data and symmetry properties."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import stats as sps
from statsmodels.stats import proportion as sm_proportion
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from stats import (
    AlwaysValid,
    CovariateSummary,
    MeanSummary,
    ProportionSummary,
    RatioSummary,
    compare,
    confidence_sequence_halfwidth,
    mixing_rho,
    msprt_halfwidth,
)


@pytest.fixture
def revenue():
    rng = np.random.default_rng(7)
    control = rng.lognormal(3.0, 1.0, 800)
    treatment = rng.lognormal(3.1, 1.0, 900)
    return control, treatment


def test_proportions_match_statsmodels_wald_test_and_interval():
    r = compare(ProportionSummary(120, 1000), ProportionSummary(150, 1010))
    sm = sm_proportion.test_proportions_2indep(150, 1010, 120, 1000, method="wald", compare="diff")
    low, high = sm_proportion.confint_proportions_2indep(
        150, 1010, 120, 1000, method="wald", compare="diff"
    )
    assert_allclose([r.statistic, r.pvalue], [sm.statistic, sm.pvalue], rtol=1e-10)
    assert_allclose(r.ci, (low, high), rtol=1e-10)


def test_means_match_statsmodels_unequal_variance_ztest(revenue):
    control, treatment = revenue
    r = compare(MeanSummary.from_array(control), MeanSummary.from_array(treatment))
    cm = CompareMeans(DescrStatsW(treatment), DescrStatsW(control))
    z, p = cm.ztest_ind(usevar="unequal")
    assert_allclose([r.statistic, r.pvalue], [z, p], rtol=1e-10)
    assert_allclose(r.ci, cm.zconfint_diff(alpha=0.05, usevar="unequal"), rtol=1e-10)


def test_mean_statistic_equals_scipy_welch_statistic(revenue):
    control, treatment = revenue
    r = compare(MeanSummary.from_array(control), MeanSummary.from_array(treatment))
    welch = sps.ttest_ind(treatment, control, equal_var=False)
    assert r.statistic == pytest.approx(welch.statistic, rel=1e-10)


@pytest.mark.parametrize("alternative", ["greater", "less"])
def test_one_sided_alternatives_match_statsmodels(revenue, alternative):
    control, treatment = revenue
    r = compare(
        MeanSummary.from_array(control),
        MeanSummary.from_array(treatment),
        alternative=alternative,
    )
    cm = CompareMeans(DescrStatsW(treatment), DescrStatsW(control))
    sm_alt = "larger" if alternative == "greater" else "smaller"
    _, p = cm.ztest_ind(usevar="unequal", alternative=sm_alt)
    assert r.pvalue == pytest.approx(p, rel=1e-10)
    assert math.isinf(r.ci[1]) if alternative == "greater" else math.isinf(r.ci[0])


def test_relative_difference_uses_the_delta_method(revenue):
    control, treatment = revenue
    r = compare(
        MeanSummary.from_array(control), MeanSummary.from_array(treatment), difference="relative"
    )
    mc, mt = control.mean(), treatment.mean()
    vc, vt = control.var(ddof=1) / control.size, treatment.var(ddof=1) / treatment.size
    expected_var = vt / mc**2 + mt**2 * vc / mc**4  # Deng et al. (2018), eq. for a ratio of means
    assert r.estimate == pytest.approx(mt / mc - 1)
    assert r.standard_error == pytest.approx(math.sqrt(expected_var))


def test_ratio_metric_uses_the_delta_method_variance():
    rng = np.random.default_rng(11)
    deals_c = rng.poisson(0.3, 4000).astype(float)
    deals_t = rng.poisson(0.3, 4000).astype(float)
    rev_c = deals_c * rng.gamma(2.0, 500.0, 4000)
    rev_t = deals_t * rng.gamma(2.0, 560.0, 4000)
    r = compare(RatioSummary.from_arrays(rev_c, deals_c), RatioSummary.from_arrays(rev_t, deals_t))

    def var(num, den):
        ratio = num.sum() / den.sum()
        return ((num - ratio * den) / den.mean()).var(ddof=1) / num.size

    assert r.estimate == pytest.approx(rev_t.sum() / deals_t.sum() - rev_c.sum() / deals_c.sum())
    assert r.standard_error == pytest.approx(math.sqrt(var(rev_c, deals_c) + var(rev_t, deals_t)))


def test_cuped_equals_a_welch_test_on_theta_adjusted_outcomes():
    rng = np.random.default_rng(5)
    x_c, x_t = rng.gamma(2.0, 100.0, 3000), rng.gamma(2.0, 100.0, 3000)
    y_c = 0.5 * x_c + rng.normal(0, 40, 3000)
    y_t = 0.5 * x_t + rng.normal(5, 40, 3000)
    r = compare(
        MeanSummary.from_array(y_c),
        MeanSummary.from_array(y_t),
        covariate=(CovariateSummary.from_arrays(x_c, y_c), CovariateSummary.from_arrays(x_t, y_t)),
    )
    x, y = np.concatenate([x_c, x_t]), np.concatenate([y_c, y_t])
    theta = np.cov(x, y, ddof=1)[0, 1] / x.var(ddof=1)  # Deng et al. (2013), eq. 3 on pooled data
    adj_c, adj_t = y_c - theta * (x_c - x.mean()), y_t - theta * (x_t - x.mean())
    z, p = CompareMeans(DescrStatsW(adj_t), DescrStatsW(adj_c)).ztest_ind(usevar="unequal")
    assert r.theta == pytest.approx(theta)
    assert_allclose([r.statistic, r.pvalue], [z, p], rtol=1e-9)
    plain = compare(MeanSummary.from_array(y_c), MeanSummary.from_array(y_t))
    assert r.standard_error < 0.6 * plain.standard_error


def test_always_valid_interval_is_the_waudby_smith_confidence_sequence():
    c, t = ProportionSummary(400, 5000), ProportionSummary(470, 5100)
    r = compare(c, t, sequential=AlwaysValid(tuning=5000))
    fixed = compare(c, t)
    # Waudby-Smith et al. (2023) eq. (9) with eq. (161), written out independently.
    n = 10100
    s2 = fixed.standard_error**2 * n
    rho2 = (-2 * math.log(0.05) + math.log(-2 * math.log(0.05) + 1)) / 5000
    half = math.sqrt(s2) * math.sqrt(
        2 * (n * rho2 + 1) / (n**2 * rho2) * math.log(math.sqrt(n * rho2 + 1) / 0.05)
    )
    assert_allclose(r.ci, (fixed.estimate - half, fixed.estimate + half), rtol=1e-12)
    assert r.ci[0] < fixed.ci[0]
    assert r.ci[1] > fixed.ci[1]
    assert r.pvalue > fixed.pvalue


def test_msprt_with_matched_mixing_variance_equals_the_confidence_sequence():
    variance, n, alpha, tuning = 2.5e-5, 8000, 0.05, 3000.0
    s2 = variance * n
    tau2 = s2 * mixing_rho(alpha, tuning) ** 2
    assert msprt_halfwidth(variance, tau2, alpha) == pytest.approx(
        confidence_sequence_halfwidth(s2, n, alpha, tuning), rel=1e-12
    )


def test_always_valid_pvalue_is_below_alpha_exactly_when_zero_is_outside_the_interval():
    for treated in range(380, 520, 7):
        r = compare(
            ProportionSummary(400, 5000), ProportionSummary(treated, 5000), sequential=AlwaysValid()
        )
        assert (r.pvalue <= 0.05) == (r.ci[0] > 0 or r.ci[1] < 0)


@pytest.mark.parametrize(
    ("control", "treatment", "kwargs", "status"),
    [
        (ProportionSummary(0, 0), ProportionSummary(3, 10), {}, "empty_arm"),
        (MeanSummary(1, 2.0, 4.0), MeanSummary(5, 10.0, 30.0), {}, "insufficient_data"),
        (ProportionSummary(0, 100), ProportionSummary(0, 100), {}, "zero_variance"),
        (
            MeanSummary(3, 0.0, 0.0),
            MeanSummary(3, 3.0, 5.0),
            {"difference": "relative"},
            "zero_baseline",
        ),
        (
            RatioSummary(3, 1.0, 1.0, 0.0, 0.0, 0.0),
            RatioSummary(3, 1.0, 1.0, 1.0, 1.0, 1.0),
            {},
            "zero_denominator",
        ),
    ],
)
def test_degenerate_but_legal_data_returns_a_status(control, treatment, kwargs, status):
    r = compare(control, treatment, **kwargs)
    assert r.status == status
    assert not r.ok
    assert r.message
    assert math.isnan(r.pvalue)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"alpha": 1.5}, "alpha"),
        ({"difference": "ratio"}, "difference"),
        ({"alternative": "bigger"}, "alternative"),
    ],
)
def test_impossible_arguments_raise(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        compare(ProportionSummary(1, 10), ProportionSummary(2, 10), **kwargs)


def test_mixing_summary_kinds_is_refused():
    with pytest.raises(ValueError, match="same kind"):
        compare(ProportionSummary(1, 10), MeanSummary(10, 1.0, 1.0))


def test_result_unpacks_as_statistic_and_pvalue():
    r = compare(ProportionSummary(10, 100), ProportionSummary(20, 100))
    statistic, pvalue = r
    assert (statistic, pvalue) == (r.statistic, r.pvalue)
    assert r.confidence_interval(0.99)[0] < r.ci[0]


counts = st.integers(min_value=1, max_value=500)


@settings(max_examples=60)
@given(counts, counts, st.integers(1, 400), st.integers(1, 400))
def test_swapping_arms_flips_the_sign(nc, nt, extra_c, extra_t):
    c = ProportionSummary(min(nc, nc + extra_c), nc + extra_c)
    t = ProportionSummary(min(nt, nt + extra_t), nt + extra_t)
    ab, ba = compare(c, t), compare(t, c)
    if ab.ok:
        assert ab.estimate == pytest.approx(-ba.estimate)
        assert ab.statistic == pytest.approx(-ba.statistic)
        assert ab.pvalue == pytest.approx(ba.pvalue)
    else:
        assert ab.status == ba.status
