"""The dashboard: sign-in with an API key and a signed session cookie, the same role and
blinding rules as the API, and pages that show the dispute."""

from __future__ import annotations

import re
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api import cookies
from arbiter.db import write_session
from arbiter.keys import revoke_key
from tests.api.test_api_flow import registered, simulate
from tests.arbiter.test_committee import EXP


def _simulate(engine, conversions: dict[str, float], days: int, decide: bool) -> None:
    outcome = simulate(
        engine, conversions, days, salt="dashboard-test", weekly_looks=True, until_decided=decide
    )
    if decide:
        assert outcome is not None and outcome.record, "the simulated dispute was not decided"
        return
    with write_session(engine) as s:
        assert s.execute(text("SELECT status FROM experiment")).scalar() == "running"


@pytest.fixture
def running(as_, engine):
    """A running dispute with one analysed look (teams are blinded)."""
    registered(as_)
    as_("committee").post(f"/v1/experiments/{EXP}/start")
    _simulate(engine, {"webinar": 0.10, "cold-call": 0.13}, 35, decide=False)


@pytest.fixture
def decided(as_, engine):
    registered(as_)
    as_("committee").post(f"/v1/experiments/{EXP}/start")
    _simulate(engine, {"webinar": 0.10, "cold-call": 0.20}, 120, decide=True)


def sign_in(client: TestClient, key: str, next: str = "/dashboard"):
    return client.post(
        "/dashboard/sign-in", data={"key": key, "next": next}, follow_redirects=False
    )


