"""Results: live status, look history, running a look, decision records, exports, the
scoreboard, the HTML report and audit verification. Teams see interim effects only when
the protocol unblinds them (:mod:`arbiter.visibility`)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from api.deps import EngineDep, ReadSession, require
from api.schemas import PROBLEM_RESPONSES, AuditOut, Cursor, Document, LookOut, Page
from arbiter import audit
from arbiter.db import read_session
from arbiter.exports import decisions_csv, looks_csv
from arbiter.keys import Principal
from arbiter.looks import list_looks, run_look
from arbiter.records import export_document
from arbiter.report import render_report
from arbiter.scoreboard import scoreboard
from arbiter.status import experiment_status
from arbiter.tables import DecisionRecord
from arbiter.visibility import blind_look, blind_status, sees_effects
from experiments import lifecycle
from experiments.errors import NotFound

router = APIRouter(prefix="/v1", tags=["results"], responses=PROBLEM_RESPONSES)
Committee = Annotated[Principal, Depends(require())]
Reader = Annotated[Principal, Depends(require("team", "analyst"))]
Analyst = Annotated[Principal, Depends(require("analyst"))]
STATUS_TTL_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class StatusEntry:
    """A status document with what decides who may see its effects."""

    document: dict[str, Any]
    unblinded: bool
    state: str


class StatusCache:
    """Status documents per experiment for a few seconds: the funnel is an aggregate over
    every lead of the dispute, and a dashboard polling it should not recompute it for
    every viewer. One caller at a time rebuilds an expired document; the others keep
    the previous one meanwhile (its ``attribution.as_of`` says when it was computed), so
    a burst of readers never recomputes it in parallel. Looks and writes are never
    cached; a look run by this process drops the entry at once."""

    def __init__(self, ttl: float = STATUS_TTL_SECONDS) -> None:
        self.ttl = ttl
        self.lock = threading.Lock()
        self.entries: dict[str, tuple[float, StatusEntry]] = {}
        self.building: dict[str, threading.Lock] = {}

    def fresh(self, key: str) -> StatusEntry | None:
        """The entry for ``key`` if it has not expired (no waiting, no building)."""
        with self.lock:
            entry = self.entries.get(key)
        return entry[1] if entry is not None and entry[0] > time.monotonic() else None

    def get(self, key: str, build: Callable[[], StatusEntry]) -> StatusEntry:
        """The entry for ``key``, rebuilt by ``build`` when expired (blocking: call it
        from a worker thread)."""
        with self.lock:
            entry = self.entries.get(key)
            builder = self.building.setdefault(key, threading.Lock())
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        if entry is None:
            builder.acquire()  # nothing to show yet: wait for whoever is building it
        elif not builder.acquire(blocking=False):
            return entry[1]  # someone is rebuilding it: the previous one meanwhile
        try:
            with self.lock:
                entry = self.entries.get(key)
            if entry is not None and entry[0] > time.monotonic():
                return entry[1]
            built = build()
            with self.lock:
                self.entries[key] = (time.monotonic() + self.ttl, built)
            return built
        finally:
            builder.release()

    def drop(self, key: str) -> None:
        """Forget ``key``'s document (after a look changed it)."""
        with self.lock:
            self.entries.pop(key, None)


def _sees(session: Any, who: Principal, experiment_id: str) -> bool:
    experiment = lifecycle.get_experiment(session, experiment_id)
    protocol = lifecycle.current_protocol(session, experiment)
    return sees_effects(who.role, unblinded=protocol.unblinded, status=experiment.status)


@router.get("/experiments/{experiment_id}/status", summary="Live status of a dispute")
async def status(experiment_id: str, request: Request, who: Reader) -> Document:
    """Per arm: assigned, mature, pending (and, unless blinded, the funnel of deals);
    progress toward the maximum sample; health; the latest look and the verdict.

    Served from the status cache on the event loop; an expired entry is rebuilt in a
    worker thread with its own read session."""
    return status_for(await cached_status(request, experiment_id), who.role)


async def cached_status(request: Request, experiment_id: str) -> StatusEntry:
    """The experiment's status entry from the app's status cache (rebuilt in a worker
    thread with its own read session when expired)."""
    cache: StatusCache = request.app.state.status_cache
    entry = cache.fresh(experiment_id)
    if entry is None:
        engine = request.app.state.engine
        entry = await run_in_threadpool(
            cache.get, experiment_id, partial(_status_entry, engine, experiment_id)
        )
    return entry


def status_for(entry: StatusEntry, role: str) -> dict[str, Any]:
    """The status document as a caller of ``role`` may see it (blinded or not)."""
    if sees_effects(role, unblinded=entry.unblinded, status=entry.state):
        return {**entry.document, "blinded": False}
    document = blind_status(entry.document)
    if document.get("latest_look"):
        document["latest_look"] = blind_look(document["latest_look"])
    return document


