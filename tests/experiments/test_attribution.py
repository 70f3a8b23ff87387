"""Attribution and per-arm aggregation: the window's edge cases, the funnel's exclusion
counts, and SQL aggregates equal to a plain-Python recomputation on the same rows."""

import math
import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from arbiter import disputes, ingest
from arbiter.db import read_session, write_session
from experiments.assignment import LeadInput, PremadeAssignment, record_assignments
from experiments.attribution import funnel
from experiments.metrics import aggregate_metric
from experiments.protocol import Metric, parse_protocol
from stats import MeanSummary, ProportionSummary, RatioSummary
from tests.factories import protocol_data

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
EXP = "webinar-vs-cold-call"
ARMS = ["webinar", "cold-call"]


def start(engine, experiment_id=EXP, currency="PLN"):
    with write_session(engine) as s:
        disputes.register_protocol(
            s,
            protocol=parse_protocol(protocol_data(id=experiment_id, currency=currency)),
            actor="c",
            sign_as=["marketing", "sales"],
            now=T0,
        )
        disputes.start_dispute(s, experiment_id=experiment_id, actor="c", now=T0)


def assign(engine, rows, experiment_id=EXP):
    with write_session(engine) as s:
        out = record_assignments(
            s,
            experiment_id=experiment_id,
            now=T0 + timedelta(days=365),
            rows=[
                PremadeAssignment(LeadInput(lead, attributes=attrs), arm, at)
                for lead, arm, at, attrs in rows
            ],
        )
    assert all(hasattr(o, "arm") for o in out)


def add_deals(engine, records):
    with write_session(engine) as s:
        report = ingest.import_deal_json(s, records=records, source_system="api", actor="t", now=T0)
    assert report.rejected == 0, report.rejections


def deal(
    i, lead, *, won=True, closed=True, amount="100", created=None, closed_at=None, currency="PLN"
):
    return {
        "deal_id": f"d{i}",
        "lead_id": lead,
        "amount": amount,
        "currency": currency,
        "won": won,
        "closed": closed,
        "created_at": created.isoformat() if created else None,
        "closed_at": closed_at.isoformat() if closed_at else None,
    }


def revenue(engine, now, window=60, experiment_id=EXP):
    metric = Metric(name="revenue", kind="revenue_per_lead", window_days=window)
    with read_session(engine) as s:
        return aggregate_metric(
            s, experiment_id=experiment_id, metric=metric, currency="PLN", arms=ARMS, now=now
        )


def test_window_edges_before_assignment_and_several_deals(engine):
    start(engine)
    a = T0
    assign(
        engine,
        [
            ("on-edge", "webinar", a, {}),
            ("before", "webinar", a, {}),
            ("after", "webinar", a, {}),
            ("lost", "webinar", a, {}),
            ("two", "cold-call", a, {}),
            ("won-early", "cold-call", a, {}),
        ],
    )
    end = a + timedelta(days=60)
    add_deals(
        engine,
        [
            deal(
                1, "on-edge", created=a + timedelta(days=1), closed_at=end
            ),  # last instant: counts
            deal(2, "before", created=a - timedelta(days=3), closed_at=a + timedelta(days=5)),
            deal(3, "after", created=a + timedelta(days=1), closed_at=end + timedelta(seconds=1)),
            deal(
                4, "lost", won=False, created=a + timedelta(days=1), closed_at=a + timedelta(days=9)
            ),
            deal(
                5,
                "two",
                amount="30",
                created=a + timedelta(days=1),
                closed_at=a + timedelta(days=2),
            ),
            deal(
                6,
                "two",
                amount="12.5",
                created=a + timedelta(days=3),
                closed_at=a + timedelta(days=4),
            ),
            deal(7, "won-early", created=None, closed_at=a - timedelta(hours=1)),
        ],
    )
    agg = revenue(engine, now=end)
    assert agg.arms["webinar"].summary == MeanSummary(4, 100.0, 10000.0)
    assert agg.arms["cold-call"].summary == MeanSummary(2, 42.5, 42.5**2)
    with read_session(engine) as s:
        f = funnel(s, experiment_id=EXP, arms=ARMS, window_days=60, currency="PLN", now=end)
    assert f.arms["webinar"].excluded == {
        "created_before_assignment": 1,
        "won_before_assignment": 0,
        "won_after_window": 1,
        "other_currency": 0,
        "lost": 1,
        "open": 0,
    }
    assert f.arms["cold-call"].excluded["won_before_assignment"] == 1
    assert f.arms["cold-call"].won_deals == 2 and f.arms["cold-call"].leads_won == 1
    assert str(f.arms["cold-call"].revenue) == "42.5"


