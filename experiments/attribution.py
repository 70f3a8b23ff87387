"""The funnel of one experiment, per arm: from the assigned lead to the won deal.

For each arm: leads assigned, mature (attribution window elapsed) and still pending;
leads with any deal in their window, leads with a won deal, won deals and their revenue
as attributed by the rule of :mod:`experiments.metrics`; and every deal of the arm's
leads that the rule leaves out, counted by reason — created before the assignment, won
after the window closed, lost, still open, or in another currency — so nothing is
ignored silently. Deals of leads Arbiter has never seen are rejected at import; their
count is reported with the funnel.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, and_, case, func, literal, select, type_coerce
from sqlmodel import Session, col

from experiments.bulk import table_of
from experiments.clock import DAY_US
from experiments.crm_tables import Assignment, Deal, ImportRejection
from experiments.metrics import per_lead_query

__all__ = ["ArmFunnel", "Funnel", "funnel"]


@dataclass
class ArmFunnel:
    """One arm's funnel."""

    arm: str
    assigned: int = 0
    mature: int = 0
    pending: int = 0
    leads_with_deal: int = 0
    leads_won: int = 0
    won_deals: int = 0
    revenue: Decimal = Decimal(0)
    excluded: dict[str, int] = field(default_factory=dict)


@dataclass
class Funnel:
    """Every arm's funnel at ``now`` for a window of ``window_days``."""

    window_days: int
    currency: str
    now: datetime
    mature_before: datetime
    arms: dict[str, ArmFunnel]
    unknown_lead_deals_rejected: int

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view (revenue as a decimal string)."""
        return {
            "window_days": self.window_days,
            "currency": self.currency,
            "as_of": self.now.isoformat().replace("+00:00", "Z"),
            "mature_before": self.mature_before.isoformat().replace("+00:00", "Z"),
            "unknown_lead_deals_rejected": self.unknown_lead_deals_rejected,
            "arms": {
                key: {**asdict(arm), "revenue": str(arm.revenue)} for key, arm in self.arms.items()
            },
        }


def funnel(
    session: Session,
    *,
    experiment_id: str,
    arms: list[str],
    window_days: int,
    currency: str,
    now: datetime,
) -> Funnel:
    """The funnel per arm (see the module doc); everything is aggregated in SQL."""
    mature_before = now - timedelta(days=window_days)
    result = {arm: ArmFunnel(arm) for arm in arms}
    pl = per_lead_query(experiment_id, window_days, currency, None)
    a = table_of(Assignment)
    d = table_of(Deal)
    lead_rows = session.execute(
        select(
            pl.c.arm,
            func.count(),
            func.sum(case((pl.c.deals > 0, 1), else_=0)),
            func.sum(case((pl.c.won_deals > 0, 1), else_=0)),
            func.sum(pl.c.won_deals),
            func.sum(pl.c.revenue_micros),
        ).group_by(pl.c.arm)
    ).all()
    for arm, assigned, with_deal, won, won_deals, revenue in lead_rows:
        f = result.setdefault(arm, ArmFunnel(arm))
        f.assigned, f.leads_with_deal, f.leads_won = (
            int(assigned),
            int(with_deal or 0),
            int(won or 0),
        )
        f.won_deals = int(won_deals or 0)
        f.revenue = Decimal(int(revenue or 0)) / Decimal(1_000_000)
    mature_rows = session.execute(
        select(a.c.arm_key, func.count())
        .where(a.c.experiment_id == experiment_id, a.c.assigned_at <= mature_before)
        .group_by(a.c.arm_key)
    ).all()
    for arm, mature in mature_rows:
        f = result.setdefault(arm, ArmFunnel(arm))
        f.mature = int(mature)
    for f in result.values():
        f.pending = f.assigned - f.mature

    start = type_coerce(a.c.assigned_at, BigInteger)
    end = start + literal(window_days * DAY_US, BigInteger)
    closed = type_coerce(d.c.closed_at, BigInteger)
    created = type_coerce(d.c.created_at, BigInteger)
    before = and_(d.c.created_at.is_not(None), created < start)
    reasons = {
        "created_before_assignment": before,
        "won_before_assignment": and_(~before, d.c.won.is_(True), closed < start),
        "won_after_window": and_(~before, d.c.won.is_(True), closed > end),
        "other_currency": and_(
            ~before, d.c.won.is_(True), closed >= start, closed <= end, d.c.currency != currency
        ),
        "lost": and_(~before, d.c.closed.is_(True), d.c.won.is_(False)),
        "open": and_(~before, d.c.closed.is_(False)),
    }
    excluded = session.execute(
        select(a.c.arm_key, *[func.sum(case((cond, 1), else_=0)) for cond in reasons.values()])
        .select_from(a.join(d, d.c.lead_id == a.c.lead_id))
        .where(a.c.experiment_id == experiment_id)
        .group_by(a.c.arm_key)
    ).all()
    for row in excluded:
        f = result.setdefault(row[0], ArmFunnel(row[0]))
        f.excluded = {name: int(value or 0) for name, value in zip(reasons, row[1:], strict=True)}
    for f in result.values():
        f.excluded = f.excluded or dict.fromkeys(reasons, 0)
    unknown = session.execute(
        select(func.count())
        .select_from(ImportRejection)
        .where(col(ImportRejection.code) == "unknown_lead")
    ).scalar_one()
    return Funnel(window_days, currency, now, mature_before, result, int(unknown))
