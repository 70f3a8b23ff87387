"""The API as its users meet it: the committee writes a dispute down, teams propose and
sign, ingestion pushes leads and deals, everyone reads status (teams blinded), the
committee runs looks, analysts download the decision record."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import text

from arbiter.db import write_session
from arbiter.looks import LookOutcome, run_look
from arbiter.simulation import ArmTruth, Scenario, Simulation
from tests.arbiter.test_committee import EXP, T0
from tests.factories import protocol_data

PROBLEM = "application/problem+json"


def draft_body(**changes):
    base = {
        "primary": {"name": "deal conversion", "kind": "conversion", "window_days": 21},
        "mde": {"value": 0.05, "kind": "absolute"},
        "guardrails": [],
        "limits": {"max_sample": 2400, "min_duration_days": 14},
    }
    base.update(changes)
    return protocol_data(**base)


def registered(as_):
    assert as_("committee").post("/v1/experiments", json=draft_body()).status_code == 201
    for party in ("marketing", "sales"):
        assert (
            as_(party).post(f"/v1/experiments/{EXP}/sign-offs", json={"party": party}).status_code
            == 200
        )
    assert as_("committee").post(f"/v1/experiments/{EXP}/register").status_code == 200


def simulate(
    engine,
    conversions: dict[str, float],
    days: int,
    *,
    salt: str = "api-test",
    weekly_looks: bool = False,
    until_decided: bool = False,
) -> LookOutcome | None:
    """Simulate ``days`` of the started dispute from T0 with these conversion rates.

    The dispute is moved to start at T0 in simulated time with a fixed ``salt`` (the
    same arms for the same leads on every run). With ``weekly_looks`` a look runs at
    the end of every week, and ``until_decided`` stops at the first verdict; the last
    look's outcome is returned."""
    with write_session(engine) as s:
        s.execute(
            text("UPDATE experiment SET started_at = :t, salt = :salt"),
            {"t": int(T0.timestamp() * 1e6), "salt": salt},
        )
    arms = {arm: ArmTruth(p) for arm, p in conversions.items()}
    sim = Simulation(engine, EXP, Scenario(arms, leads_per_weekday=60, seed=1), T0)
    outcome = None
    for day in range(days):
        sim.day(day)
        if weekly_looks and day % 7 == 6:
            outcome = run_look(engine, EXP, actor="c", now=T0 + timedelta(days=day + 1))
            if until_decided and outcome.record:
                break
    return outcome


