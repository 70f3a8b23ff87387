"""The app factory: ``create_app()`` wires settings, the engine (built in the lifespan),
caches, the group commit of single assignments, the body limit, problem+json errors and
the routers. OpenAPI docs at /docs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from api import dashboard, problems
from api.assigner import GroupCommit
from api.deps import KeyCache
from api.limits import BodyLimit, NoNul
from api.routers import admin, experiments, ingest, results
from arbiter import __version__
from arbiter.settings import Settings, get_settings
from experiments.assignment import AssignmentOutcome, LeadInput

__all__ = ["create_app"]


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """A configured application; ``engine`` is for tests (default: from the settings)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from arbiter.db import open_database

        own = engine is None
        app.state.engine = engine or open_database(settings)
        try:
            yield
        finally:
            if own:
                app.state.engine.dispose()

    app = FastAPI(
        title="Arbiter",
        version=__version__,
        description="Settles marketing-vs-sales disputes with pre-registered sequential "
        "experiments. Authenticate with an API key: `Authorization: Bearer arb_…`.",
        lifespan=lifespan,
    )
    from api.routers.ingest import assign_if_writer_free, assign_in_one_transaction
    from api.routers.results import StatusCache

    def assign(experiment_id: str, leads: Sequence[LeadInput]) -> list[AssignmentOutcome]:
        return assign_in_one_transaction(app.state.engine, experiment_id, leads)

    def assign_now(
        experiment_id: str, leads: Sequence[LeadInput]
    ) -> list[AssignmentOutcome] | None:
        return assign_if_writer_free(app.state.engine, experiment_id, leads)

    app.state.assigner = GroupCommit(assign, assign_now)
    app.state.settings = settings
    app.state.key_cache = KeyCache()
    app.state.status_cache = StatusCache()
    if engine is not None:
        app.state.engine = engine
    app.add_middleware(NoNul)  # inside the body limit: it reads what the limit let through
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    problems.install(app)
    for router in (admin.router, experiments.router, ingest.router, results.router):
        app.include_router(router)
    app.include_router(dashboard.router)
    return app
