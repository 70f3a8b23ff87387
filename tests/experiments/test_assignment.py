"""Assignment: golden vectors pin hash-v1, the split honours the weights (chi-square over
100,000 ids), the same lead always gets the same arm, an assignment is stored once, and
pre-made assignments are checked against the protocol."""

import hashlib
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from scipy import stats as sps

from arbiter import disputes
from arbiter.db import write_session
from experiments.assignment import (
    LeadInput,
    PremadeAssignment,
    assign_leads,
    assignment_of,
    bucket,
    choose_arm,
    record_assignments,
)
from experiments.errors import LifecycleError, Problem
from experiments.protocol import parse_protocol
from tests.factories import protocol_data

VECTORS = json.loads((Path(__file__).parent / "assignment_vectors.json").read_text())
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "case", VECTORS["cases"], ids=lambda c: f"{c['salt'][:6]}-{c['lead_id'][:8]}"
)
def test_golden_vectors_pin_hash_v1(case):
    arms = [tuple(a) for a in case["arms"]]
    assert bucket(case["salt"], case["lead_id"]) == case["bucket"]
    assert choose_arm(case["salt"], case["lead_id"], arms) == case["arm"]
    digest = hashlib.sha256(f"{case['salt']}:{case['lead_id']}".encode()).digest()
    assert int.from_bytes(digest[:8], "big") / 2**64 == case["bucket"]


@pytest.mark.parametrize("weights", [(1, 1), (2, 1, 1), (0.1, 0.3, 0.6)])
def test_split_honours_the_weights_over_100000_ids(weights):
    arms = [(f"arm{i}", float(w)) for i, w in enumerate(weights)]
    counts = Counter(choose_arm("balance-salt", f"lead-{i}", arms) for i in range(100_000))
    observed = [counts[key] for key, _ in arms]
    expected = [100_000 * w / sum(weights) for w in weights]
    assert sps.chisquare(observed, expected).pvalue > 0.001


def test_unknown_hash_version_is_refused():
    with pytest.raises(ValueError, match="unknown assignment hash version"):
        bucket("s", "x", version=99)


def running(engine, **changes):
    with write_session(engine) as s:
        disputes.register_protocol(
            s,
            protocol=parse_protocol(protocol_data(**changes)),
            actor="c",
            sign_as=["marketing", "sales"],
            now=T0,
        )
        disputes.start_dispute(s, experiment_id="webinar-vs-cold-call", actor="c", now=T0)


def test_same_lead_always_gets_the_same_arm_and_is_stored_once(engine):
    running(engine)
    leads = [LeadInput(f"lead-{i}") for i in range(300)]
    with write_session(engine) as s:
        first = assign_leads(s, experiment_id="webinar-vs-cold-call", leads=leads, now=T0)
    with write_session(engine) as s:
        again = assign_leads(
            s, experiment_id="webinar-vs-cold-call", leads=leads[:50], now=T0 + timedelta(days=1)
        )
        stored = assignment_of(s, "webinar-vs-cold-call", "lead-7")
    assert all(o.created for o in first)
    assert not any(o.created for o in again)
    assert [o.arm for o in again] == [o.arm for o in first[:50]]
    assert all(o.assigned_at == T0 for o in again)
    assert stored is not None and stored.arm_key == first[7].arm and stored.method == "hash-v1"
    assert {o.arm for o in first} == {"webinar", "cold-call"}


def test_assignment_needs_a_running_experiment(engine):
    with write_session(engine) as s:
        disputes.draft_dispute(s, protocol=parse_protocol(protocol_data()), actor="c")
        with pytest.raises(LifecycleError, match="cannot assign leads to"):
            assign_leads(s, experiment_id="webinar-vs-cold-call", leads=[LeadInput("x")], now=T0)


def test_premade_assignments_keep_their_time_and_are_checked(engine):
    running(engine)
    earlier = T0 - timedelta(days=2)
    rows = [
        PremadeAssignment(LeadInput("crm-1"), "webinar", earlier),
        PremadeAssignment(LeadInput("crm-2"), "email-drip", earlier),
        PremadeAssignment(LeadInput("crm-3"), "cold-call", T0 + timedelta(days=9)),
    ]
    with write_session(engine) as s:
        outcomes = record_assignments(s, experiment_id="webinar-vs-cold-call", rows=rows, now=T0)
    assert outcomes[0].arm == "webinar" and outcomes[0].assigned_at == earlier
    assert outcomes[0].method == "imported"
    assert isinstance(outcomes[1], Problem) and "not an arm" in outcomes[1].message
    assert isinstance(outcomes[2], Problem) and "future" in outcomes[2].message
    with write_session(engine) as s:
        again = record_assignments(
            s,
            experiment_id="webinar-vs-cold-call",
            now=T0,
            rows=[PremadeAssignment(LeadInput("crm-1"), "cold-call", earlier)],
        )
    assert isinstance(again[0], Problem) and "already in arm 'webinar'" in again[0].message


def test_attributes_are_typed_and_frozen_after_assignment(engine):
    from sqlmodel import select

    from experiments.assignment import upsert_leads
    from experiments.crm_tables import LeadAttribute

    running(engine)
    with write_session(engine) as s:
        upsert_leads(
            s,
            [LeadInput("a-1", attributes={"lead_score": 42, "vip": True, "segment": "smb"})],
            now=T0,
        )
        assign_leads(s, experiment_id="webinar-vs-cold-call", leads=[LeadInput("a-1")], now=T0)
        result = upsert_leads(s, [LeadInput("a-1", attributes={"lead_score": 99})], now=T0)
        stored = {a.name: a for a in s.exec(select(LeadAttribute))}
    assert result.frozen_attributes == ["a-1.lead_score"]
    assert stored["lead_score"].kind == "number" and stored["lead_score"].number == 42.0
    assert stored["vip"].kind == "bool" and stored["vip"].number == 1.0
    assert stored["segment"].text == "smb"
