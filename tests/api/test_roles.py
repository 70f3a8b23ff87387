"""The role matrix: every endpoint × every role. An endpoint admits exactly the roles in
this table (403 for the others, 401 without a valid key); a team acts only for its own
party; every route of the app must appear here, so a new endpoint cannot ship unlisted."""

import pytest

from tests.api.test_api_flow import EXP, draft_body

ALL = {"committee", "marketing", "sales", "analyst", "ingest"}
TEAMS = {"marketing", "sales"}
C = {"committee"}

MATRIX = {
    ("POST", "/v1/experiments"): C,
    ("GET", "/v1/experiments"): C | TEAMS | {"analyst"},
    ("GET", "/v1/experiments/{experiment_id}"): C | TEAMS | {"analyst"},
    ("PUT", "/v1/experiments/{experiment_id}/draft"): C | TEAMS,
    ("PUT", "/v1/experiments/{experiment_id}/arms/{key}"): C | TEAMS,
    ("DELETE", "/v1/experiments/{experiment_id}/arms/{key}"): C | TEAMS,
    ("POST", "/v1/experiments/{experiment_id}/sign-offs"): C | TEAMS,
    ("POST", "/v1/experiments/{experiment_id}/register"): C,
    ("POST", "/v1/experiments/{experiment_id}/amendments"): C,
    ("POST", "/v1/experiments/{experiment_id}/start"): C,
    ("POST", "/v1/experiments/{experiment_id}/stop"): C,
    ("POST", "/v1/experiments/{experiment_id}/archive"): C,
    ("POST", "/v1/experiments/{experiment_id}/assignments"): C | {"ingest"},
    ("POST", "/v1/experiments/{experiment_id}/assignments/bulk"): C | {"ingest"},
    ("POST", "/v1/leads"): C | {"ingest"},
    ("POST", "/v1/leads/upload"): C | {"ingest"},
    ("POST", "/v1/deals"): C | {"ingest"},
    ("POST", "/v1/deals/upload"): C | {"ingest"},
    ("GET", "/v1/imports"): C | {"analyst"},
    ("GET", "/v1/imports/{batch_id}"): C | {"analyst", "ingest"},
    ("GET", "/v1/experiments/{experiment_id}/status"): C | TEAMS | {"analyst"},
    ("GET", "/v1/experiments/{experiment_id}/looks"): C | TEAMS | {"analyst"},
    ("POST", "/v1/experiments/{experiment_id}/looks"): C,
    ("GET", "/v1/experiments/{experiment_id}/decision"): C | TEAMS | {"analyst"},
    ("GET", "/v1/experiments/{experiment_id}/report"): C | {"analyst"},
    ("GET", "/v1/exports/decisions.json"): C | {"analyst"},
    ("GET", "/v1/exports/decisions.csv"): C | {"analyst"},
    ("GET", "/v1/exports/looks.csv"): C | {"analyst"},
    ("GET", "/v1/scoreboard"): C | TEAMS | {"analyst"},
    ("GET", "/v1/audit/verify"): C | {"analyst"},
    ("GET", "/v1/keys"): C,
    ("POST", "/v1/keys"): C,
    ("DELETE", "/v1/keys/{key_id}"): C,
}
PUBLIC = {("GET", "/health")}


def routes(app):
    """Every documented endpoint, as clients see them in the OpenAPI document."""
    return {
        (method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item
    }


def test_every_endpoint_is_in_the_matrix(app):
    assert routes(app) - set(MATRIX) - PUBLIC == set()
    assert set(MATRIX) - routes(app) == set()


def concrete(path):
    return (
        path.replace("{experiment_id}", EXP)
        .replace("{key}", "webinar")
        .replace("{batch_id}", "1")
        .replace("{key_id}", "999")
    )


@pytest.mark.parametrize(("method", "path"), sorted(MATRIX))
def test_each_endpoint_admits_exactly_its_roles(as_, method, path):
    as_("committee").post("/v1/experiments", json=draft_body())
    for who in sorted(ALL):
        response = as_(who).request(method, concrete(path), json={})
        assert response.status_code != 401, (who, response.text)
        refused_by_role = (
            response.status_code == 403 and "key cannot do this" in response.json()["detail"]
        )
        if who in MATRIX[(method, path)]:
            assert not refused_by_role, (who, response.text)  # a party check may still refuse
        else:
            assert refused_by_role, (who, method, path, response.status_code)
            assert response.headers["content-type"] == "application/problem+json"
    anonymous = as_(None).request(method, concrete(path), json={})
    assert anonymous.status_code == 401


def test_a_team_never_acts_for_the_other_party(as_):
    as_("committee").post("/v1/experiments", json=draft_body())
    sales_arm = {"key": "cold-call", "name": "hijack", "party": "sales", "weight": 1}
    assert (
        as_("marketing").put(f"/v1/experiments/{EXP}/arms/cold-call", json=sales_arm).status_code
        == 403
    )
    assert as_("marketing").delete(f"/v1/experiments/{EXP}/arms/cold-call").status_code == 403
    assert (
        as_("marketing")
        .post(f"/v1/experiments/{EXP}/sign-offs", json={"party": "sales"})
        .status_code
        == 403
    )
    changed = draft_body()
    changed["arms"][1]["weight"] = 5
    assert as_("marketing").put(f"/v1/experiments/{EXP}/draft", json=changed).status_code == 403
    document = as_("committee").get(f"/v1/experiments/{EXP}").json()
    assert document["protocol"]["arms"][1] == {
        **draft_body()["arms"][1],
        "weight": 1.0,
        "control": False,
        "description": "",
    }
    assert document["sign_offs"] == []
