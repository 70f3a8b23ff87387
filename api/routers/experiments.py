"""Protocols and their lifecycle: drafts, arm proposals by teams, sign-offs,
registration, amendments, start, stop and archive."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from api.deps import ReadSession, WriteSession, require
from api.schemas import (
    PROBLEM_RESPONSES,
    AmendmentIn,
    Document,
    ExperimentSummary,
    Page,
    ReasonIn,
    SignOffIn,
)
from arbiter import disputes
from arbiter.keys import Principal
from experiments import lifecycle
from experiments.errors import Forbidden, InvalidInput, Problem
from experiments.protocol import Arm, parse_protocol

router = APIRouter(prefix="/v1/experiments", tags=["experiments"], responses=PROBLEM_RESPONSES)
Committee = Annotated[Principal, Depends(require())]
Team = Annotated[Principal, Depends(require("team"))]
Reader = Annotated[Principal, Depends(require("team", "analyst"))]


def _changed(request: Request, experiment_id: str) -> None:
    """Drop the cached status of a dispute whose state or protocol just changed."""
    request.app.state.status_cache.drop(experiment_id)


def _own_party(who: Principal, party: str) -> None:
    if who.role == "team" and who.party != party:
        raise Forbidden(f"this key speaks for {who.party}; it cannot act for {party}.")


@router.post("", status_code=201, summary="Write a dispute down as a draft")
def create_draft(body: Document, session: WriteSession, who: Committee) -> Document:
    """The body is a protocol (the same document as a protocol file, in JSON); every
    validation problem is listed at once."""
    protocol = parse_protocol(body)
    disputes.draft_dispute(session, protocol=protocol, actor=who.actor)
    return disputes.dispute_document(session, protocol.id)


@router.get("", summary="List disputes")
def list_experiments(
    session: ReadSession,
    who: Reader,
    status: str | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[ExperimentSummary]:
    rows = lifecycle.list_experiments(session, status=status, after=cursor, limit=limit + 1)
    items = [
        ExperimentSummary(
            id=e.id, title=e.title, status=e.status, protocol_version=e.current_version
        )
        for e in rows[:limit]
    ]
    return Page(items=items, next_cursor=items[-1].id if len(rows) > limit else None)


@router.get("/{experiment_id}", summary="One dispute: state, locked protocol, history")
def show(experiment_id: str, session: ReadSession, who: Reader) -> Document:
    return disputes.dispute_document(session, experiment_id)


@router.put("/{experiment_id}/draft", summary="Replace the draft (teams: only their arms)")
def edit_draft(experiment_id: str, body: Document, session: WriteSession, who: Team) -> Document:
    party = who.party if who.role == "team" else None
    disputes.edit_draft(
        session,
        experiment_id=experiment_id,
        protocol=parse_protocol(body),
        actor=who.actor,
        party=party,
    )
    return disputes.dispute_document(session, experiment_id)


@router.put("/{experiment_id}/arms/{key}", summary="Propose or change an arm of one's party")
def propose_arm(
    experiment_id: str, key: str, body: Arm, session: WriteSession, who: Team
) -> Document:
    if body.key != key:
        raise InvalidInput(
            "the arm key in the path and the body differ", [Problem("key", f"must be {key!r}")]
        )
    _own_party(who, body.party)
    disputes.propose_arm(
        session, experiment_id=experiment_id, party=body.party, arm=body, actor=who.actor
    )
    return disputes.dispute_document(session, experiment_id)


@router.delete("/{experiment_id}/arms/{key}", summary="Withdraw an arm of one's party")
def remove_arm(experiment_id: str, key: str, session: WriteSession, who: Team) -> Document:
    protocol = lifecycle.current_protocol(session, lifecycle.get_experiment(session, experiment_id))
    arm = next((a for a in protocol.arms if a.key == key), None)
    party = who.party if who.role == "team" else (arm.party if arm else "")
    disputes.remove_arm(
        session, experiment_id=experiment_id, party=party or "", key=key, actor=who.actor
    )
    return disputes.dispute_document(session, experiment_id)


@router.post("/{experiment_id}/sign-offs", summary="Sign the current draft for a party")
def sign(experiment_id: str, body: SignOffIn, session: WriteSession, who: Team) -> Document:
    _own_party(who, body.party)
    disputes.sign_dispute(session, experiment_id=experiment_id, party=body.party, actor=who.actor)
    return disputes.dispute_document(session, experiment_id)


@router.post("/{experiment_id}/register", summary="Lock the signed draft as version 1")
def register(experiment_id: str, session: WriteSession, who: Committee) -> Document:
    disputes.register_dispute(session, experiment_id=experiment_id, actor=who.actor)
    return disputes.dispute_document(session, experiment_id)


@router.post("/{experiment_id}/amendments", summary="Lock a new version, with its reason")
def amend(
    experiment_id: str, request: Request, body: AmendmentIn, session: WriteSession, who: Committee
) -> Document:
    disputes.amend_dispute(
        session,
        experiment_id=experiment_id,
        protocol=parse_protocol(body.protocol),
        reason=body.reason,
        actor=who.actor,
    )
    _changed(request, experiment_id)
    return disputes.dispute_document(session, experiment_id)


@router.post("/{experiment_id}/start", summary="Open the dispute to assignments")
def start(experiment_id: str, request: Request, session: WriteSession, who: Committee) -> Document:
    disputes.start_dispute(session, experiment_id=experiment_id, actor=who.actor)
    _changed(request, experiment_id)
    return disputes.dispute_document(session, experiment_id)


@router.post("/{experiment_id}/stop", summary="Stop a running dispute, with the reason")
def stop(
    experiment_id: str, request: Request, body: ReasonIn, session: WriteSession, who: Committee
) -> Document:
    disputes.stop_dispute(session, experiment_id=experiment_id, reason=body.reason, actor=who.actor)
    _changed(request, experiment_id)
    return disputes.dispute_document(session, experiment_id)


@router.post("/{experiment_id}/archive", summary="Archive a decided or stopped dispute")
def archive(
    experiment_id: str, request: Request, session: WriteSession, who: Committee
) -> Document:
    disputes.archive_dispute(session, experiment_id=experiment_id, actor=who.actor)
    _changed(request, experiment_id)
    return disputes.dispute_document(session, experiment_id)
