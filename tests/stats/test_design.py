"""Group sequential designs with non-binding futility: the committee default's targets,
the inflation/power relationship, and β-spending futility boundaries."""

import numpy as np
import pytest

from stats import GroupSequentialDesign, describe_design, exit_probabilities
from stats.power import fixed_sample_size_proportion, sequential_sample_size

DEFAULT = GroupSequentialDesign(looks=5, futility="obrien-fleming")


def test_committee_default_meets_the_time_to_verdict_targets():
    d = describe_design(DEFAULT)
    assert d.power == pytest.approx(0.8, abs=1e-4)
    assert d.expected_sample_h1 <= 0.85
    assert d.expected_sample_h0 <= 0.75


def test_last_futility_boundary_meets_the_last_efficacy_boundary():
    d = describe_design(DEFAULT)
    assert d.futility is not None
    assert d.futility[-1] == pytest.approx(d.efficacy.upper[-1])
    assert all(f <= e for f, e in zip(d.futility, d.efficacy.upper, strict=True))
    assert list(d.futility) == sorted(d.futility)


def test_futility_stops_spend_beta_under_the_alternative():
    d = describe_design(DEFAULT)
    probs = exit_probabilities(
        DEFAULT.planned_fractions, d.efficacy.upper, drift=d.drift, futility=d.futility
    )
    assert sum(probs.futility) == pytest.approx(0.2, abs=2e-4)


def test_non_binding_futility_leaves_the_type_i_error_at_alpha_when_ignored():
    d = describe_design(DEFAULT)
    ignored = exit_probabilities(DEFAULT.planned_fractions, d.efficacy.upper)
    obeyed = exit_probabilities(DEFAULT.planned_fractions, d.efficacy.upper, futility=d.futility)
    assert sum(ignored.upper) + sum(ignored.lower) == pytest.approx(0.05, abs=1e-7)
    assert sum(obeyed.upper) + sum(obeyed.lower) < 0.05


def test_design_without_futility_has_power_at_the_inflated_drift():
    d = describe_design(GroupSequentialDesign(looks=4))
    assert d.power == pytest.approx(0.8, abs=1e-4)
    assert 1.0 < d.inflation_factor < 1.03


def test_one_sided_design_with_futility_has_the_requested_power_by_simulation():
    design = GroupSequentialDesign(looks=3, sides=1, alpha=0.025, power=0.9, futility=("hsd", -2.0))
    d = describe_design(design)
    rng = np.random.default_rng(1)
    t = np.asarray(design.planned_fractions)
    w = np.cumsum(rng.standard_normal((200_000, 3)) * np.sqrt(np.diff(np.r_[0, t])), axis=1)
    z = (w + d.drift * t) / np.sqrt(t)
    assert d.futility is not None
    stop_eff = z >= np.asarray(d.efficacy.upper)
    stop_fut = z <= np.asarray(d.futility)
    first = (stop_eff | stop_fut).argmax(axis=1)
    power = stop_eff[np.arange(z.shape[0]), first].mean()
    assert power == pytest.approx(0.9, abs=0.004)


def test_sequential_sample_size_scales_the_fixed_sample():
    fixed = fixed_sample_size_proportion(0.1, 0.02)
    seq = sequential_sample_size(DEFAULT, fixed)
    d = describe_design(DEFAULT)
    assert seq.maximum == pytest.approx(fixed.total * d.inflation_factor, abs=1)
    assert seq.expected_h0 < fixed.total < seq.maximum


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"looks": 0}, "looks"),
        ({"alpha": 0.6}, "alpha"),
        ({"power": 0.3}, "power"),
        ({"sides": 3}, "sides"),
        ({"spending": "linear"}, "spending"),
        ({"max_sample": 1}, "max_sample"),
    ],
)
def test_impossible_designs_are_refused(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        GroupSequentialDesign(**kwargs)
