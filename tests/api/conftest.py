"""An app on a fresh database per test (both engines), and one key per role."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from arbiter.db import write_session
from arbiter.keys import create_key
from tests.conftest import settings_for

ROLES = {
    "committee": None,
    "marketing": "marketing",
    "sales": "sales",
    "analyst": None,
    "ingest": None,
}


@pytest.fixture
def app(engine, db_url):
    return create_app(settings_for(db_url), engine=engine)


@pytest.fixture
def keys(engine) -> dict[str, str]:
    out = {}
    with write_session(engine) as s:
        for name, party in ROLES.items():
            role = "team" if party else name
            _, key = create_key(s, name=name, role=role, party=party, actor="test")
            out[name] = key
    return out


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


class As:
    """Calls as one role: ``api.as_("sales").post(...)``."""

    def __init__(self, client: TestClient, keys: dict[str, str]) -> None:
        self.client, self.keys = client, keys

    def __call__(self, who: str | None):
        headers = {"Authorization": f"Bearer {self.keys[who]}"} if who else {}
        client = self.client

        class Bound:
            def request(self, method, url, **kw):
                return client.request(
                    method, url, headers={**headers, **kw.pop("headers", {})}, **kw
                )

            def get(self, url, **kw):
                return self.request("GET", url, **kw)

            def post(self, url, **kw):
                return self.request("POST", url, **kw)

            def put(self, url, **kw):
                return self.request("PUT", url, **kw)

            def delete(self, url, **kw):
                return self.request("DELETE", url, **kw)

        return Bound()


@pytest.fixture
def as_(client, keys) -> As:
    return As(client, keys)
