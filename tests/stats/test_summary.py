"""Sufficient-statistic summaries: construction, validation and pooling."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stats import CovariateSummary, MeanSummary, ProportionSummary, RatioSummary

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
samples = st.lists(finite, min_size=0, max_size=40)


def test_mean_summary_from_array_matches_numpy():
    x = np.array([1.5, 2.0, -3.25, 10.0])
    s = MeanSummary.from_array(x)
    assert s.n == 4
    assert s.mean == pytest.approx(x.mean())
    assert s.variance == pytest.approx(x.var(ddof=1))


def test_proportion_summary_counts_successes():
    s = ProportionSummary.from_array([0, 1, 1, 0, 1])
    assert (s.count, s.nobs, s.n) == (3, 5, 5)
    assert s.mean == pytest.approx(0.6)
    assert s.variance == pytest.approx(0.24)
    assert s.as_mean() == MeanSummary(5, 3.0, 3.0)


@pytest.mark.parametrize(
    ("build", "fragment"),
    [
        (lambda: ProportionSummary(6, 5), "cannot exceed nobs"),
        (lambda: ProportionSummary(-1, 5), "must not be negative"),
        (lambda: MeanSummary(-2, 0.0, 0.0), "must not be negative"),
        (lambda: MeanSummary(3, 30.0, 10.0), "below sum²/n"),
        (lambda: MeanSummary(2, math.nan, 1.0), "finite"),
        (lambda: MeanSummary(2.5, 1.0, 1.0), "integer"),  # type: ignore[arg-type]
        (lambda: MeanSummary(0, 1.0, 1.0), "empty summary"),
        (lambda: RatioSummary(2, 2.0, 2.0, 2.0, 2.0, 50.0), "cross_sum"),
        (lambda: CovariateSummary(2, 4.0, 1.0, 0.0), "below sum²/n"),
        (lambda: ProportionSummary.from_array([0, 2]), "0 or 1"),
        (lambda: MeanSummary.from_array([1.0, math.inf]), "NaN or infinite"),
    ],
)
def test_impossible_input_raises_value_error_with_a_sentence(build, fragment):
    with pytest.raises(ValueError, match=fragment):
        build()


def test_sum_squares_rounding_below_floor_is_tolerated():
    x = np.full(1000, 0.1)
    s = MeanSummary(1000, float(x.sum()), float(x.sum()) ** 2 / 1000 * (1 - 1e-12))
    assert s.variance == 0.0


@given(samples, samples, samples)
def test_pooling_summaries_in_any_order_gives_the_same_totals(a, b, c):
    sa, sb, sc = (MeanSummary.from_array(np.array(v, dtype=float)) for v in (a, b, c))
    left = (sa + sb) + sc
    right = sc + (sb + sa)
    assert left.n == right.n
    assert left.sum == pytest.approx(right.sum, rel=1e-9, abs=1e-6)
    assert left.sum_squares == pytest.approx(right.sum_squares, rel=1e-9, abs=1e-6)


@given(st.lists(st.booleans(), max_size=50), st.lists(st.booleans(), max_size=50))
def test_pooled_proportions_equal_the_summary_of_the_concatenation(a, b):
    pooled = ProportionSummary.from_array(np.array(a, float)) + ProportionSummary.from_array(
        np.array(b, float)
    )
    assert pooled == ProportionSummary.from_array(np.array(a + b, float))


def test_ratio_summary_delta_variance_matches_the_linearised_variance():
    rng = np.random.default_rng(0)
    den = rng.poisson(2.0, 5000).astype(float)
    num = den * rng.gamma(2.0, 50.0, 5000)
    s = RatioSummary.from_arrays(num, den)
    r = num.sum() / den.sum()
    linear = (num - r * den) / den.mean()  # influence function of Σy/Σx
    assert s.mean == pytest.approx(r)
    assert s.variance == pytest.approx(linear.var(ddof=1), rel=1e-9)
    pooled = RatioSummary.from_arrays(num[:2000], den[:2000]) + RatioSummary.from_arrays(
        num[2000:], den[2000:]
    )
    assert pooled.mean == pytest.approx(s.mean)


def test_empty_summaries_have_nan_moments_not_errors():
    assert math.isnan(MeanSummary(0, 0.0, 0.0).mean)
    assert math.isnan(ProportionSummary(0, 0).variance)
    assert math.isnan(RatioSummary(3, 1.0, 1.0, 0.0, 0.0, 0.0).mean)
