"""The dashboard's session cookie: signed, short-lived, and holding no secret.

A person signs in to the dashboard with an API key once; the cookie then names only the
key's id and an expiry time, signed with HMAC-SHA256 under ``ARBITER_SECRET_KEY``
(RFC 2104). The key itself is never stored in the browser. Every request checks the
signature (in constant time), the expiry and that the key is still unrevoked, so
revoking a key also ends every dashboard session opened with it (within the key cache's
few seconds).

The cookie is ``HttpOnly`` (no script can read it), ``SameSite=Lax`` (a form on another
site cannot post with it, which is what protects the sign-out and sign-in forms from
cross-site requests), ``Secure`` when the request came over HTTPS, and scoped to
``/dashboard``.

Without ``ARBITER_SECRET_KEY`` each process draws a random secret at start (``arbiter
serve`` shares one among its workers), so sessions end when the server restarts; set
the variable to keep them across restarts.
"""

from __future__ import annotations

import hashlib
import hmac
import re

__all__ = ["COOKIE", "LIFETIME_SECONDS", "issue", "verify"]

COOKIE = "arbiter_session"
LIFETIME_SECONDS = 12 * 3600
_FORMAT = re.compile(r"^([0-9]{1,12})\.([0-9]{1,12})\.([0-9a-f]{64})$")


def _mac(secret: str, payload: str) -> str:
    return hmac.new(
        secret.encode(), f"arbiter-session:{payload}".encode(), hashlib.sha256
    ).hexdigest()


def issue(secret: str, key_id: int, now: float) -> str:
    """A cookie value for the key ``key_id``, valid for :data:`LIFETIME_SECONDS`."""
    if not secret:
        raise ValueError("a session cookie needs a secret key")
    payload = f"{key_id}.{int(now) + LIFETIME_SECONDS}"
    return f"{payload}.{_mac(secret, payload)}"


def verify(secret: str, value: str, now: float) -> int | None:
    """The key id of a genuine, unexpired cookie value, or None."""
    match = _FORMAT.match(value)
    if match is None or not secret:
        return None
    key_id, expires, mac = match.groups()
    if not hmac.compare_digest(_mac(secret, f"{key_id}.{expires}"), mac):
        return None
    if int(expires) <= now:
        return None
    return int(key_id)
