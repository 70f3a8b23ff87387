"""From a registered protocol to the statistical design that monitors it."""

from __future__ import annotations

from experiments.protocol import Protocol
from stats import AlwaysValid, GroupSequentialDesign

__all__ = ["statistical_design"]


def statistical_design(protocol: Protocol) -> GroupSequentialDesign | AlwaysValid:
    """The :mod:`stats` design the protocol pre-registers.

    Group sequential: the protocol's spending function for efficacy, its β-spending
    function for non-binding futility (``"none"`` for no futility stop), two-sided unless
    the hypothesis is one-sided, and ``limits.max_sample`` as the maximum information.
    Always valid: the confidence sequence with the protocol's tuning sample size.
    """
    d = protocol.design
    if d.kind == "always_valid":
        return AlwaysValid(tuning=d.tuning)
    spending: str | tuple[str, float] = (
        ("hsd", float(d.gamma or 0.0)) if d.spending == "hsd" else d.spending
    )
    futility: str | tuple[str, float] | None
    if d.futility == "none":
        futility = None
    elif d.futility == "hsd":
        futility = ("hsd", float(d.futility_gamma or 0.0))
    else:
        futility = d.futility
    return GroupSequentialDesign(
        looks=d.looks,
        alpha=protocol.alpha,
        power=protocol.power,
        sides=2 if protocol.alternative == "two-sided" else 1,
        spending=spending,
        futility=futility,
        max_sample=protocol.limits.max_sample,
    )
