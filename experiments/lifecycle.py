"""The lifecycle of a dispute: draft → registered → running → decided | stopped → archived.

* Drafts are editable; a party may add, change or remove only its own arms.
* Sign-offs bind a party to one exact draft (its SHA-256): editing the draft after a
  party signed means that party must sign again.
* Registration needs every required party's sign-off on the current draft, freezes the
  protocol as version 1 and stores the SHA-256 of its canonical JSON.
* A registered or running protocol changes only by amendment: a new version with a
  reason and an author; nothing is overwritten.

These functions change the session but never commit: the use cases in
``arbiter.disputes`` wrap each one in a transaction together with its audit event.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime

from sqlmodel import Session, col, select

from experiments.errors import (
    AlreadyExists,
    Forbidden,
    InvalidInput,
    LifecycleError,
    NotFound,
    Problem,
)
from experiments.protocol import Arm, Protocol, canonical_json, parse_protocol, protocol_hash
from experiments.tables import Experiment, ProtocolVersion, SignOff

__all__ = [
    "ALLOWED",
    "ASSIGNMENT_HASH_VERSION",
    "amend",
    "archive",
    "create_draft",
    "current_protocol",
    "edit_draft",
    "get_experiment",
    "list_experiments",
    "mark_decided",
    "missing_sign_offs",
    "propose_arm",
    "register",
    "remove_arm",
    "sign",
    "sign_offs",
    "start",
    "stop",
    "versions",
]

ASSIGNMENT_HASH_VERSION = 1

ALLOWED: dict[str, tuple[str, ...]] = {
    "draft": ("edit", "propose arms", "sign", "register"),
    "registered": ("amend", "start"),
    "running": ("amend", "run looks", "stop"),
    "decided": ("archive",),
    "stopped": ("archive",),
    "archived": (),
}


def _require(experiment: Experiment, action: str, *states: str) -> None:
    if experiment.status not in states:
        raise LifecycleError(experiment.id, action, experiment.status, ALLOWED[experiment.status])


def get_experiment(session: Session, experiment_id: str) -> Experiment:
    """The experiment with this id, or :class:`NotFound`."""
    experiment = session.get(Experiment, experiment_id)
    if experiment is None:
        raise NotFound("experiment", experiment_id)
    return experiment


def list_experiments(
    session: Session, *, status: str | None = None, after: str | None = None, limit: int = 100
) -> list[Experiment]:
    """Experiments ordered by id, optionally of one status, from the cursor ``after``."""
    query = select(Experiment).order_by(col(Experiment.id))
    if status is not None:
        query = query.where(Experiment.status == status)
    if after is not None:
        query = query.where(col(Experiment.id) > after)
    return list(session.exec(query.limit(limit)))


def versions(session: Session, experiment_id: str) -> list[ProtocolVersion]:
    """Every locked version of the protocol, oldest first."""
    query = (
        select(ProtocolVersion)
        .where(ProtocolVersion.experiment_id == experiment_id)
        .order_by(col(ProtocolVersion.version))
    )
    return list(session.exec(query))


def current_protocol(session: Session, experiment: Experiment) -> Protocol:
    """The draft of a draft experiment, otherwise its latest locked version."""
    if experiment.status == "draft":
        assert experiment.draft_json is not None
        return parse_protocol(json.loads(experiment.draft_json))
    latest = session.exec(
        select(ProtocolVersion)
        .where(ProtocolVersion.experiment_id == experiment.id)
        .where(ProtocolVersion.version == experiment.current_version)
    ).one()
    return parse_protocol(json.loads(latest.canonical_json))


def create_draft(
    session: Session, *, protocol: Protocol, author: str, now: datetime, salt: str | None = None
) -> Experiment:
    """Start a dispute as an editable draft with a fresh assignment salt (or ``salt``, for
    reproducible simulations)."""
    if session.get(Experiment, protocol.id) is not None:
        raise AlreadyExists(
            f"an experiment with id {protocol.id!r} exists already: choose another id, or "
            "amend that one."
        )
    experiment = Experiment(
        id=protocol.id,
        title=protocol.title,
        status="draft",
        draft_json=canonical_json(protocol),
        salt=salt or secrets.token_hex(16),
        hash_version=ASSIGNMENT_HASH_VERSION,
        created_by=author,
        created_at=now,
    )
    session.add(experiment)
    session.flush()
    return experiment


def _only_own_arms_changed(old: Protocol, new: Protocol, party: str) -> None:
    """Refuse a party's edit that touches anything but that party's arms."""
    problems: list[Problem] = []
    old_rest = old.model_dump(exclude={"arms"})
    new_rest = new.model_dump(exclude={"arms"})
    for field, value in old_rest.items():
        if new_rest.get(field) != value:
            problems.append(Problem(field, f"only the committee may change {field}"))
    theirs_old = {a.key: a for a in old.arms if a.party != party}
    theirs_new = {a.key: a for a in new.arms if a.party != party}
    if theirs_old != theirs_new:
        problems.append(Problem("arms", f"{party} may add, change or remove only its own arms"))
    if problems:
        raise Forbidden(
            f"{party} may edit only its own arms in the draft: "
            + "; ".join(str(p) for p in problems)
        )


def edit_draft(
    session: Session, *, experiment_id: str, protocol: Protocol, party: str | None = None
) -> Experiment:
    """Replace the draft; with ``party``, only that party's arms may differ."""
    experiment = get_experiment(session, experiment_id)
    _require(experiment, "edit", "draft")
    if protocol.id != experiment.id:
        raise InvalidInput(
            "the protocol id cannot change", [Problem("id", f"must stay {experiment.id!r}")]
        )
    if party is not None:
        _only_own_arms_changed(current_protocol(session, experiment), protocol, party)
    experiment.draft_json = canonical_json(protocol)
    experiment.title = protocol.title
    session.add(experiment)
    session.flush()
    return experiment