def test_pages_need_a_session_and_send_you_to_sign_in(client):
    for path in ("/dashboard", f"/dashboard/experiments/{EXP}", "/dashboard/scoreboard"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"].startswith("/dashboard/sign-in?next=/dashboard")
    form = client.get("/dashboard/sign-in")
    assert form.status_code == 200 and 'type="password"' in form.text


def test_signing_in_sets_a_signed_cookie_without_the_key(client, keys):
    r = sign_in(client, keys["committee"], next=f"/dashboard/experiments/{EXP}")
    assert r.status_code == 303 and r.headers["location"] == f"/dashboard/experiments/{EXP}"
    header = r.headers["set-cookie"]
    assert "HttpOnly" in header and "samesite=lax" in header.lower() and "Path=/dashboard" in header
    value = client.cookies[cookies.COOKIE]
    assert keys["committee"] not in header and keys["committee"].split("_", 2)[2] not in value
    assert client.get("/dashboard").status_code == 200


@pytest.mark.parametrize(
    ("key", "message"),
    [("arb_000000000000_" + "x" * 43, "not valid"), ("", "not valid"), (None, "cannot read")],
)
def test_bad_keys_and_ingest_keys_cannot_sign_in(client, keys, key, message):
    r = sign_in(client, keys["ingest"] if key is None else key)
    assert r.status_code == 401 and message in r.text
    assert cookies.COOKIE not in client.cookies


def test_a_forged_or_expired_cookie_is_no_session(client, keys, app):
    sign_in(client, keys["committee"])
    genuine = client.cookies[cookies.COOKIE]
    key_id, expires, mac = genuine.split(".")
    for forged in (
        f"{int(key_id) + 1}.{expires}.{mac}",  # another key, same signature
        f"{key_id}.{int(expires) + 999}.{mac}",  # a longer life, same signature
        cookies.issue("another secret", int(key_id), time.time()),
        cookies.issue(app.state.settings.secret_key, int(key_id), time.time() - 13 * 3600),
        "garbage",
    ):  # (each forged value alone in the jar, as a browser would send it)
        client.cookies.clear()
        client.cookies.set(cookies.COOKIE, forged)
        assert client.get("/dashboard", follow_redirects=False).status_code == 303


def test_revoking_the_key_ends_its_sessions(client, keys, engine, app):
    sign_in(client, keys["sales"])
    assert client.get("/dashboard").status_code == 200
    with write_session(engine) as s:
        revoke_key(s, key=keys["sales"], actor="test")
    app.state.key_cache.entries.clear()  # the key cache lives for a few seconds
    assert client.get("/dashboard", follow_redirects=False).status_code == 303


def test_signing_out_forgets_the_session(client, keys):
    sign_in(client, keys["analyst"])
    r = client.post("/dashboard/sign-out", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/dashboard/sign-in"
    assert cookies.COOKIE not in client.cookies
    assert client.get("/dashboard", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example", "/v1/keys"])
def test_sign_in_only_returns_to_dashboard_pages(client, keys, target):
    assert sign_in(client, keys["committee"], next=target).headers["location"] == "/dashboard"


def test_pages_carry_a_strict_content_security_policy(client, keys):
    sign_in(client, keys["committee"])
    r = client.get("/dashboard")
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert "script" not in r.text.lower()  # no script at all: nothing to build or inject
    assert r.headers["cache-control"] == "no-store"


def test_the_committee_sees_a_running_dispute_in_full(client, keys, running):
    sign_in(client, keys["committee"])
    listing = client.get("/dashboard").text
    assert f'href="/dashboard/experiments/{EXP}"' in listing and 'class="badge running"' in listing
    page = client.get(f"/dashboard/experiments/{EXP}").text
    assert '<meta http-equiv="refresh" content="30">' in page  # refreshes while it runs
    assert 'role="progressbar"' in page and 'id="health"' in page
    assert 'data-series="cold-call vs webinar"' in page  # the statistic's path
    assert 'data-series="efficacy boundary"' in page
    assert "Revenue / lead" in page and "interim effects blinded" not in page


def test_a_team_sees_progress_and_health_but_no_interim_effects(client, keys, running):
    sign_in(client, keys["marketing"])
    page = client.get(f"/dashboard/experiments/{EXP}").text
    assert "interim effects blinded" in page and 'role="progressbar"' in page
    assert 'data-series="efficacy boundary"' in page  # the plan is public
    assert 'data-series="cold-call vs webinar"' not in page  # the statistic is not
    assert "Revenue / lead" not in page and "Deal rate" not in page
    assert "Interim results are blinded" in page
    estimates = re.findall(r"95% CI", page)
    assert not estimates


def test_a_decided_dispute_shows_the_verdict_to_everyone(client, keys, decided):
    for who in ("marketing", "analyst"):
        client.cookies.clear()
        sign_in(client, keys[who])
        page = client.get(f"/dashboard/experiments/{EXP}").text
        assert 'id="verdict"' in page and 'class="badge winner"' in page
        assert "cold-call" in page and "95% CI" in page
        assert 'data-series="cold-call vs webinar"' in page and 'id="arm-table"' in page
        assert "http-equiv" not in page  # a decided dispute no longer refreshes
    polish = client.get(f"/dashboard/experiments/{EXP}?lang=pl").text
    assert "Porównano" in polish
    board = client.get("/dashboard/scoreboard").text
    assert 'id="scoreboard"' in board and "<td>sales</td>" in board


def test_an_unknown_dispute_is_a_404_page(client, keys):
    sign_in(client, keys["committee"])
    r = client.get("/dashboard/experiments/nope")
    assert r.status_code == 404 and "There is no dispute" in r.text


def test_dashboard_pages_are_not_part_of_the_api_schema(app):
    assert not [p for p in app.openapi()["paths"] if p.startswith("/dashboard")]


def test_cookie_values_are_verified_in_constant_form():
    value = cookies.issue("s", 7, 1000.0)
    assert cookies.verify("s", value, 1000.0) == 7
    assert cookies.verify("s", value, 1000.0 + cookies.LIFETIME_SECONDS) is None
    assert cookies.verify("", value, 1000.0) is None
    with pytest.raises(ValueError, match="secret"):
        cookies.issue("", 7, 1000.0)
