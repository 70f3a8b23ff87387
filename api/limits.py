"""Request guards at the edge: a limit on request bodies, enforced while they stream in (a
declared Content-Length over the limit is refused before reading; an undeclared body is
counted), and a refusal of NUL characters, which no field of Arbiter can hold (PostgreSQL
text cannot store them) and which only ever arrive by mistake or malice."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodyLimit", "NoNul"]


class _TooLarge(Exception):
    pass


async def _send_problem(send: Send, status: int, title: str, detail: str) -> None:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class BodyLimit:
    """ASGI middleware answering 413 problem+json when a body exceeds ``max_bytes``."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        seen = 0
        started = False

        async def counting() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting, tracking)
        except _TooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        await _send_problem(
            send,
            413,
            "Request body too large",
            f"the request body exceeds {self.max_bytes} bytes "
            "(ARBITER_MAX_BODY_BYTES); send it in smaller batches",
        )


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


def _json_has_nul(body: bytes) -> bool:
    """Whether a JSON body holds a NUL in any string (the byte scan is the fast path; a
    hit is confirmed by decoding, so an escaped backslash before ``u0000`` is not one)."""
    if b"\x00" in body:
        return True
    if b"\\u0000" not in body:
        return False
    try:
        return _holds_nul(json.loads(body))
    except ValueError:
        return False  # malformed JSON: the framework reports it


class NoNul:
    """ASGI middleware answering 422 problem+json when the path, the query, a header or a
    JSON body holds a NUL character (form fields are checked by their declared pattern)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"").lower()
        if "\x00" in scope["path"] or b"%00" in query or b"\x00" in query:
            await self._refuse(send, "the path or query")
            return
        headers = scope.get("headers") or []
        if any(b"\x00" in value for _, value in headers):
            await self._refuse(send, "a header")
            return
        content_type = dict(headers).get(b"content-type", b"").split(b";")[0].strip()
        if not content_type.endswith(b"json"):
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)  # the client went away
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if _json_has_nul(body):
            await self._refuse(send, "the JSON body")
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(send: Send, where: str) -> None:
        await _send_problem(
            send,
            422,
            "Invalid input",
            f"{where} holds a NUL character (U+0000), which no field accepts",
        )
