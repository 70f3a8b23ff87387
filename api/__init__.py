"""HTTP: the FastAPI app factory, routers, wire schemas, authentication and roles, and the
dashboard. No business rules and no SQL here: every route calls a use case of
:mod:`arbiter` (the same ones the CLI calls) with a session from :mod:`api.deps`."""