def test_health_is_public(as_):
    r = as_(None).get("/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_a_new_dispute_from_draft_to_running(as_):
    created = as_("committee").post("/v1/experiments", json=draft_body())
    assert created.status_code == 201 and created.json()["status"] == "draft"
    arm = {"key": "webinar", "name": "webinar + case study", "party": "marketing", "weight": 1}
    assert as_("marketing").put(f"/v1/experiments/{EXP}/arms/webinar", json=arm).status_code == 200
    other = as_("marketing").put(
        f"/v1/experiments/{EXP}/arms/cold-call",
        json={"key": "cold-call", "name": "x", "party": "sales", "weight": 1},
    )
    assert other.status_code == 403 and other.headers["content-type"] == PROBLEM
    assert (
        as_("marketing")
        .post(f"/v1/experiments/{EXP}/sign-offs", json={"party": "sales"})
        .status_code
        == 403
    )
    for party in ("marketing", "sales"):
        assert (
            as_(party).post(f"/v1/experiments/{EXP}/sign-offs", json={"party": party}).status_code
            == 200
        )
    locked = as_("committee").post(f"/v1/experiments/{EXP}/register").json()
    assert locked["status"] == "registered" and len(locked["protocol_sha256"]) == 64
    edit = as_("committee").put(f"/v1/experiments/{EXP}/draft", json=draft_body(alpha=0.01))
    assert edit.status_code == 409 and "it is registered" in edit.json()["detail"]
    amended = as_("committee").post(
        f"/v1/experiments/{EXP}/amendments",
        json={
            "protocol": draft_body(limits={"max_sample": 3000, "min_duration_days": 14}),
            "reason": "more traffic",
        },
    )
    assert amended.status_code == 200 and amended.json()["protocol_version"] == 2
    assert as_("committee").post(f"/v1/experiments/{EXP}/start").json()["status"] == "running"


def test_ingestion_assigns_and_imports_with_batch_reports(as_):
    registered(as_)
    as_("committee").post(f"/v1/experiments/{EXP}/start")
    one = as_("ingest").post(
        f"/v1/experiments/{EXP}/assignments",
        json={"lead_id": "L-1", "attributes": {"lead_score": 40}},
    )
    assert one.status_code == 200 and one.json()["created"]
    again = as_("ingest").post(f"/v1/experiments/{EXP}/assignments", json={"lead_id": "L-1"})
    assert again.json()["arm"] == one.json()["arm"] and not again.json()["created"]
    bulk = as_("ingest").post(
        f"/v1/experiments/{EXP}/assignments/bulk",
        json={"leads": [{"lead_id": f"L-{i}"} for i in range(2, 50)]},
    )
    assert bulk.status_code == 200 and len(bulk.json()["assignments"]) == 48
    deals = {
        "deals": [
            {
                "deal_id": "d-1",
                "lead_id": "L-1",
                "amount": "1200.50",
                "currency": "PLN",
                "won": True,
                "closed": True,
                "closed_at": "2099-01-01T00:00:00Z",
            },
            {
                "deal_id": "d-2",
                "lead_id": "nobody",
                "amount": "10",
                "currency": "PLN",
                "won": True,
                "closed": True,
                "closed_at": "2099-01-01T00:00:00Z",
            },
        ]
    }
    first = as_("ingest").post("/v1/deals", json=deals, headers={"Idempotency-Key": "sync-1"})
    report = first.json()
    assert first.status_code == 200 and (report["inserted"], report["rejected"]) == (1, 1)
    assert report["rejections"][0]["code"] == "unknown_lead"
    retry = as_("ingest").post("/v1/deals", json=deals, headers={"Idempotency-Key": "sync-1"})
    assert retry.json()["replayed"] and retry.json()["batch_id"] == report["batch_id"]
    csv = (
        "deal_id,lead_id,amount,currency,won,closed,closed_at\n"
        'd-3,L-2,"1 500,00",PLN,true,true,2099-01-02\n'
    )
    upload = as_("ingest").post(
        "/v1/deals/upload",
        data={"format": "generic"},
        files={"file": ("deals.csv", csv.encode(), "text/csv")},
    )
    assert upload.status_code == 200 and upload.json()["inserted"] == 1
    refused = as_("ingest").post(
        "/v1/deals/upload",
        data={"format": "hubspot"},
        files={"file": ("x.csv", b"\x00\x01binary", "text/csv")},
    )
    assert refused.status_code == 422 and "binary" in refused.json()["detail"]
    leads = as_("ingest").post(
        "/v1/leads",
        json={
            "leads": [{"lead_id": "L-9", "arm": "webinar", "assigned_at": "2020-01-01"}],
            "experiment_id": EXP,
        },
    )
    assert leads.status_code == 200
    batches = as_("analyst").get("/v1/imports").json()["items"]
    assert [b["kind"] for b in batches][:2] == ["leads", "deals"]
    assert as_("ingest").get(f"/v1/imports/{report['batch_id']}").json()["rejected"] == 1
    assert as_("ingest").get(f"/v1/experiments/{EXP}/status").status_code == 403


def test_status_is_blinded_for_teams_until_the_verdict(as_, engine):
    registered(as_)
    as_("committee").post(f"/v1/experiments/{EXP}/start")
    simulate(engine, {"webinar": 0.10, "cold-call": 0.13}, 28)
    full = as_("committee").get(f"/v1/experiments/{EXP}/status").json()
    team = as_("sales").get(f"/v1/experiments/{EXP}/status").json()
    assert "revenue" in full["arms"]["webinar"] and "won_deals" in full["arms"]["webinar"]
    assert team["blinded"] and "revenue" not in team["arms"]["webinar"]
    assert team["arms"]["webinar"]["assigned"] == full["arms"]["webinar"]["assigned"]
    assert team["health"] == full["health"]
    assert run_look(engine, EXP, actor="c", now=T0 + timedelta(days=28)).record is None
    looks_team = as_("marketing").get(f"/v1/experiments/{EXP}/looks").json()["items"]
    assert "estimate" not in looks_team[0]["decision"]["comparisons"][0]
    looks_analyst = as_("analyst").get(f"/v1/experiments/{EXP}/looks").json()["items"]
    assert "estimate" in looks_analyst[0]["decision"]["comparisons"][0]


def test_committee_runs_looks_and_analysts_download_the_record(as_, engine):
    registered(as_)
    as_("committee").post(f"/v1/experiments/{EXP}/start")
    outcome = simulate(
        engine, {"webinar": 0.10, "cold-call": 0.20}, 120, weekly_looks=True, until_decided=True
    )
    assert outcome is not None and outcome.record is not None
    record = as_("analyst").get(f"/v1/experiments/{EXP}/decision")
    assert record.status_code == 200 and record.json()["record"]["verdict"]["kind"] == "winner"
    team_view = as_("marketing").get(f"/v1/experiments/{EXP}/status").json()
    assert team_view["blinded"] is False and team_view["verdict"]["winner_arm"] == "cold-call"
    csv = as_("analyst").get("/v1/exports/looks.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]
    downloaded = as_("analyst").get("/v1/exports/decisions.json").json()
    from arbiter.records import verify_record

    assert verify_record(downloaded[0]).ok
    assert as_("analyst").get("/v1/audit/verify").json()["ok"]
    board = as_("sales").get("/v1/scoreboard").json()
    assert {r["party"]: r["wins"] for r in board}["sales"] == 1
    html = as_("analyst").get(f"/v1/experiments/{EXP}/report")
    assert html.status_code == 200 and "<svg" in html.text
    too_late = as_("committee").post(f"/v1/experiments/{EXP}/looks")
    assert too_late.status_code == 409


def test_errors_are_problem_json_with_fields(as_):
    bad = as_("committee").post("/v1/experiments", json=draft_body(alpha=2, currency="XYZ"))
    body = bad.json()
    assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM
    assert {e["field"] for e in body["errors"]} >= {"alpha", "currency"}
    assert body["title"] == "Invalid protocol" and body["status"] == 422
    missing = as_("committee").get("/v1/experiments/nope")
    assert missing.status_code == 404 and missing.json()["title"] == "Not found"
    typo = as_("committee").post(f"/v1/experiments/{EXP}/stop", json={"reasn": "x"})
    assert typo.status_code == 422 and any(
        e["field"] in ("reasn", "reason") for e in typo.json()["errors"]
    )
    assert as_(None).get("/v1/experiments").status_code == 401
    revoked = as_("committee").post("/v1/keys", json={"name": "temp", "role": "analyst"}).json()
    as_("committee").delete(f"/v1/keys/{revoked['id']}")


def test_a_revoked_key_stops_working(as_, client, keys):
    created = as_("committee").post("/v1/keys", json={"name": "temp", "role": "analyst"}).json()
    headers = {"Authorization": f"Bearer {created['key']}"}
    assert client.get("/v1/experiments", headers=headers).status_code == 200
    assert as_("committee").delete(f"/v1/keys/{created['id']}").status_code == 200
    client.app.state.key_cache.entries.clear()  # servers pick it up within 10 s
    assert client.get("/v1/experiments", headers=headers).status_code == 401
    assert (
        client.get(
            "/v1/experiments", headers={"X-API-Key": "arb_000000000000_guess-guess-guess-guess"}
        ).status_code
        == 401
    )


def test_lists_are_paginated(as_):
    for i in range(3):
        as_("committee").post("/v1/experiments", json=draft_body(id=f"dispute-{i}"))
    first = as_("analyst").get("/v1/experiments", params={"limit": 2}).json()
    assert len(first["items"]) == 2 and first["next_cursor"] == "dispute-1"
    rest = (
        as_("analyst")
        .get("/v1/experiments", params={"limit": 2, "cursor": first["next_cursor"]})
        .json()
    )
    assert [e["id"] for e in rest["items"]] == ["dispute-2"] and rest["next_cursor"] is None


def test_request_bodies_over_the_limit_are_refused(client, keys, db_url, engine):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from arbiter.settings import Settings

    small = create_app(
        Settings(database_url=db_url, max_body_bytes=2048, secret_key="t"), engine=engine
    )
    with TestClient(small, raise_server_exceptions=False) as c:
        r = c.post(
            "/v1/deals",
            content=json.dumps({"deals": [{"x": "y" * 5000}]}),
            headers={
                "Authorization": f"Bearer {keys['ingest']}",
                "Content-Type": "application/json",
            },
        )
    assert r.status_code == 413 and r.headers["content-type"] == PROBLEM
    assert "ARBITER_MAX_BODY_BYTES" in r.json()["detail"]


@pytest.mark.parametrize("path", ["/docs", "/openapi.json"])
def test_openapi_docs_are_served(client, path):
    assert client.get(path).status_code == 200


def test_nul_characters_are_refused_wherever_they_arrive(as_):
    """PostgreSQL text cannot hold U+0000: every way in answers 422 and writes nothing."""
    registered(as_)
    ingest = as_("ingest")
    attempts = [
        ingest.get("/v1/experiments/a%00b/status"),
        ingest.get("/v1/imports", params={"cursor": "1\x00"}),
        ingest.post("/v1/leads", json={"leads": [{"lead_id": "L-1"}], "source_system": "a\x00"}),
        ingest.post("/v1/deals", json={"deals": [{"deal_id": "d\x00", "lead_id": "L-1"}]}),
        ingest.post(
            "/v1/deals",
            json={"deals": [{"deal_id": "d-1", "lead_id": "L-1"}]},
            headers={"Idempotency-Key": "k\x00"},
        ),
        ingest.post(
            "/v1/deals/upload",
            data={"experiment_id": "x\x00"},
            files={"file": ("d.csv", b"deal_id,lead_id\n", "text/csv")},
        ),
    ]
    for response in attempts:
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == PROBLEM
    escaped = ingest.post("/v1/leads", json={"leads": [{"lead_id": "a\\u0000b"}]})
    assert escaped.status_code == 200  # a literal backslash-u is text, not NUL
    multipart = (
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="d\x00.csv"\r\n'
        b"Content-Type: text/csv\r\n\r\ndeal_id,lead_id\n\r\n--B--\r\n"
    )
    named = ingest.post(
        "/v1/deals/upload",
        content=multipart,
        headers={"Content-Type": "multipart/form-data; boundary=B"},
    )
    assert named.status_code == 200 and named.json()["filename"] == "d.csv"
    kinds = [b["kind"] for b in as_("analyst").get("/v1/imports").json()["items"]]
    assert kinds == ["deals", "leads"]
