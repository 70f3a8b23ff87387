"""The committee end to end on simulated disputes where the truth is known: a real
difference gives the right winner, no difference gives no false winner, a broken
randomisation is halted, a guardrail harm is escalated, the maximum sample gives a final
verdict; the decision record recomputes from itself alone and detects tampering; the
audit chain holds; the scoreboard and the report reflect the verdicts."""

import copy
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from arbiter import audit, disputes
from arbiter.db import read_session, write_session
from arbiter.looks import list_looks, run_due_looks, run_look
from arbiter.records import export_document, verify_record
from arbiter.report import render_report
from arbiter.scoreboard import scoreboard
from arbiter.simulation import ArmTruth, Scenario, Simulation
from arbiter.tables import DecisionRecord
from experiments.errors import LifecycleError
from experiments.protocol import parse_protocol
from tests.factories import protocol_data

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday
EXP = "webinar-vs-cold-call"
CONVERSION = {"name": "deal conversion", "kind": "conversion", "window_days": 21}


def start(engine, **changes):
    base = {
        "primary": CONVERSION,
        "mde": {"value": 0.05, "kind": "absolute"},
        "guardrails": [],
        "limits": {"max_sample": 2400, "min_duration_days": 14},
    }
    base.update(changes)
    with write_session(engine) as s:
        disputes.register_protocol(
            s,
            protocol=parse_protocol(protocol_data(**base)),
            actor="c",
            sign_as=["marketing", "sales"],
            now=T0,
            salt="fixed-test-salt",
        )
        disputes.start_dispute(s, experiment_id=EXP, actor="c", now=T0)


def play(engine, scenario, days=140):
    """Simulate day by day and look weekly until a verdict; returns the last look."""
    sim = Simulation(engine, EXP, scenario, T0)
    outcome = None
    for day in range(days):
        sim.day(day)
        if day % 7 == 6:
            outcome = run_look(engine, EXP, actor="committee", now=T0 + timedelta(days=day + 1))
            if outcome.record is not None:
                return outcome
    return outcome


def test_a_real_difference_names_the_right_winner_and_the_record_recomputes(engine):
    start(engine)
    outcome = play(
        engine,
        Scenario(
            {"webinar": ArmTruth(0.10), "cold-call": ArmTruth(0.20)}, leads_per_weekday=60, seed=1
        ),
    )
    assert outcome.record is not None
    assert (outcome.record.verdict, outcome.record.winner_arm) == ("winner", "cold-call")
    assert outcome.record.winner_party == "sales"
    assert "sales' cold-call follow-up brought +" in outcome.rationale["en"]
    assert "pp deal conversion" in outcome.rationale["en"]
    with read_session(engine) as s:
        row = s.exec(select(DecisionRecord)).one()
        experiment_status = disputes.dispute_document(s, EXP)["status"]
        chain = audit.verify(s, anchors=[row.audit_head])
    assert experiment_status == "decided"
    assert chain.ok and chain.events >= 6
    document = export_document(row)
    report = verify_record(json.loads(json.dumps(document)))
    assert report.ok, report.problems
    assert (report.verdict, report.winner) == ("winner", "cold-call")
    assert report.looks_checked == outcome.look.number


def test_the_record_detects_tampering(engine):
    start(engine)
    play(
        engine,
        Scenario(
            {"webinar": ArmTruth(0.10), "cold-call": ArmTruth(0.20)}, leads_per_weekday=60, seed=1
        ),
    )
    with read_session(engine) as s:
        document = export_document(s.exec(select(DecisionRecord)).one())
    edited = copy.deepcopy(document)
    last = edited["record"]["looks"][-1]["input"]["primary"]["arms"]["webinar"]
    last["count"] += 40  # pretend marketing converted more
    report = verify_record(edited)
    assert not report.ok
    assert any("SHA-256" in p for p in report.problems)
    assert any("snapshot hash" in p for p in report.problems)
    forged = copy.deepcopy(document)
    forged["record"]["verdict"]["winner_arm"] = "webinar"
    forged.pop("record_sha256")
    assert any("winner" in p for p in verify_record(forged).problems)


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_no_difference_gives_no_false_winner(sqlite_url, seed):
    from arbiter.db import create_db_engine, upgrade_schema
    from tests.conftest import settings_for

    engine = create_db_engine(sqlite_url, settings_for(sqlite_url))
    upgrade_schema(engine)
    start(engine)
    outcome = play(
        engine,
        Scenario(
            {"webinar": ArmTruth(0.15), "cold-call": ArmTruth(0.15)},
            leads_per_weekday=60,
            seed=seed,
        ),
    )
    assert outcome.record is not None
    assert outcome.record.verdict in ("no_meaningful_difference", "inconclusive")
    assert outcome.record.winner_arm is None
    engine.dispose()


