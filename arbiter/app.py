"""The ASGI entry point: ``uvicorn arbiter.app:create --factory`` (what ``arbiter serve``
runs, one app per worker process)."""

from __future__ import annotations

from fastapi import FastAPI


def create() -> FastAPI:
    """A fresh application configured from the ``ARBITER_*`` settings."""
    from api.app import create_app

    return create_app()
