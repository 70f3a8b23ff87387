"""The dashboard: server-rendered pages under /dashboard for people rather than programs.

* ``/dashboard`` — the disputes, with status and verdict badges and progress;
* ``/dashboard/experiments/{id}`` — one dispute: progress toward the maximum sample,
  health checks, the chart of the statistic against the boundaries, the per-arm table,
  the look history and the verdict with its rationale (``?lang=en|pl|ru``);
* ``/dashboard/scoreboard`` — decided disputes per party;
* ``/dashboard/sign-in`` and ``/dashboard/sign-out``.

The same role rules as the API: committee, team and analyst keys may read (an ingest key
may not), and a team sees interim effects only when the protocol unblinds them
(:mod:`arbiter.visibility`, through the same status documents as
``GET /v1/experiments/{id}/status``). Pages of a running dispute refresh themselves
(``<meta http-equiv="refresh">``); there is no script at all, so no build step and a
strict Content-Security-Policy. The pages are left out of the OpenAPI schema: they are
for browsers, and the API documents the same data.
"""

from __future__ import annotations

import time
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlmodel import select

from api import cookies
from api.chart import statistic_chart
from api.deps import KeyCache
from api.routers.results import cached_status, status_for
from arbiter.db import read_session
from arbiter.keys import Principal, authenticate, principal_of
from arbiter.looks import list_looks
from arbiter.scoreboard import scoreboard
from arbiter.tables import DecisionRecord
from arbiter.visibility import blind_look, sees_effects
from experiments import lifecycle
from experiments.errors import NotFound

__all__ = ["REFRESH_SECONDS", "router"]

