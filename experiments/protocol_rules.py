"""Relations between protocol fields, checked on the raw document.

The pydantic model in :mod:`experiments.protocol` checks each field on its own (types,
ranges, spelling); these rules check how fields fit together. They read the raw
document defensively, so that a protocol with a wrong type in one place still gets
every relational problem reported in the same pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from experiments.currency import is_currency
from experiments.errors import Problem

__all__ = ["relational_problems"]

QUANTITIES = ("revenue", "won_deals", "deals")


def _map(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _duplicates(path: str, values: list[Any], what: str) -> list[Problem]:
    seen: set[Any] = set()
    out = []
    for v in values:
        if isinstance(v, str) and v in seen:
            out.append(Problem(path, f"{what} {v!r} is listed more than once"))
        seen.add(v)
    return out


def _metric_problems(path: str, metric: Mapping[str, Any]) -> list[Problem]:
    kind = _text(metric.get("kind"))
    out: list[Problem] = []
    if kind == "ratio":
        for part in ("numerator", "denominator"):
            if metric.get(part) is None:
                out.append(
                    Problem(
                        f"{path}.{part}",
                        f"a ratio metric needs its {part} ({', '.join(QUANTITIES)})",
                    )
                )
        if metric.get("numerator") is not None and metric.get("numerator") == metric.get(
            "denominator"
        ):
            out.append(Problem(f"{path}.denominator", "must differ from the numerator"))
        if metric.get("covariate") is not None:
            out.append(
                Problem(
                    f"{path}.covariate",
                    "CUPED covariates apply to conversion, revenue_per_lead and count metrics, "
                    "not ratios",
                )
            )
    elif kind is not None:
        for part in ("numerator", "denominator"):
            if metric.get(part) is not None:
                out.append(Problem(f"{path}.{part}", "only ratio metrics take a " + part))
    if kind == "conversion" and metric.get("cap_percentile") is not None:
        out.append(Problem(f"{path}.cap_percentile", "a 0/1 conversion cannot be capped"))
    return out


def relational_problems(data: Mapping[str, Any]) -> list[Problem]:
    """Problems in how the protocol's fields relate to each other."""
    out: list[Problem] = []
    parties = [p for p in _list(data.get("parties")) if isinstance(p, str)]
    out += _duplicates("parties", parties, "party")
    party_list = ", ".join(parties) or "none listed"

    arms = [_map(a) for a in _list(data.get("arms"))]
    keys = [_text(a.get("key")) for a in arms]
    out += _duplicates("arms", [k for k in keys if k], "arm key")
    for i, arm in enumerate(arms):
        party = _text(arm.get("party"))
        if party is not None and parties and party not in parties:
            out.append(
                Problem(f"arms[{i}].party", f"{party!r} is not one of the parties ({party_list})")
            )

    flagged = [k for a, k in zip(arms, keys, strict=True) if a.get("control") is True]
    if len(flagged) > 1:
        out.append(
            Problem("arms", f"only one arm can be the control, got {', '.join(map(str, flagged))}")
        )
    control = data.get("control")
    if isinstance(control, str):
        if control not in [k for k in keys if k]:
            out.append(
                Problem(
                    "control",
                    f"{control!r} is not one of the arms ({', '.join(k for k in keys if k)})",
                )
            )
        elif flagged and flagged[0] != control:
            out.append(Problem("control", f"names {control!r} but arm {flagged[0]!r} is flagged"))
    has_control = isinstance(control, str) or bool(flagged)

    for i, party in enumerate(_list(data.get("sign_offs"))):
        if isinstance(party, str) and parties and party not in parties:
            out.append(
                Problem(f"sign_offs[{i}]", f"{party!r} is not one of the parties ({party_list})")
            )
    out += _duplicates("sign_offs", _list(data.get("sign_offs")), "party")

    if "primary" in data:
        out += _metric_problems("primary", _map(data.get("primary")))
    for i, guardrail in enumerate(_list(data.get("guardrails"))):
        out += _metric_problems(f"guardrails[{i}]", _map(guardrail))

    currency = _text(data.get("currency"))
    if (
        currency is not None
        and len(currency) == 3
        and currency.isupper()
        and not is_currency(currency)
    ):
        out.append(Problem("currency", f"{currency!r} is not an ISO 4217 currency code"))

    if data.get("alternative") == "one-sided" and not has_control:
        out.append(
            Problem(
                "alternative", "a one-sided hypothesis needs a control arm for the others to beat"
            )
        )

    design = _map(data.get("design"))
    limits = _map(data.get("limits"))
    kind = design.get("kind", "group_sequential")
    for name, gamma_name in (("spending", "gamma"), ("futility", "futility_gamma")):
        default = "obrien-fleming"
        family = design.get(name, default)
        if family == "hsd" and design.get(gamma_name) is None:
            out.append(
                Problem(f"design.{gamma_name}", f"the hsd {name} function needs {gamma_name}")
            )
        if family != "hsd" and design.get(gamma_name) is not None:
            out.append(
                Problem(f"design.{gamma_name}", f"only the hsd {name} function takes {gamma_name}")
            )

    max_sample = _number(limits.get("max_sample"))
    max_days = _number(limits.get("max_duration_days"))
    if kind == "group_sequential" and limits.get("max_sample") is None:
        out.append(
            Problem(
                "limits.max_sample",
                "a group sequential design needs the maximum sample: the information fraction "
                "is mature leads / max_sample",
            )
        )
    elif limits.get("max_sample") is None and limits.get("max_duration_days") is None:
        out.append(Problem("limits", "set max_sample, max_duration_days or both"))
    min_days = _number(limits.get("min_duration_days"))
    if min_days is not None and max_days is not None and min_days > max_days:
        out.append(Problem("limits.min_duration_days", "cannot exceed max_duration_days"))
    min_sample = _number(limits.get("min_sample"))
    if min_sample is not None and max_sample is not None and min_sample > max_sample:
        out.append(Problem("limits.min_sample", "cannot exceed max_sample"))
    if max_sample is not None and arms and max_sample < 2 * len(arms):
        out.append(Problem("limits.max_sample", "must allow at least two leads per arm"))
    return out