def propose_arm(session: Session, *, experiment_id: str, party: str, arm: Arm) -> Protocol:
    """Add one of ``party``'s arms to the draft (at the end) or replace it in place."""
    experiment = get_experiment(session, experiment_id)
    _require(experiment, "propose arms for", "draft")
    protocol = current_protocol(session, experiment)
    if arm.party != party:
        raise Forbidden(f"{party} cannot propose an arm owned by {arm.party}.")
    existing = next((a for a in protocol.arms if a.key == arm.key), None)
    if existing is not None and existing.party != party:
        raise Forbidden(f"arm {arm.key!r} belongs to {existing.party}; {party} cannot change it.")
    if existing is None:
        arms = [*protocol.arms, arm]
    else:  # replaced where it stands: the order of arms is part of the plan
        arms = [arm if a.key == arm.key else a for a in protocol.arms]
    updated = parse_protocol(
        {**protocol.model_dump(mode="json"), "arms": [a.model_dump(mode="json") for a in arms]}
    )
    edit_draft(session, experiment_id=experiment_id, protocol=updated, party=party)
    return updated


def remove_arm(session: Session, *, experiment_id: str, party: str, key: str) -> Protocol:
    """Remove one of ``party``'s arms from the draft."""
    experiment = get_experiment(session, experiment_id)
    _require(experiment, "remove arms from", "draft")
    protocol = current_protocol(session, experiment)
    existing = next((a for a in protocol.arms if a.key == key), None)
    if existing is None:
        raise NotFound("arm", key)
    if existing.party != party:
        raise Forbidden(f"arm {key!r} belongs to {existing.party}; {party} cannot remove it.")
    updated = parse_protocol(
        {
            **protocol.model_dump(mode="json"),
            "arms": [a.model_dump(mode="json") for a in protocol.arms if a.key != key],
        }
    )
    edit_draft(session, experiment_id=experiment_id, protocol=updated, party=party)
    return updated


def sign_offs(session: Session, experiment_id: str) -> list[SignOff]:
    """Every sign-off ever given for this experiment, oldest first."""
    query = select(SignOff).where(SignOff.experiment_id == experiment_id).order_by(col(SignOff.id))
    return list(session.exec(query))


def sign(
    session: Session, *, experiment_id: str, party: str, signed_by: str, now: datetime
) -> SignOff:
    """Record ``party``'s sign-off on the current draft."""
    experiment = get_experiment(session, experiment_id)
    _require(experiment, "sign", "draft")
    protocol = current_protocol(session, experiment)
    if party not in protocol.parties:
        raise InvalidInput(
            f"{party!r} is not a party to this dispute",
            [Problem("party", f"must be one of {', '.join(protocol.parties)}")],
        )
    record = SignOff(
        experiment_id=experiment_id,
        party=party,
        signed_by=signed_by,
        protocol_sha256=protocol_hash(protocol),
        signed_at=now,
    )
    session.add(record)
    session.flush()
    return record


