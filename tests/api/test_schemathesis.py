"""Property-based fuzzing of the whole API from its OpenAPI schema (schemathesis): with a
committee key, generated requests to every operation never get a server error, and every
documented response conforms to its schema."""

import os

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from arbiter.db import write_session
from arbiter.keys import create_key
from tests.api.test_api_flow import draft_body

EXAMPLES_PER_OPERATION = int(os.environ.get("ARBITER_FUZZ_EXAMPLES", "6"))


def test_no_server_error_and_responses_match_the_schema(app, engine):
    with write_session(engine) as s:
        _, key = create_key(s, name="fuzz", role="committee", party=None, actor="test")
    headers = {"Authorization": f"Bearer {key}"}
    with TestClient(app) as client:  # a dispute to find, so paths reach real code
        client.post("/v1/experiments", json=draft_body(), headers=headers)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case):
            case.call_and_validate(
                headers=headers, checks=[not_a_server_error, response_schema_conformance]
            )

        fuzz()