def test_pending_leads_are_counted_but_never_analysed(engine):
    start(engine)
    assign(engine, [("old", "webinar", T0, {}), ("new", "webinar", T0 + timedelta(days=30), {})])
    add_deals(
        engine, [deal(1, "new", created=T0 + timedelta(days=31), closed_at=T0 + timedelta(days=32))]
    )
    now = T0 + timedelta(days=61)
    agg = revenue(engine, now=now)
    assert agg.arms["webinar"].n == 1 and agg.arms["webinar"].summary.sum == 0.0
    with read_session(engine) as s:
        f = funnel(s, experiment_id=EXP, arms=ARMS, window_days=60, currency="PLN", now=now)
    assert (f.arms["webinar"].assigned, f.arms["webinar"].mature, f.arms["webinar"].pending) == (
        2,
        1,
        1,
    )


def test_a_lead_in_two_experiments_counts_in_both(engine):
    start(engine)
    start(engine, experiment_id="second-dispute")
    assign(engine, [("shared", "webinar", T0, {})])
    assign(
        engine,
        [("shared", "cold-call", T0 + timedelta(days=1), {})],
        experiment_id="second-dispute",
    )
    add_deals(
        engine,
        [
            deal(
                1,
                "shared",
                amount="70",
                created=T0 + timedelta(days=2),
                closed_at=T0 + timedelta(days=3),
            )
        ],
    )
    now = T0 + timedelta(days=90)
    assert revenue(engine, now).arms["webinar"].summary.sum == 70.0
    assert (
        revenue(engine, now, experiment_id="second-dispute").arms["cold-call"].summary.sum == 70.0
    )


def test_other_currency_deals_are_excluded_and_counted(engine):
    start(engine)
    add_deals(engine, [])  # nothing yet
    with write_session(engine) as s:  # the deal arrives before the lead is assigned
        ingest.import_lead_json(
            s, records=[{"lead_id": "eur"}], source_system="api", actor="t", now=T0
        )
        ingest.import_deal_json(
            s,
            records=[
                deal(
                    1,
                    "eur",
                    currency="EUR",
                    created=T0 + timedelta(days=2),
                    closed_at=T0 + timedelta(days=3),
                )
            ],
            source_system="api",
            actor="t",
            now=T0,
        )
    assign(engine, [("eur", "webinar", T0, {})])
    now = T0 + timedelta(days=61)
    assert revenue(engine, now).arms["webinar"].summary.sum == 0.0
    with read_session(engine) as s:
        f = funnel(s, experiment_id=EXP, arms=ARMS, window_days=60, currency="PLN", now=now)
    assert f.arms["webinar"].excluded["other_currency"] == 1


def python_summaries(
    leads,
    deals_by_lead,
    now,
    window,
    kind,
    numerator=None,
    denominator=None,
    cap=None,
    covariate=False,
):
    """Recompute per-arm statistics from plain rows with the documented rule."""
    per_arm = {arm: [] for arm in ARMS}
    mature_before = now - timedelta(days=window)
    for lead, arm, at, attrs in leads:
        if at > mature_before:
            continue
        end = at + timedelta(days=window)
        won = [
            d
            for d in deals_by_lead.get(lead, [])
            if d["won"]
            and d["currency"] == "PLN"
            and at <= d["closed_at"] <= end
            and (d["created_at"] is None or d["created_at"] >= at)
        ]
        created = [
            d
            for d in deals_by_lead.get(lead, [])
            if at <= (d["created_at"] or d["closed_at"]) <= end
        ]
        values = {
            "revenue": sum(float(d["amount"]) for d in won),
            "won_deals": float(len(won)),
            "deals": float(len(created)),
        }
        per_arm[arm].append((values, attrs.get("score", 0.0)))
    return per_arm


