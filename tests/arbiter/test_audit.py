"""The audit chain: every lifecycle step appends an event, and editing, deleting,
inserting or reordering events directly in the database is detected and named."""

from sqlalchemy import text

from arbiter import audit, disputes
from arbiter.db import read_session, write_session
from experiments.protocol import parse_protocol
from tests.factories import protocol_data


def build_history(engine):
    with write_session(engine) as s:
        disputes.register_protocol(
            s, protocol=parse_protocol(protocol_data()), actor="c", sign_as=["marketing", "sales"]
        )
        disputes.start_dispute(s, experiment_id="webinar-vs-cold-call", actor="c")
        disputes.stop_dispute(s, experiment_id="webinar-vs-cold-call", reason="r", actor="c")


def report(engine, **kwargs):
    with read_session(engine) as s:
        return audit.verify(s, **kwargs)


def test_lifecycle_steps_are_chained_events(engine):
    build_history(engine)
    with read_session(engine) as s:
        actions = [row[0] for row in s.execute(text("SELECT action FROM audit_event ORDER BY seq"))]
    assert actions == ["draft", "sign", "sign", "register", "start", "stop"]
    result = report(engine)
    assert result.ok
    assert result.events == 6
    assert len(result.head_hash) == 64


def test_an_edited_event_is_named(engine):
    build_history(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET actor = 'mallory' WHERE seq = 3"))
    result = report(engine)
    assert not result.ok
    assert any("event 3 (sign webinar-vs-cold-call) was edited" in p for p in result.problems)


def test_a_deleted_event_is_named(engine):
    build_history(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_event WHERE seq = 4"))
    problems = report(engine).problems
    assert any("events 4..4 are missing" in p for p in problems)
    assert any("event 5" in p and "does not follow" in p for p in problems)


def test_an_inserted_event_is_named(engine):
    build_history(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET seq = seq + 100 WHERE seq >= 3"))
        conn.execute(text("UPDATE audit_event SET seq = seq - 99 WHERE seq >= 100"))
        conn.execute(
            text(
                "INSERT INTO audit_event "
                "(seq, at, actor, action, subject, payload, prev_hash, hash) "
                "SELECT 3, at, 'mallory', 'sign', subject, payload, hash, "
                # a forged hash: the real one with its first digit changed (one real hash
                # in sixteen already starts with 'f', so the change must depend on it)
                "CASE WHEN substr(hash, 1, 1) = 'f' THEN 'e' ELSE 'f' END || substr(hash, 2) "
                "FROM audit_event WHERE seq = 2"
            )
        )
    problems = report(engine).problems
    assert any(p.startswith("event 3 (sign") and "edited" in p for p in problems)
    assert any(p.startswith("event 4") and "does not follow" in p for p in problems)


def test_reordered_events_are_named(engine):
    build_history(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET seq = 100 WHERE seq = 5"))
        conn.execute(text("UPDATE audit_event SET seq = 5 WHERE seq = 6"))
        conn.execute(text("UPDATE audit_event SET seq = 6 WHERE seq = 100"))
    problems = report(engine).problems
    assert any("event 5" in p for p in problems)
    assert any("event 6" in p for p in problems)


def test_truncation_is_caught_by_a_recorded_anchor(engine):
    build_history(engine)
    anchor = report(engine).head_hash
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_event WHERE seq = 6"))
    assert report(engine).ok  # the shortened chain is self-consistent ...
    assert not report(engine, anchors=[anchor]).ok  # ... but the recorded head is gone