def missing_sign_offs(session: Session, experiment: Experiment) -> list[str]:
    """Required parties that have not signed the current draft (in protocol order)."""
    protocol = current_protocol(session, experiment)
    digest = protocol_hash(protocol)
    signed = {s.party for s in sign_offs(session, experiment.id) if s.protocol_sha256 == digest}
    return [p for p in protocol.required_sign_offs if p not in signed]


def register(
    session: Session, *, experiment_id: str, author: str, now: datetime
) -> ProtocolVersion:
    """Lock the signed draft as version 1 of the protocol."""
    experiment = get_experiment(session, experiment_id)
    _require(experiment, "register", "draft")
    missing = missing_sign_offs(session, experiment)
    if missing:
        raise LifecycleError(
            experiment.id, "register", "draft", [f"sign (missing: {', '.join(missing)})"]
        )
    protocol = current_protocol(session, experiment)
    version = ProtocolVersion(
        experiment_id=experiment.id,
        version=1,
        canonical_json=canonical_json(protocol),
        sha256=protocol_hash(protocol),
        reason="registered plan",
        author=author,
        created_at=now,
    )
    experiment.status = "registered"
    experiment.current_version = 1
    experiment.registered_at = now
    experiment.draft_json = None
    session.add(version)
    session.add(experiment)
    session.flush()
    return version


def _amendment_problems(old: Protocol, new: Protocol, running: bool) -> list[Problem]:
    problems = []
    if new.id != old.id:
        problems.append(Problem("id", f"must stay {old.id!r}"))
    if running:
        if [(a.key, a.weight) for a in new.arms] != [(a.key, a.weight) for a in old.arms]:
            problems.append(
                Problem("arms", "arm keys and weights cannot change while leads are being assigned")
            )
        if new.currency != old.currency:
            problems.append(Problem("currency", "cannot change while deals are being attributed"))
    return problems


def amend(
    session: Session,
    *,
    experiment_id: str,
    protocol: Protocol,
    reason: str,
    author: str,
    now: datetime,
) -> ProtocolVersion:
    """Lock a new version of a registered or running protocol, with its reason."""
    experiment = get_experiment(session, experiment_id)
    _require(experiment, "amend", "registered", "running")
    if not reason.strip():
        raise InvalidInput("an amendment needs a reason", [Problem("reason", "is required")])
    old = current_protocol(session, experiment)
    problems = _amendment_problems(old, protocol, experiment.status == "running")
    if problems:
        raise InvalidInput("the amendment cannot be applied", problems)
    if protocol_hash(protocol) == protocol_hash(old):
        raise InvalidInput(
            "the amendment changes nothing", [Problem("", "identical to the current version")]
        )
    version = ProtocolVersion(
        experiment_id=experiment.id,
        version=experiment.current_version + 1,
        canonical_json=canonical_json(protocol),
        sha256=protocol_hash(protocol),
        reason=reason.strip(),
        author=author,
        created_at=now,
    )
    experiment.current_version = version.version
    experiment.title = protocol.title
    session.add(version)
    session.add(experiment)
    session.flush()
    return version


def start(session: Session, *, experiment_id: str, now: datetime) -> Experiment:
    """Open a registered dispute to assignments."""
    experiment = get_experiment(session, experiment_id)
    _require(experiment, "start", "registered")
    experiment.status = "running"
    experiment.started_at = now
    session.add(experiment)
    session.flush()
    return experiment


def stop(session: Session, *, experiment_id: str, reason: str, now: datetime) -> Experiment:
    """Stop a running dispute early, with the reason on record."""
    experiment = get_experiment(session, experiment_id)
    _require(experiment, "stop", "running")
    if not reason.strip():
        raise InvalidInput("stopping needs a reason", [Problem("reason", "is required")])
    experiment.status = "stopped"
    experiment.stopped_at = now
    experiment.stop_reason = reason.strip()
    session.add(experiment)
    session.flush()
    return experiment


def mark_decided(session: Session, *, experiment_id: str, now: datetime) -> Experiment:
    """Close a running dispute with a verdict (the verdict itself is stored by arbiter)."""
    experiment = get_experiment(session, experiment_id)
    _require(experiment, "decide", "running")
    experiment.status = "decided"
    experiment.decided_at = now
    session.add(experiment)
    session.flush()
    return experiment


def archive(session: Session, *, experiment_id: str, now: datetime) -> Experiment:
    """Archive a decided or stopped dispute."""
    experiment = get_experiment(session, experiment_id)
    _require(experiment, "archive", "decided", "stopped")
    experiment.status = "archived"
    experiment.archived_at = now
    session.add(experiment)
    session.flush()
    return experiment
