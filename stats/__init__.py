"""Arbiter's statistics core: pure numerics on per-arm sufficient statistics.

No I/O, no ORM, no web: numpy, scipy and the standard library only, so that an analyst
can ``import stats`` in a notebook and recompute any verdict from a decision record.

Summaries (inputs)
    MeanSummary, ProportionSummary, RatioSummary, CovariateSummary
Comparisons
    compare, AlwaysValid, CompareResult
Group sequential designs
    spending_boundaries, classic_boundaries, exit_probabilities, BoundaryResult,
    GroupSequentialDesign, describe_design, futility_boundaries, inflation_factor
Monitoring
    sequential_test, sequential_holm, Interim, SequentialResult
Health and multiplicity
    srm_test, holm, benjamini_hochberg
Power and design
    fixed_sample_size_proportion, fixed_sample_size_mean, sequential_sample_size

Every function cites the paper, equation or table it implements; ``python -m
stats.validate`` checks the designs by Monte Carlo.
"""

from stats.always_valid import (
    confidence_sequence_halfwidth,
    mixing_rho,
    msprt_halfwidth,
    msprt_pvalue,
    running_minimum,
)
from stats.boundaries import (
    BoundaryResult,
    ExitProbabilities,
    classic_boundaries,
    exit_probabilities,
    spending_boundaries,
)
from stats.compare import AlwaysValid, CompareResult, compare
from stats.design import (
    DesignSummary,
    GroupSequentialDesign,
    describe_design,
    futility_boundaries,
    inflation_factor,
)
from stats.health import SRMResult, srm_test
from stats.multiplicity import benjamini_hochberg, holm
from stats.power import (
    SampleSize,
    SequentialSampleSize,
    fixed_sample_size_mean,
    fixed_sample_size_proportion,
    sequential_sample_size,
)
from stats.sequential import Interim, SequentialResult, sequential_holm, sequential_test
from stats.spending import SpendingFunction, spending_function
from stats.summary import CovariateSummary, MeanSummary, ProportionSummary, RatioSummary

__all__ = [
    "AlwaysValid",
    "BoundaryResult",
    "CompareResult",
    "CovariateSummary",
    "DesignSummary",
    "ExitProbabilities",
    "GroupSequentialDesign",
    "Interim",
    "MeanSummary",
    "ProportionSummary",
    "RatioSummary",
    "SRMResult",
    "SampleSize",
    "SequentialResult",
    "SequentialSampleSize",
    "SpendingFunction",
    "benjamini_hochberg",
    "classic_boundaries",
    "compare",
    "confidence_sequence_halfwidth",
    "describe_design",
    "exit_probabilities",
    "fixed_sample_size_mean",
    "fixed_sample_size_proportion",
    "futility_boundaries",
    "holm",
    "inflation_factor",
    "mixing_rho",
    "msprt_halfwidth",
    "msprt_pvalue",
    "running_minimum",
    "sequential_holm",
    "sequential_sample_size",
    "sequential_test",
    "spending_boundaries",
    "spending_function",
    "srm_test",
]
