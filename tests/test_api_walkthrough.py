"""docs/api.md, step by step, as a new user runs it: ``arbiter keys create --bare``, then
``arbiter serve`` in its own process, then HTTP calls (what the document does with curl)
for the pilot dispute of ``examples/`` and its generated CRM history. If this test fails,
the walkthrough in docs/api.md is no longer true."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.serving import arbiter, served

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
EXP = "pilot-follow-up"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str], Path]]:
    env = {**os.environ, "ARBITER_DATABASE_URL": f"sqlite:///{tmp_path / 'arbiter.db'}"}
    keys = {
        "committee": arbiter(env, "keys", "create", "--role", "committee", "--bare").strip(),
        "marketing": arbiter(
            env, "keys", "create", "--role", "team", "--party", "marketing", "--bare"
        ).strip(),
        "sales": arbiter(env, "keys", "create", "--role", "team", "--party", "sales", "--bare"),
        "ingest": arbiter(env, "keys", "create", "--role", "ingest", "--bare"),
        "analyst": arbiter(env, "keys", "create", "--role", "analyst", "--bare"),
    }
    keys = {role: key.strip() for role, key in keys.items()}
    with served(env) as base:
        yield base, keys, tmp_path


def test_the_documented_walkthrough_reaches_a_verifiable_verdict(server):
    base, keys, tmp = server
    env = dict(os.environ)
    subprocess.run(
        [sys.executable, str(EXAMPLES / "pilot_history.py"), "--out", str(tmp)],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    canonical = arbiter(
        env, "protocol", "validate", str(EXAMPLES / "pilot-follow-up.toml"), "--canonical"
    )
    protocol = json.loads(canonical)

    def call(who: str | None, method: str, path: str, **kw: object) -> httpx.Response:
        headers = {"Authorization": f"Bearer {keys[who]}"} if who else {}
        headers.update(kw.pop("headers", {}))  # type: ignore[arg-type]
        return httpx.request(method, f"{base}{path}", headers=headers, timeout=60, **kw)

    def body(name: str) -> object:
        return json.loads((tmp / name).read_text())

    v1 = f"/v1/experiments/{EXP}"
    assert call("committee", "POST", "/v1/experiments", json=protocol).status_code == 201
    arm = {
        "key": "webinar",
        "name": "webinar nurture",
        "party": "marketing",
        "weight": 1,
        "description": "Webinar invitation on day 1, three nurture e-mails.",
    }
    assert call("marketing", "PUT", f"{v1}/arms/webinar", json=arm).status_code == 200
    assert (
        call(
            "marketing",
            "PUT",
            f"{v1}/arms/cold-call",
            json={**arm, "key": "cold-call", "party": "sales"},
        ).status_code
        == 403
    )
    for party in ("marketing", "sales"):
        assert call(party, "POST", f"{v1}/sign-offs", json={"party": party}).status_code == 200
    assert call("committee", "POST", f"{v1}/register").json()["status"] == "registered"
    amended = {**protocol, "limits": {**protocol["limits"], "max_sample": 1200}}
    amendment = {"protocol": amended, "reason": "the CRM sends more leads than planned"}
    assert (
        call("committee", "POST", f"{v1}/amendments", json=amendment).json()["protocol_version"]
        == 2
    )
    assert call("committee", "POST", f"{v1}/start").json()["status"] == "running"

    one = call("ingest", "POST", f"{v1}/assignments", json={"lead_id": "crm-new-1"})
    assert one.status_code == 200 and one.json()["arm"] in ("webinar", "cold-call")
    assert call(None, "POST", f"{v1}/assignments", json={"lead_id": "x"}).status_code == 401
    leads = call("ingest", "POST", "/v1/leads", json=body("leads-1.json")).json()
    assert leads["report"]["inserted"] == 600 and len(leads["assignments"]) == 600
    sync = {"Idempotency-Key": "crm-sync-1"}
    first = call("ingest", "POST", "/v1/deals", json=body("deals-1.json"), headers=sync).json()
    again = call("ingest", "POST", "/v1/deals", json=body("deals-1.json"), headers=sync).json()
    assert again["replayed"] and again["batch_id"] == first["batch_id"]

    team = call("sales", "GET", f"{v1}/status").json()
    committee = call("committee", "GET", f"{v1}/status").json()
    assert team["blinded"] and "revenue" not in team["arms"]["webinar"]
    assert committee["blinded"] is False and "revenue" in committee["arms"]["webinar"]
    look = call("committee", "POST", f"{v1}/looks").json()
    assert look["outcome"] == "continue"

    call("ingest", "POST", "/v1/leads", json=body("leads-2.json"))
    call(
        "ingest",
        "POST",
        "/v1/deals",
        json=body("deals-2.json"),
        headers={"Idempotency-Key": "crm-sync-2"},
    )
    final = call("committee", "POST", f"{v1}/looks").json()
    assert (final["outcome"], final["verdict"]["winner_arm"]) == ("winner", "cold-call")
    assert call("marketing", "GET", f"{v1}/status").json()["blinded"] is False

    record = call("analyst", "GET", f"{v1}/decision")
    (tmp / "record.json").write_text(record.text)
    verified = arbiter(
        env | {"ARBITER_DATABASE_URL": "sqlite://"}, "decisions", "verify", str(tmp / "record.json")
    )
    assert "matches" in verified
    assert call("analyst", "GET", "/v1/audit/verify").json()["ok"]
    board = call("sales", "GET", "/v1/scoreboard").json()
    assert {row["party"]: row["wins"] for row in board} == {"sales": 1, "marketing": 0}