@pytest.mark.parametrize(
    ("kind", "numerator", "denominator", "cap", "covariate"),
    [
        ("conversion", None, None, None, True),
        ("revenue_per_lead", None, None, None, False),
        ("revenue_per_lead", None, None, 95.0, True),
        ("count", None, None, None, False),
        ("ratio", "revenue", "won_deals", None, False),
        ("ratio", "won_deals", "deals", 99.0, False),
    ],
)
def test_sql_aggregation_equals_python_recomputation(
    engine, kind, numerator, denominator, cap, covariate
):
    start(engine)
    rng = random.Random(11)
    leads = []
    for i in range(300):
        attrs = {"score": float(rng.randint(0, 100))} if rng.random() < 0.9 else {}
        leads.append(
            (f"L{i}", rng.choice(ARMS), T0 + timedelta(hours=rng.randint(0, 24 * 40)), attrs)
        )
    assign(engine, leads)
    records, by_lead = [], {}
    for j in range(450):
        lead, _, at, _ = rng.choice(leads)
        created = at + timedelta(hours=rng.randint(-72, 24 * 70)) if rng.random() < 0.9 else None
        closed_at = (created or at) + timedelta(hours=rng.randint(0, 24 * 30))
        won = rng.random() < 0.6
        amount = f"{rng.lognormvariate(6, 1.2):.2f}"
        currency = "PLN" if rng.random() < 0.95 else "EUR"
        records.append(
            deal(
                j,
                lead,
                won=won,
                amount=amount,
                created=created,
                closed_at=closed_at,
                currency=currency,
            )
        )
        if currency == "PLN":  # EUR deals of a PLN dispute's leads are rejected at import
            by_lead.setdefault(lead, []).append(
                {
                    "won": won,
                    "amount": amount,
                    "currency": currency,
                    "created_at": created,
                    "closed_at": closed_at,
                }
            )
    with write_session(engine) as s:
        ingest.import_deal_json(s, records=records, source_system="api", actor="t", now=T0)
    now = T0 + timedelta(days=80)
    metric = Metric(
        name="m",
        kind=kind,
        window_days=45,
        cap_percentile=cap,
        covariate="score" if covariate else None,
        numerator=numerator,
        denominator=denominator,
    )
    with read_session(engine) as s:
        agg = aggregate_metric(
            s, experiment_id=EXP, metric=metric, currency="PLN", arms=ARMS, now=now
        )
    expected = python_summaries(leads, by_lead, now, 45, kind)
    pooled = [v for rows in expected.values() for v, _ in rows]

    def x(v):
        if kind == "conversion":
            return 1.0 if v["won_deals"] > 0 else 0.0
        if kind == "revenue_per_lead":
            return v["revenue"]
        if kind == "count":
            return v["won_deals"]
        return v[numerator]

    cap_value = None
    if cap is not None:
        ordered = sorted(x(v) for v in pooled)
        cap_value = ordered[max(math.ceil(cap / 100 * len(ordered)), 1) - 1]
        assert agg.cap == pytest.approx(cap_value)
    for arm in ARMS:
        rows = expected[arm]
        values = np.array(
            [min(x(v), cap_value) if cap_value is not None else x(v) for v, _ in rows]
        )
        got = agg.arms[arm]
        assert got.n == len(rows)
        if kind == "conversion":
            assert got.summary == ProportionSummary(int(values.sum()), len(rows))
        elif kind == "ratio":
            den = np.array([v[denominator] for v, _ in rows])
            ref = RatioSummary.from_arrays(values, den)
            assert isinstance(got.summary, RatioSummary)
            for field in (
                "numerator_sum",
                "numerator_sum_squares",
                "denominator_sum",
                "denominator_sum_squares",
                "cross_sum",
            ):
                assert getattr(got.summary, field) == pytest.approx(getattr(ref, field), rel=1e-9)
        else:
            assert got.summary.sum == pytest.approx(values.sum(), rel=1e-9)
            assert got.summary.sum_squares == pytest.approx((values**2).sum(), rel=1e-9)
        if covariate:
            scores = np.array([s for _, s in rows])
            assert got.covariate.sum == pytest.approx(scores.sum())
            assert got.covariate.sum_squares == pytest.approx((scores**2).sum())
            assert got.covariate.cross_sum == pytest.approx((scores * values).sum(), rel=1e-9)
            assert got.missing_covariate == sum(
                1
                for lead in leads
                if lead[1] == arm and lead[2] <= now - timedelta(days=45) and not lead[3]
            )