def test_a_broken_randomisation_is_halted(engine):
    start(engine)
    outcome = play(
        engine,
        Scenario(
            {"webinar": ArmTruth(0.10), "cold-call": ArmTruth(0.20)},
            leads_per_weekday=60,
            drop_share={"cold-call": 0.3},
            seed=2,
        ),
    )
    assert outcome.record is not None
    assert (outcome.record.verdict, outcome.record.rule) == ("halted", "sample_ratio_mismatch")
    assert "Randomisation looks broken" in outcome.rationale["en"]


def test_a_guardrail_harm_is_escalated(engine):
    start(
        engine,
        primary={"name": "revenue per lead", "kind": "revenue_per_lead", "window_days": 21},
        mde={"value": 0.25, "kind": "relative"},
        guardrails=[
            {"name": "deal conversion", "kind": "conversion", "window_days": 21, "margin": 0.02}
        ],
    )
    outcome = play(
        engine,
        Scenario(
            {
                "webinar": ArmTruth(0.20, median_amount=4000),
                "cold-call": ArmTruth(0.08, median_amount=40000),
            },
            leads_per_weekday=60,
            seed=3,
        ),
    )
    assert outcome.record is not None
    assert (outcome.record.verdict, outcome.record.winner_arm) == ("escalated", "cold-call")
    harmed = [g for g in json.loads(outcome.look.data)["decision"]["guardrails"] if g["harm"]]
    assert harmed and harmed[0]["metric"] == "deal conversion"


def test_the_maximum_sample_ends_the_dispute(sqlite_url):
    from arbiter.db import create_db_engine, upgrade_schema
    from tests.conftest import settings_for

    engine = create_db_engine(sqlite_url, settings_for(sqlite_url))
    upgrade_schema(engine)
    start(engine, design={"futility": "none"}, limits={"max_sample": 800, "min_duration_days": 14})
    outcome = play(
        engine,
        Scenario(
            {"webinar": ArmTruth(0.15), "cold-call": ArmTruth(0.17)}, leads_per_weekday=60, seed=4
        ),
    )
    decision = outcome.decision
    assert decision.final and outcome.look.information_fraction >= 1.0
    assert outcome.record.verdict == "inconclusive"
    assert outcome.record.rule == "maximum_reached"
    assert "maximum sample was reached" in outcome.rationale["en"]
    engine.dispose()


def test_looks_need_a_running_dispute(engine):
    start(engine)
    with write_session(engine) as s:
        disputes.stop_dispute(s, experiment_id=EXP, reason="x", actor="c", now=T0)
    with pytest.raises(LifecycleError, match="it is stopped"):
        run_look(engine, EXP, actor="c", now=T0 + timedelta(days=1))
    assert run_due_looks(engine, actor="cron", now=T0 + timedelta(days=30)) == []


def test_run_due_runs_weekly_looks(engine):
    start(engine)
    assert run_due_looks(engine, actor="cron", now=T0 + timedelta(days=3)) == []
    first = run_due_looks(engine, actor="cron", now=T0 + timedelta(days=7))
    assert [o.look.number for o in first] == [1]
    assert run_due_looks(engine, actor="cron", now=T0 + timedelta(days=10)) == []
    assert len(run_due_looks(engine, actor="cron", now=T0 + timedelta(days=14))) == 1
    with read_session(engine) as s:
        assert [look["look"] for look in list_looks(s, EXP)] == [1, 2]


def test_scoreboard_and_report_reflect_the_verdict(engine):
    start(engine)
    play(
        engine,
        Scenario(
            {"webinar": ArmTruth(0.10), "cold-call": ArmTruth(0.20)}, leads_per_weekday=60, seed=1
        ),
    )
    with read_session(engine) as s:
        board = {row["party"]: row for row in scoreboard(s)}
        html = render_report(s, EXP)
    assert board["sales"]["wins"] == 1 and board["marketing"]["losses"] == 1
    assert board["sales"]["adopted"][0]["text"].startswith("+")
    assert "<svg" in html and "efficacy boundary" in html
    assert "cold-call follow-up" in html and "http" not in html.split("<svg")[0].lower().replace(
        "http-equiv", ""
    )
