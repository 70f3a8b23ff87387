"""Dependencies: sessions, the caller's identity and the roles each endpoint admits.

* ``ReadSession`` — one consistent read snapshot per request;
* ``WriteSession`` — one write transaction per request, committed before the response
  is sent (``scope="function"``), so a failed commit is an error the client sees;
* ``require(*roles)`` — the caller must present a valid API key (``Authorization:
  Bearer arb_…`` or ``X-API-Key``; 401 otherwise) whose role is admitted (403 otherwise).
  Authenticated keys are cached for :data:`KEY_CACHE_SECONDS`, so a revocation takes
  effect within that time.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
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


def get_engine(request: Request) -> Engine:
    """The app's engine (built in the lifespan)."""
    engine: Engine = request.app.state.engine
    return engine


def get_settings_dep(request: Request) -> Settings:
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
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: dict[str, tuple[float, Principal | None]] = {}

    def get(self, key: str, load: Callable[[], Principal | None]) -> Principal | None:
        digest = hashlib.sha256(key.encode()).hexdigest()  # never keep the key itself
        now = time.monotonic()
        with self.lock:
            hit = self.entries.get(digest)
            if hit is not None and hit[0] > now:
                return hit[1]
        principal = load()
        with self.lock:
            if len(self.entries) > 10_000:
                self.entries.clear()
            self.entries[digest] = (now + KEY_CACHE_SECONDS, principal)
        return principal


def _presented(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header and header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("x-api-key")


def principal(request: Request, engine: EngineDep) -> Principal:
    """The caller, from its API key (401 without a valid one)."""
    key = _presented(request)
    if not key:
        raise HTTPException(
            401,
            "send an API key: Authorization: Bearer arb_…",
            headers={"WWW-Authenticate": "Bearer"},
        )
    cache: KeyCache = request.app.state.key_cache

    def load() -> Principal | None:
        with read_session(engine) as session:
            return authenticate(session, key)

    who = cache.get(key, load)
    if who is None:
        raise HTTPException(
            401, "the API key is not valid or was revoked", headers={"WWW-Authenticate": "Bearer"}
        )
    return who


def require(*roles: str) -> Callable[..., Principal]:
    """A dependency admitting only ``roles`` (the committee is always admitted)."""
    admitted = {"committee", *roles}

    def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if who.role not in admitted:
            raise HTTPException(
                403,
                f"a {who.role} key cannot do this; it needs one of: {', '.join(sorted(admitted))}",
            )
        return who

    check.roles = tuple(sorted(admitted))  # type: ignore[attr-defined]
    return check
