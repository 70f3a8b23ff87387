"""The lifecycle: allowed and refused transitions, sign-offs bound to one draft, party
ownership of arms, and amendments that never overwrite."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from arbiter import disputes
from arbiter.db import write_session
from experiments import lifecycle
from experiments.errors import (
    AlreadyExists,
    Forbidden,
    InvalidInput,
    LifecycleError,
    NotFound,
)
from experiments.protocol import Arm, parse_protocol, protocol_hash
from tests.factories import protocol_data

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def draft(session: Session, **changes):
    return disputes.draft_dispute(
        session, protocol=parse_protocol(protocol_data(**changes)), actor="committee", now=T0
    )


def register(session: Session):
    draft(session)
    for party in ("marketing", "sales"):
        disputes.sign_dispute(
            session,
            experiment_id="webinar-vs-cold-call",
            party=party,
            actor=f"{party}-lead",
            now=T0,
        )
    return disputes.register_dispute(
        session, experiment_id="webinar-vs-cold-call", actor="committee", now=T0
    )


def test_full_happy_path(engine):
    with write_session(engine) as s:
        version = register(s)
        assert version.version == 1
        assert len(version.sha256) == 64
        disputes.start_dispute(s, experiment_id="webinar-vs-cold-call", actor="c", now=T0)
        disputes.stop_dispute(
            s,
            experiment_id="webinar-vs-cold-call",
            reason="budget cut",
            actor="c",
            now=T0 + timedelta(days=3),
        )
        experiment = disputes.archive_dispute(s, experiment_id="webinar-vs-cold-call", actor="c")
    assert experiment.status == "archived"
    assert experiment.stop_reason == "budget cut"


def test_registration_needs_every_party_on_the_current_draft(engine):
    with write_session(engine) as s:
        draft(s)
        disputes.sign_dispute(s, experiment_id="webinar-vs-cold-call", party="marketing", actor="m")
        with pytest.raises(LifecycleError, match="missing: sales"):
            disputes.register_dispute(s, experiment_id="webinar-vs-cold-call", actor="c")


def test_editing_the_draft_invalidates_earlier_sign_offs(engine):
    with write_session(engine) as s:
        draft(s)
        for party in ("marketing", "sales"):
            disputes.sign_dispute(s, experiment_id="webinar-vs-cold-call", party=party, actor=party)
        disputes.edit_draft(
            s,
            experiment_id="webinar-vs-cold-call",
            protocol=parse_protocol(protocol_data(alpha=0.04)),
            actor="c",
        )
        experiment = lifecycle.get_experiment(s, "webinar-vs-cold-call")
        assert lifecycle.missing_sign_offs(s, experiment) == ["marketing", "sales"]


@pytest.mark.parametrize(
    ("action", "status_fragment"),
    [
        (
            lambda s: disputes.start_dispute(s, experiment_id="webinar-vs-cold-call", actor="c"),
            "it is draft; from draft you can: edit, propose arms, sign, register",
        ),
        (
            lambda s: disputes.stop_dispute(
                s, experiment_id="webinar-vs-cold-call", reason="x", actor="c"
            ),
            "it is draft",
        ),
        (
            lambda s: disputes.archive_dispute(s, experiment_id="webinar-vs-cold-call", actor="c"),
            "it is draft",
        ),
        (
            lambda s: disputes.amend_dispute(
                s,
                experiment_id="webinar-vs-cold-call",
                reason="x",
                actor="c",
                protocol=parse_protocol(protocol_data(alpha=0.01)),
            ),
            "it is draft",
        ),
    ],
)
def test_transitions_not_allowed_from_draft_say_what_is_allowed(engine, action, status_fragment):
    with write_session(engine) as s:
        draft(s)
        with pytest.raises(LifecycleError) as info:
            action(s)
    assert status_fragment in info.value.detail


def test_a_registered_protocol_cannot_be_edited_or_signed(engine):
    with write_session(engine) as s:
        register(s)
        with pytest.raises(
            LifecycleError, match="it is registered; from registered you can: amend, start"
        ):
            disputes.edit_draft(
                s,
                experiment_id="webinar-vs-cold-call",
                protocol=parse_protocol(protocol_data(alpha=0.01)),
                actor="c",
            )
        with pytest.raises(LifecycleError, match="cannot sign"):
            disputes.sign_dispute(s, experiment_id="webinar-vs-cold-call", party="sales", actor="s")


def test_amendments_add_versions_and_keep_history(engine):
    with write_session(engine) as s:
        first = register(s)
        second = disputes.amend_dispute(
            s,
            experiment_id="webinar-vs-cold-call",
            reason="extend to 26 weeks",
            actor="c",
            protocol=parse_protocol(protocol_data(limits={"max_sample": 14000})),
        )
        history = lifecycle.versions(s, "webinar-vs-cold-call")
        document = disputes.dispute_document(s, "webinar-vs-cold-call")
    assert [v.version for v in history] == [1, 2]
    assert history[0].sha256 == first.sha256 != second.sha256
    assert document["protocol_version"] == 2
    assert document["protocol"]["limits"]["max_sample"] == 14000
    assert [v["reason"] for v in document["versions"]] == ["registered plan", "extend to 26 weeks"]


def test_running_amendment_cannot_touch_arms_or_currency(engine):
    with write_session(engine) as s:
        register(s)
        disputes.start_dispute(s, experiment_id="webinar-vs-cold-call", actor="c")
        changed = protocol_data(currency="EUR")
        changed["arms"][0]["weight"] = 3
        with pytest.raises(InvalidInput) as info:
            disputes.amend_dispute(
                s,
                experiment_id="webinar-vs-cold-call",
                reason="r",
                actor="c",
                protocol=parse_protocol(changed),
            )
    assert {p.field for p in info.value.problems} == {"arms", "currency"}


def test_amendment_needs_a_reason_and_a_change(engine):
    with write_session(engine) as s:
        register(s)
        with pytest.raises(InvalidInput, match="reason"):
            disputes.amend_dispute(
                s,
                experiment_id="webinar-vs-cold-call",
                reason=" ",
                actor="c",
                protocol=parse_protocol(protocol_data(alpha=0.01)),
            )
        with pytest.raises(InvalidInput, match="changes nothing"):
            disputes.amend_dispute(
                s,
                experiment_id="webinar-vs-cold-call",
                reason="r",
                actor="c",
                protocol=parse_protocol(protocol_data()),
            )


def test_a_party_changes_only_its_own_arms(engine):
    with write_session(engine) as s:
        draft(s)
        mine = Arm(key="webinar", name="webinar + case study", party="marketing", weight=1)
        updated = disputes.propose_arm(
            s, experiment_id="webinar-vs-cold-call", party="marketing", arm=mine, actor="m"
        )
        assert updated.arm("webinar").name == "webinar + case study"
        assert [a.key for a in updated.arms] == ["webinar", "cold-call"]  # replaced in place
        theirs = Arm(key="cold-call", name="no call", party="sales", weight=1)
        with pytest.raises(Forbidden, match="cannot propose an arm owned by sales"):
            disputes.propose_arm(
                s, experiment_id="webinar-vs-cold-call", party="marketing", arm=theirs, actor="m"
            )
        hijack = Arm(key="cold-call", name="hijacked", party="marketing", weight=1)
        with pytest.raises(Forbidden, match="belongs to sales"):
            disputes.propose_arm(
                s, experiment_id="webinar-vs-cold-call", party="marketing", arm=hijack, actor="m"
            )
        with pytest.raises(Forbidden, match="only the committee may change alpha"):
            disputes.edit_draft(
                s,
                experiment_id="webinar-vs-cold-call",
                actor="m",
                party="marketing",
                protocol=parse_protocol(protocol_data(alpha=0.2)),
            )
        extra = Arm(key="email", name="e-mail drip", party="marketing", weight=1)
        disputes.propose_arm(
            s, experiment_id="webinar-vs-cold-call", party="marketing", arm=extra, actor="m"
        )
        with pytest.raises(Forbidden):
            disputes.remove_arm(
                s, experiment_id="webinar-vs-cold-call", party="sales", key="email", actor="s"
            )
        final = disputes.remove_arm(
            s, experiment_id="webinar-vs-cold-call", party="marketing", key="email", actor="m"
        )
    assert [a.key for a in final.arms] == ["webinar", "cold-call"]


def test_duplicate_and_unknown_experiments(engine):
    with write_session(engine) as s:
        draft(s)
        with pytest.raises(AlreadyExists):
            draft(s)
        with pytest.raises(NotFound):
            lifecycle.get_experiment(s, "nope")


def test_registration_locks_the_exact_draft_hash(engine):
    with write_session(engine) as s:
        version = register(s)
    assert version.sha256 == protocol_hash(parse_protocol(protocol_data()))
