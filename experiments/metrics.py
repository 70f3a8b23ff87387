"""Per-arm sufficient statistics of a metric, aggregated in the database.

The attribution rule (docs/attribution.md): a deal counts for the arm of its lead
(intention to treat) when it was won at or after the lead's assignment and no later than
the end of the metric's attribution window, was not created before the assignment, and
is in the protocol's currency. Several deals of one lead add up. Only *mature* leads —
whose window has fully elapsed at the time of the analysis — enter.

One query per metric: the inner ``GROUP BY`` folds each lead's deals into its values
(won revenue, won deals, created deals), the outer ``GROUP BY`` folds leads into per-arm
n, Σx, Σx² (and ratio and covariate sums and cross-products). Rows never reach Python;
the statistics that :mod:`stats` consumes are O(arms). Capping at a pre-registered
percentile uses the value of rank ⌈p·n/100⌉ among all mature leads of the experiment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    Subquery,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from experiments.bulk import table_of
from experiments.clock import DAY_US
from experiments.crm_tables import Assignment, Deal, LeadAttribute
from experiments.protocol import Metric
from stats import CovariateSummary, MeanSummary, ProportionSummary, RatioSummary

__all__ = ["ArmStatistics", "MetricAggregate", "aggregate_metric", "per_lead_query"]

Summary = MeanSummary | ProportionSummary | RatioSummary
MICROS = 1_000_000.0


@dataclass(frozen=True, slots=True)
class ArmStatistics:
    """The sufficient statistics of one arm for one metric."""

    arm: str
    n: int
    summary: Summary
    covariate: CovariateSummary | None
    missing_covariate: int


@dataclass(frozen=True, slots=True)
class MetricAggregate:
    """A metric's per-arm statistics over the leads mature at ``mature_before``."""

    metric: str
    kind: str
    window_days: int
    mature_before: datetime
    cap: float | None
    arms: dict[str, ArmStatistics]


def per_lead_query(
    experiment_id: str, window_days: int, currency: str, mature_before: datetime | None
) -> Subquery:
    """One row per assigned lead: arm, lead_id, revenue_micros, won_deals, deals."""
    a = table_of(Assignment)
    d = table_of(Deal)
    start = type_coerce(a.c.assigned_at, BigInteger)
    end = start + literal(window_days * DAY_US, BigInteger)
    closed = type_coerce(d.c.closed_at, BigInteger)
    created = type_coerce(d.c.created_at, BigInteger)
    won_in_window = and_(
        d.c.won.is_(True),
        d.c.currency == currency,
        closed >= start,
        closed <= end,
        or_(d.c.created_at.is_(None), created >= start),
    )
    created_in_window = and_(
        func.coalesce(created, closed) >= start, func.coalesce(created, closed) <= end
    )
    query = (
        select(
            a.c.arm_key.label("arm"),
            a.c.lead_id.label("lead_id"),
            func.coalesce(func.sum(case((won_in_window, d.c.amount_micros), else_=0)), 0).label(
                "revenue_micros"
            ),
            func.coalesce(func.sum(case((won_in_window, 1), else_=0)), 0).label("won_deals"),
            func.coalesce(func.sum(case((created_in_window, 1), else_=0)), 0).label("deals"),
        )
        .select_from(a.outerjoin(d, d.c.lead_id == a.c.lead_id))
        .where(a.c.experiment_id == experiment_id)
        .group_by(a.c.id, a.c.arm_key, a.c.lead_id)
    )
    if mature_before is not None:
        query = query.where(a.c.assigned_at <= mature_before)
    return query.subquery("per_lead")


def _quantity(pl: Subquery, name: str) -> ColumnElement[Any]:
    if name == "revenue":
        return cast(pl.c.revenue_micros, Float) / literal(MICROS, Float)
    if name == "won_deals":
        return cast(pl.c.won_deals, Float)
    return cast(pl.c.deals, Float)


def _value(pl: Subquery, metric: Metric) -> ColumnElement[Any]:
    if metric.kind == "conversion":
        return case((pl.c.won_deals > 0, 1), else_=0)
    if metric.kind == "revenue_per_lead":
        return _quantity(pl, "revenue")
    return _quantity(pl, "won_deals")