router = APIRouter(prefix="/dashboard", include_in_schema=False)
READERS = ("committee", "team", "analyst")
REFRESH_SECONDS = 30
Lang = Annotated[str | None, Query(pattern="^(en|pl|ru)$")]
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@lru_cache(maxsize=1)
def _templates() -> Environment:
    env = Environment(
        loader=PackageLoader("api", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = lambda v: "—" if v is None else f"{float(v):.0%}"
    env.filters["num"] = lambda v: "—" if v is None else f"{v:,}"
    return env


def _page(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = _templates().get_template(name).render(**context)
    return HTMLResponse(html, status_code=status_code, headers=HEADERS)


async def _viewer(request: Request) -> Principal | None:
    """The signed-in person's key, from the session cookie (None if absent or invalid)."""
    value = request.cookies.get(cookies.COOKIE)
    if not value:
        return None
    key_id = cookies.verify(request.app.state.settings.secret_key, value, time.time())
    if key_id is None:
        return None
    cache: KeyCache = request.app.state.key_cache
    cache_key = f"session:{value}"
    cached, who = cache.peek(cache_key)
    if not cached:

        def load() -> Principal | None:
            with read_session(request.app.state.engine) as session:
                return principal_of(session, key_id)

        who = await run_in_threadpool(load)
        cache.store(cache_key, who)
    return who


def _to_sign_in(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/dashboard/sign-in?next={_safe_next(target)}", status_code=303)


def _safe_next(target: str | None) -> str:
    """Only a dashboard path on this site (never another host) is a place to return to."""
    if not target or not target.startswith("/dashboard") or "//" in target or "\\" in target:
        return "/dashboard"
    return target


async def _reader(request: Request) -> Principal | Response:
    who = await _viewer(request)
    if who is None:
        return _to_sign_in(request)
    if who.role not in READERS:
        return _page(
            "message.html",
            403,
            who=who,
            title="Not for this key",
            message=f"A {who.role} key cannot read the dashboard; sign in with a committee, "
            "team or analyst key.",
        )
    return who


@router.get("/sign-in")
async def sign_in_form(request: Request, next: str | None = None) -> Response:
    if await _viewer(request) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _page("sign_in.html", who=None, next=_safe_next(next), error=None)


@router.post("/sign-in")
async def sign_in(
    request: Request,
    key: Annotated[str, Form(max_length=300)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/dashboard",
) -> Response:
    def check() -> Principal | None:
        with read_session(request.app.state.engine) as session:
            return authenticate(session, key)

    who = await run_in_threadpool(check) if key.strip() else None
    if who is None or who.role not in READERS:
        error = (
            "That key is not valid or was revoked."
            if who is None
            else f"A {who.role} key cannot read the dashboard."
        )
        return _page("sign_in.html", 401, who=None, next=_safe_next(next), error=error)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        cookies.COOKIE,
        cookies.issue(request.app.state.settings.secret_key, who.key_id, time.time()),
        max_age=cookies.LIFETIME_SECONDS,
        path="/dashboard",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/sign-out")
async def sign_out() -> Response:
    response = RedirectResponse("/dashboard/sign-in", status_code=303)
    response.delete_cookie(cookies.COOKIE, path="/dashboard", httponly=True, samesite="lax")
    return response


@router.get("")
async def index(request: Request, after: str | None = Query(None, max_length=200)) -> Response:
    who = await _reader(request)
    if not isinstance(who, Principal):
        return who

    def load() -> tuple[list[Any], dict[str, str]]:
        with read_session(request.app.state.engine) as session:
            rows = lifecycle.list_experiments(session, after=after, limit=51)
            verdicts = dict(
                session.exec(select(DecisionRecord.experiment_id, DecisionRecord.verdict)).all()
            )
        return rows, verdicts

    rows, verdicts = await run_in_threadpool(load)
    page, more = rows[:50], len(rows) > 50
    disputes = []
    for experiment in page:
        document = status_for(await cached_status(request, experiment.id), who.role)
        disputes.append(
            {
                "id": experiment.id,
                "title": experiment.title,
                "status": experiment.status,
                "verdict": verdicts.get(experiment.id),
                "progress": document["progress"],
                "srm": document["health"]["sample_ratio"],
            }
        )
    return _page(
        "index.html",
        who=who,
        disputes=disputes,
        next_cursor=page[-1].id if more and page else None,
        refresh=REFRESH_SECONDS if any(d["status"] == "running" for d in disputes) else None,
    )


@router.get("/experiments/{experiment_id}")
async def experiment(request: Request, experiment_id: str, lang: Lang = None) -> Response:
    who = await _reader(request)
    if not isinstance(who, Principal):
        return who
    try:
        entry = await cached_status(request, experiment_id)
    except NotFound:
        return _page(
            "message.html",
            404,
            who=who,
            title="Not found",
            message=(f"There is no dispute {experiment_id!r}."),
        )

    def load() -> tuple[list[dict[str, Any]], dict[str, Any]]:
        with read_session(request.app.state.engine) as session:
            found = lifecycle.get_experiment(session, experiment_id)
            protocol = lifecycle.current_protocol(session, found)
            looks = list_looks(session, experiment_id)
        return looks, protocol.model_dump(mode="json")

    looks, protocol = await run_in_threadpool(load)
    document = status_for(entry, who.role)
    seen = sees_effects(who.role, unblinded=entry.unblinded, status=entry.state)
    looks = looks if seen else [blind_look(look) for look in looks]
    analysed = [look for look in looks if look["decision"].get("comparisons")]
    comparisons = analysed[-1]["decision"]["comparisons"] if analysed else []
    language = lang or protocol.get("language") or "en"
    return _page(
        "experiment.html",
        who=who,
        d=document,
        protocol=protocol,
        arms=_arm_rows(document, protocol),
        looks=list(reversed(looks)),
        latest=looks[-1] if looks else None,
        chart=statistic_chart(comparisons, blinded=not seen),
        blinded=not seen,
        lang=language,
        refresh=REFRESH_SECONDS if document["status"] == "running" else None,
    )


def _arm_rows(document: dict[str, Any], protocol: dict[str, Any]) -> list[dict[str, Any]]:
    """The per-arm table: progress always; outcomes (deal rate, revenue per lead) when
    the document carries them."""
    rows = []
    for key, arm in document["arms"].items():
        row = {"key": key, **arm}
        mature = arm.get("mature") or 0
        if "leads_won" in arm and mature:
            row["won_rate"] = arm["leads_won"] / mature
            try:
                row["revenue_per_lead"] = Decimal(str(arm["revenue"])) / mature
            except (InvalidOperation, KeyError):
                row["revenue_per_lead"] = None
        rows.append(row)
    return rows


@router.get("/scoreboard")
async def board(request: Request, lang: Lang = None) -> Response:
    who = await _reader(request)
    if not isinstance(who, Principal):
        return who

    def load() -> list[dict[str, Any]]:
        with read_session(request.app.state.engine) as session:
            return scoreboard(session, lang or "en")

    rows = await run_in_threadpool(load)
    return _page("scoreboard.html", who=who, rows=rows, refresh=None)