def _status_entry(engine: Engine, experiment_id: str) -> StatusEntry:
    with read_session(engine) as session:
        experiment = lifecycle.get_experiment(session, experiment_id)
        protocol = lifecycle.current_protocol(session, experiment)
        document = _status_document(session, experiment_id)
    return StatusEntry(document, protocol.unblinded, experiment.status)


def _status_document(session: Any, experiment_id: str) -> dict[str, Any]:
    document = experiment_status(session, experiment_id)
    looks = list_looks(session, experiment_id)
    document["latest_look"] = looks[-1] if looks else None
    row = session.scalars(
        select(DecisionRecord).where(col(DecisionRecord.experiment_id) == experiment_id)
    ).first()
    document["verdict"] = (
        None
        if row is None
        else {
            "kind": row.verdict,
            "winner_arm": row.winner_arm,
            "winner_party": row.winner_party,
            "rule": row.rule,
            "look": row.look_number,
            "rationale": json.loads(row.rationale),
            "record_sha256": row.record_sha256,
        }
    )
    return document


@router.get("/experiments/{experiment_id}/looks", summary="Look history")
def looks(
    experiment_id: str,
    session: ReadSession,
    who: Reader,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Page[Document]:
    rows = [
        look
        for look in list_looks(session, experiment_id)
        if cursor is None or look["look"] > cursor
    ]
    seen = _sees(session, who, experiment_id)
    rows = [{**look, "blinded": False} if seen else blind_look(look) for look in rows]
    page = rows[:limit]
    return Page(items=page, next_cursor=str(page[-1]["look"]) if len(rows) > limit else None)


@router.post("/experiments/{experiment_id}/looks", status_code=201, summary="Run a look now")
def run(experiment_id: str, request: Request, engine: EngineDep, who: Committee) -> LookOut:
    outcome = run_look(engine, experiment_id, actor=who.actor)
    request.app.state.status_cache.drop(experiment_id)
    return LookOut.model_validate(outcome.as_dict())


@router.get("/experiments/{experiment_id}/decision", summary="The decision record")
def decision(experiment_id: str, session: ReadSession, who: Reader) -> Document:
    """The record (schema ``arbiter.decision-record/1``) and its SHA-256; recompute it
    with ``arbiter decisions verify``."""
    row = session.scalars(
        select(DecisionRecord).where(col(DecisionRecord.experiment_id) == experiment_id)
    ).first()
    if row is None:
        lifecycle.get_experiment(session, experiment_id)
        raise NotFound("decision for experiment", experiment_id)
    return export_document(row)


@router.get(
    "/experiments/{experiment_id}/report",
    response_class=HTMLResponse,
    summary="The single-file HTML report",
)
def report(
    experiment_id: str,
    session: ReadSession,
    who: Analyst,
    lang: Annotated[str | None, Query(pattern="^(en|pl|ru)$")] = None,
) -> HTMLResponse:
    return HTMLResponse(render_report(session, experiment_id, lang))


def _ids(session: Any, experiment: str | None) -> list[str]:
    if experiment is not None:
        lifecycle.get_experiment(session, experiment)
        return [experiment]
    return [e.id for e in lifecycle.list_experiments(session, limit=100_000)]


@router.get("/exports/decisions.json", summary="Decision records (download)")
def export_json(session: ReadSession, who: Analyst, experiment: str | None = None) -> Response:
    query = select(DecisionRecord).order_by(col(DecisionRecord.id))
    if experiment is not None:
        query = query.where(col(DecisionRecord.experiment_id) == experiment)
    documents = [export_document(row) for row in session.scalars(query)]
    return Response(
        json.dumps(documents, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="decisions.json"'},
    )


def _csv(header: list[str], rows: list[list[Any]], name: str) -> Response:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/exports/decisions.csv", summary="Verdicts (CSV download)")
def export_decisions_csv(
    session: ReadSession, who: Analyst, experiment: str | None = None
) -> Response:
    return _csv(*decisions_csv(session, _ids(session, experiment)), "decisions.csv")


@router.get("/exports/looks.csv", summary="Look histories (CSV download)")
def export_looks_csv(session: ReadSession, who: Analyst, experiment: str | None = None) -> Response:
    return _csv(*looks_csv(session, _ids(session, experiment)), "looks.csv")


@router.get("/scoreboard", summary="Decided disputes per party")
def board(
    session: ReadSession, who: Reader, lang: Annotated[str, Query(pattern="^(en|pl|ru)$")] = "en"
) -> list[Document]:
    return scoreboard(session, lang)


@router.get("/audit/verify", summary="Verify the hash chain of the audit log")
def verify(session: ReadSession, who: Analyst) -> AuditOut:
    anchors = list(session.scalars(select(DecisionRecord.audit_head)))
    result = audit.verify(session, anchors=anchors)
    return AuditOut(
        ok=result.ok, events=result.events, head=result.head_hash, problems=result.problems
    )