def _cap(
    session: Session, pl: Subquery, value: ColumnElement[Any], percentile: float
) -> float | None:
    n = session.execute(select(func.count()).select_from(pl)).scalar_one()
    if n == 0:
        return None
    rank = max(math.ceil(percentile / 100.0 * n), 1)
    row = session.execute(select(value).select_from(pl).order_by(value).offset(rank - 1).limit(1))
    return float(row.scalar_one())


def aggregate_metric(
    session: Session,
    *,
    experiment_id: str,
    metric: Metric,
    currency: str,
    arms: list[str],
    now: datetime,
) -> MetricAggregate:
    """Per-arm sufficient statistics of ``metric`` over the leads mature at ``now``."""
    mature_before = now - timedelta(days=metric.window_days)
    pl = per_lead_query(experiment_id, metric.window_days, currency, mature_before)
    cap: float | None = None
    columns: list[ColumnElement[Any]] = [pl.c.arm, func.count().label("n")]
    if metric.kind == "ratio":
        assert metric.numerator is not None and metric.denominator is not None
        num, den = _quantity(pl, metric.numerator), _quantity(pl, metric.denominator)
        if metric.cap_percentile is not None:
            cap = _cap(session, pl, num, metric.cap_percentile)
            if cap is not None:
                num = case((num > cap, literal(cap, Float)), else_=num)
        columns += [
            func.sum(num),
            func.sum(num * num),
            func.sum(den),
            func.sum(den * den),
            func.sum(num * den),
        ]
        value = num
    else:
        value = _value(pl, metric)
        if metric.cap_percentile is not None and metric.kind != "conversion":
            cap = _cap(session, pl, value, metric.cap_percentile)
            if cap is not None:
                value = case((value > cap, literal(cap, Float)), else_=value)
        columns += [func.sum(value), func.sum(value * value)]
    source: Any = pl
    if metric.covariate is not None:
        la = table_of(LeadAttribute)
        source = pl.outerjoin(la, and_(la.c.lead_id == pl.c.lead_id, la.c.name == metric.covariate))
        x = func.coalesce(la.c.number, literal(0.0, Float))
        columns += [
            func.sum(x),
            func.sum(x * x),
            func.sum(x * value),
            func.sum(case((la.c.number.is_(None), 1), else_=0)),
        ]
    rows = session.execute(select(*columns).select_from(source).group_by(pl.c.arm)).all()
    found = {row[0]: row for row in rows}
    out: dict[str, ArmStatistics] = {}
    for arm in arms:
        row = found.get(arm)
        out[arm] = _arm_statistics(arm, metric, row)
    return MetricAggregate(metric.name, metric.kind, metric.window_days, mature_before, cap, out)


def _f(value: Any) -> float:
    return 0.0 if value is None else float(value)


def _arm_statistics(arm: str, metric: Metric, row: Any) -> ArmStatistics:
    if row is None:
        n = 0
        empty: Summary
        if metric.kind == "conversion":
            empty = ProportionSummary(0, 0)
        elif metric.kind == "ratio":
            empty = RatioSummary(0, 0.0, 0.0, 0.0, 0.0, 0.0)
        else:
            empty = MeanSummary(0, 0.0, 0.0)
        covariate = CovariateSummary(0, 0.0, 0.0, 0.0) if metric.covariate else None
        return ArmStatistics(arm, n, empty, covariate, 0)
    n = int(row[1])
    summary: Summary
    if metric.kind == "conversion":
        summary = ProportionSummary(int(row[2]), n)
        extra = 4
    elif metric.kind == "ratio":
        summary = RatioSummary(n, _f(row[2]), _f(row[3]), _f(row[4]), _f(row[5]), _f(row[6]))
        extra = 7
    else:
        summary = MeanSummary(n, _f(row[2]), _f(row[3]))
        extra = 4
    covariate = None
    missing = 0
    if metric.covariate is not None:
        covariate = CovariateSummary(n, _f(row[extra]), _f(row[extra + 1]), _f(row[extra + 2]))
        missing = int(row[extra + 3] or 0)
    return ArmStatistics(arm, n, summary, covariate, missing)
