"""Use cases of a dispute's lifecycle, shared by the CLI and the HTTP API.

Each function performs one domain action from :mod:`experiments.lifecycle` and appends
its audit event in the same transaction: the caller passes a write session and commits.
:func:`dispute_document` is the one read model of a dispute (``show --json`` and
``GET /experiments/{id}`` print exactly it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from arbiter import audit
from experiments import lifecycle
from experiments.clock import utcnow
from experiments.errors import AlreadyExists
from experiments.protocol import Arm, Protocol, protocol_hash
from experiments.tables import Experiment, ProtocolVersion

__all__ = [
    "Registration",
    "amend_dispute",
    "archive_dispute",
    "dispute_document",
    "draft_dispute",
    "edit_draft",
    "propose_arm",
    "register_dispute",
    "register_protocol",
    "remove_arm",
    "sign_dispute",
    "start_dispute",
    "stop_dispute",
]


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def draft_dispute(
    session: Session,
    *,
    protocol: Protocol,
    actor: str,
    now: datetime | None = None,
    salt: str | None = None,
) -> Experiment:
    """Write a dispute down as an editable draft."""
    now = now or utcnow()
    experiment = lifecycle.create_draft(
        session, protocol=protocol, author=actor, now=now, salt=salt
    )
    audit.append(
        session,
        actor=actor,
        action="draft",
        subject=experiment.id,
        at=now,
        payload={"sha256": protocol_hash(protocol)},
    )
    return experiment


def edit_draft(
    session: Session,
    *,
    experiment_id: str,
    protocol: Protocol,
    actor: str,
    party: str | None = None,
    now: datetime | None = None,
) -> Experiment:
    """Replace the draft (a team's ``party`` may change only its own arms)."""
    experiment = lifecycle.edit_draft(
        session, experiment_id=experiment_id, protocol=protocol, party=party
    )
    audit.append(
        session,
        actor=actor,
        action="edit draft",
        subject=experiment_id,
        at=now,
        payload={"sha256": protocol_hash(protocol), "party": party},
    )
    return experiment


def propose_arm(
    session: Session,
    *,
    experiment_id: str,
    party: str,
    arm: Arm,
    actor: str,
    now: datetime | None = None,
) -> Protocol:
    """A team adds or changes one of its own arms in the draft."""
    protocol = lifecycle.propose_arm(session, experiment_id=experiment_id, party=party, arm=arm)
    audit.append(
        session,
        actor=actor,
        action="propose arm",
        subject=experiment_id,
        at=now,
        payload={"party": party, "arm": arm.key, "sha256": protocol_hash(protocol)},
    )
    return protocol


def remove_arm(
    session: Session,
    *,
    experiment_id: str,
    party: str,
    key: str,
    actor: str,
    now: datetime | None = None,
) -> Protocol:
    """A team withdraws one of its own arms from the draft."""
    protocol = lifecycle.remove_arm(session, experiment_id=experiment_id, party=party, key=key)
    audit.append(
        session,
        actor=actor,
        action="remove arm",
        subject=experiment_id,
        at=now,
        payload={"party": party, "arm": key, "sha256": protocol_hash(protocol)},
    )
    return protocol


def sign_dispute(
    session: Session, *, experiment_id: str, party: str, actor: str, now: datetime | None = None
) -> list[str]:
    """Record ``party``'s sign-off on the current draft; returns the parties still missing."""
    now = now or utcnow()
    record = lifecycle.sign(
        session, experiment_id=experiment_id, party=party, signed_by=actor, now=now
    )
    audit.append(
        session,
        actor=actor,
        action="sign",
        subject=experiment_id,
        at=now,
        payload={"party": party, "sha256": record.protocol_sha256},
    )
    return lifecycle.missing_sign_offs(session, lifecycle.get_experiment(session, experiment_id))


def register_dispute(
    session: Session, *, experiment_id: str, actor: str, now: datetime | None = None
) -> ProtocolVersion:
    """Lock the signed draft as version 1."""
    now = now or utcnow()
    version = lifecycle.register(session, experiment_id=experiment_id, author=actor, now=now)
    audit.append(
        session,
        actor=actor,
        action="register",
        subject=experiment_id,
        at=now,
        payload={"version": 1, "sha256": version.sha256},
    )
    return version


@dataclass(frozen=True, slots=True)
class Registration:
    """Outcome of :func:`register_protocol`: the version if it registered, else who is missing."""

    experiment: Experiment
    version: ProtocolVersion | None
    missing: list[str]


def register_protocol(
    session: Session,
    *,
    protocol: Protocol,
    actor: str,
    sign_as: list[str] | None = None,
    now: datetime | None = None,
    salt: str | None = None,
) -> Registration:
    """Create (or refresh) the draft from a protocol file, record the sign-offs the
    committee attests to, and register when every required party has signed."""
    now = now or utcnow()
    existing = session.get(Experiment, protocol.id)
    if existing is None:
        draft_dispute(session, protocol=protocol, actor=actor, now=now, salt=salt)
    elif existing.status != "draft":
        raise AlreadyExists(
            f"experiment {protocol.id!r} is {existing.status} already; change it with "
            f"`arbiter experiments amend {protocol.id} FILE --reason TEXT`."
        )
    elif existing.draft_json is None or protocol_hash(protocol) != protocol_hash(
        lifecycle.current_protocol(session, existing)
    ):
        edit_draft(session, experiment_id=protocol.id, protocol=protocol, actor=actor, now=now)
    for party in sign_as or []:
        sign_dispute(session, experiment_id=protocol.id, party=party, actor=actor, now=now)
    experiment = lifecycle.get_experiment(session, protocol.id)
    missing = lifecycle.missing_sign_offs(session, experiment)
    if missing:
        return Registration(experiment, None, missing)
    version = register_dispute(session, experiment_id=protocol.id, actor=actor, now=now)
    return Registration(experiment, version, [])


def amend_dispute(
    session: Session,
    *,
    experiment_id: str,
    protocol: Protocol,
    reason: str,
    actor: str,
    now: datetime | None = None,
) -> ProtocolVersion:
    """Lock a new version with its reason; nothing earlier is overwritten."""
    now = now or utcnow()
    version = lifecycle.amend(
        session,
        experiment_id=experiment_id,
        protocol=protocol,
        reason=reason,
        author=actor,
        now=now,
    )
    audit.append(
        session,
        actor=actor,
        action="amend",
        subject=experiment_id,
        at=now,
        payload={"version": version.version, "sha256": version.sha256, "reason": version.reason},
    )
    return version


def start_dispute(
    session: Session, *, experiment_id: str, actor: str, now: datetime | None = None
) -> Experiment:
    """Open the registered dispute to assignments."""
    now = now or utcnow()
    experiment = lifecycle.start(session, experiment_id=experiment_id, now=now)
    audit.append(session, actor=actor, action="start", subject=experiment_id, at=now)
    return experiment


def stop_dispute(
    session: Session, *, experiment_id: str, reason: str, actor: str, now: datetime | None = None
) -> Experiment:
    """Stop a running dispute early, with its reason."""
    now = now or utcnow()
    experiment = lifecycle.stop(session, experiment_id=experiment_id, reason=reason, now=now)
    audit.append(
        session,
        actor=actor,
        action="stop",
        subject=experiment_id,
        at=now,
        payload={"reason": experiment.stop_reason},
    )
    return experiment


def archive_dispute(
    session: Session, *, experiment_id: str, actor: str, now: datetime | None = None
) -> Experiment:
    """Archive a decided or stopped dispute."""
    now = now or utcnow()
    experiment = lifecycle.archive(session, experiment_id=experiment_id, now=now)
    audit.append(session, actor=actor, action="archive", subject=experiment_id, at=now)
    return experiment


def dispute_document(session: Session, experiment_id: str) -> dict[str, Any]:
    """Everything about one dispute: state, the protocol in force and its hash, every
    version with its reason, and the sign-offs."""
    experiment = lifecycle.get_experiment(session, experiment_id)
    protocol = lifecycle.current_protocol(session, experiment)
    history = lifecycle.versions(session, experiment_id)
    signed = lifecycle.sign_offs(session, experiment_id)
    digest = protocol_hash(protocol)
    return {
        "id": experiment.id,
        "title": experiment.title,
        "status": experiment.status,
        "locked": experiment.status != "draft",
        "protocol_version": experiment.current_version,
        "protocol_sha256": digest,
        "protocol": json.loads(protocol.model_dump_json()),
        "hash_version": experiment.hash_version,
        "timestamps": {
            "created": _iso(experiment.created_at),
            "registered": _iso(experiment.registered_at),
            "started": _iso(experiment.started_at),
            "stopped": _iso(experiment.stopped_at),
            "decided": _iso(experiment.decided_at),
            "archived": _iso(experiment.archived_at),
        },
        "stop_reason": experiment.stop_reason,
        "versions": [
            {
                "version": v.version,
                "sha256": v.sha256,
                "reason": v.reason,
                "author": v.author,
                "created": _iso(v.created_at),
            }
            for v in history
        ],
        "sign_offs": [
            {
                "party": s.party,
                "signed_by": s.signed_by,
                "sha256": s.protocol_sha256,
                "current": s.protocol_sha256 == (history[0].sha256 if history else digest),
                "signed": _iso(s.signed_at),
            }
            for s in signed
        ],
        "missing_sign_offs": (
            lifecycle.missing_sign_offs(session, experiment) if experiment.status == "draft" else []
        ),
        "allowed_actions": list(lifecycle.ALLOWED[experiment.status]),
    }
