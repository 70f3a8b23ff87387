"""Dependencies: sessions, the caller's identity and the roles each endpoint admits.

* ``ReadSession`` — one consistent read snapshot per request;
* ``WriteSession`` — one write transaction per request, committed before the response
  is sent (``scope="function"``), so a failed commit is an error the client sees;
* ``require(*roles)`` — the caller must present a valid API key (``Authorization:
  Bearer arb_…`` or ``X-API-Key``; 401 otherwise) whose role is admitted (403 otherwise).
  Authenticated keys are cached for :data:`KEY_CACHE_SECONDS`, so a revocation takes
  effect within that time.

The identity dependencies are ``async``: with the key cached they do no I/O, and running
them on the event loop spares each request two hops to the thread pool (the key lookup
on a cache miss goes to the pool).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.engine import Engine
from sqlmodel import Session

from arbiter.db import read_session, write_session
from arbiter.keys import Principal, authenticate
from arbiter.settings import Settings

__all__ = [
    "KEY_CACHE_SECONDS",
    "EngineDep",
    "ReadSession",
    "SettingsDep",
    "WriteSession",
    "require",
]

KEY_CACHE_SECONDS = 10.0


async def get_engine(request: Request) -> Engine:
    """The app's engine (built in the lifespan)."""
    engine: Engine = request.app.state.engine
    return engine


async def get_settings_dep(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def _read(engine: EngineDep) -> Iterator[Session]:
    with read_session(engine) as session:
        yield session


def _write(engine: EngineDep) -> Iterator[Session]:
    with write_session(engine) as session:
        yield session


ReadSession = Annotated[Session, Depends(_read)]
WriteSession = Annotated[Session, Depends(_write, scope="function")]


class KeyCache:
    """Authenticated keys (by their SHA-256, never the key itself) for a few seconds."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: dict[str, tuple[float, Principal | None]] = {}

    @staticmethod
    def _digest(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    def peek(self, key: str) -> tuple[bool, Principal | None]:
        """(whether ``key`` is cached, its principal or None for an invalid key)."""
        with self.lock:
            hit = self.entries.get(self._digest(key))
        if hit is not None and hit[0] > time.monotonic():
            return True, hit[1]
        return False, None

    def store(self, key: str, principal: Principal | None) -> None:
        """Remember what ``key`` authenticated as."""
        with self.lock:
            if len(self.entries) > 10_000:
                self.entries.clear()
            self.entries[self._digest(key)] = (time.monotonic() + KEY_CACHE_SECONDS, principal)


def _presented(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header and header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("x-api-key")


async def principal(request: Request, engine: EngineDep) -> Principal:
    """The caller, from its API key (401 without a valid one)."""
    key = _presented(request)
    if not key:
        raise HTTPException(
            401,
            "send an API key: Authorization: Bearer arb_…",
            headers={"WWW-Authenticate": "Bearer"},
        )
    cache: KeyCache = request.app.state.key_cache
    cached, who = cache.peek(key)
    if not cached:

        def load() -> Principal | None:
            with read_session(engine) as session:
                return authenticate(session, key)

        who = await run_in_threadpool(load)
        cache.store(key, who)
    if who is None:
        raise HTTPException(
            401, "the API key is not valid or was revoked", headers={"WWW-Authenticate": "Bearer"}
        )
    return who


def require(*roles: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting only ``roles`` (the committee is always admitted)."""
    admitted = {"committee", *roles}

    async def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if who.role not in admitted:
            raise HTTPException(
                403,
                f"a {who.role} key cannot do this; it needs one of: {', '.join(sorted(admitted))}",
            )
        return who

    check.roles = tuple(sorted(admitted))  # type: ignore[attr-defined]
    return check
