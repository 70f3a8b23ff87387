"""SRM, Holm / Benjamini-Hochberg and fixed-horizon sample sizes against scipy and
statsmodels."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower

from stats import (
    benjamini_hochberg,
    fixed_sample_size_mean,
    fixed_sample_size_proportion,
    holm,
    srm_test,
)


def test_srm_matches_scipy_chisquare():
    counts, weights = [5100, 4800, 10100], [1, 1, 2]
    r = srm_test(counts, weights)
    expected = np.array(weights) / 4 * sum(counts)
    ref = sps.chisquare(counts, expected)
    assert (r.statistic, r.pvalue) == pytest.approx((ref.statistic, ref.pvalue))
    assert r.df == 2


def test_srm_drops_zero_weight_arms_and_flags_unplanned_units():
    assert srm_test([500, 0, 510], [1, 0, 1]).df == 1
    assert srm_test([500, 3, 510], [1, 0, 1]).pvalue == 0.0
    assert srm_test([0, 0], [1, 1]).status == "not_applicable"


def test_srm_detects_a_broken_split():
    assert srm_test([5000, 5400], [1, 1]).pvalue < 0.001
    assert srm_test([5000, 5050], [1, 1]).pvalue > 0.1


pvals = st.lists(st.floats(0.0, 1.0), min_size=1, max_size=12)


@settings(max_examples=30)  # statsmodels' Holm takes ~30 ms a call: the reference is slow
@given(pvals)
def test_holm_matches_statsmodels(p):
    assert holm(p) == pytest.approx(list(multipletests(p, method="holm")[1]))


@given(pvals)
def test_benjamini_hochberg_matches_statsmodels(p):
    assert benjamini_hochberg(p) == pytest.approx(list(multipletests(p, method="fdr_bh")[1]))


def test_multiplicity_refuses_impossible_pvalues():
    with pytest.raises(ValueError, match="p-values"):
        holm([0.1, 1.2])
    with pytest.raises(ValueError, match="p-values"):
        benjamini_hochberg([math.nan])


@pytest.mark.parametrize("ratio", [1.0, 2.0])
def test_continuous_sample_size_matches_statsmodels_normal_power(ratio):
    ours = fixed_sample_size_mean(sd=120.0, mde=15.0, ratio=ratio)
    ref = NormalIndPower().solve_power(effect_size=15 / 120, alpha=0.05, power=0.8, ratio=ratio)
    assert ours.control == math.ceil(ref)


def test_proportion_sample_size_gives_the_power_it_promises():
    n = fixed_sample_size_proportion(0.10, 0.02)
    se = math.sqrt(0.1 * 0.9 / n.control + 0.12 * 0.88 / n.treatment)
    power = sps.norm.sf(1.959964 - 0.02 / se)
    assert power == pytest.approx(0.8, abs=2e-3)
    relative = fixed_sample_size_proportion(0.10, 0.2, relative=True)
    assert (relative.control, relative.treatment) == (n.control, n.treatment)


def test_sample_size_refuses_impossible_requests():
    with pytest.raises(ValueError, match="baseline"):
        fixed_sample_size_proportion(1.2, 0.1)
    with pytest.raises(ValueError, match="non-zero"):
        fixed_sample_size_mean(sd=1.0, mde=0.0)
