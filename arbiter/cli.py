"""The ``arbiter`` command line: ``arbiter <noun> <verb>``.

Imports are lazy inside each command so that ``arbiter --help`` is instant. ``serve`` is
the one command that reaches up into ``api/`` (DESIGN.md: the import direction).
"""

from __future__ import annotations

import typer

from arbiter.commands import (
    audit,
    board,
    db,
    deals,
    decisions,
    demo,
    experiments,
    imports,
    keys,
    leads,
    looks,
    protocol,
)

app = typer.Typer(
    name="arbiter",
    help="Settle marketing-vs-sales disputes with pre-registered sequential experiments.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(protocol.app, name="protocol")
app.add_typer(experiments.app, name="experiments")
app.add_typer(leads.app, name="leads")
app.add_typer(deals.app, name="deals")
app.add_typer(imports.app, name="imports")
app.add_typer(looks.app, name="looks")
app.add_typer(decisions.app, name="decisions")
app.add_typer(audit.app, name="audit")
app.command("scoreboard")(board.scoreboard)
app.command("report")(board.report)
app.add_typer(keys.app, name="keys")
app.add_typer(db.app, name="db")


@app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes."),
    access_log: bool = typer.Option(True, "--access-log/--no-access-log"),
) -> None:
    """Start the HTTP API and the dashboard (uvicorn); OpenAPI docs at /docs."""
    import os
    import secrets

    import uvicorn

    from arbiter.commands.common import engine
    from arbiter.settings import get_settings

    engine().dispose()  # check (or create) the schema once before the workers start
    # Dashboard sessions are signed with ARBITER_SECRET_KEY; without one, every worker
    # must still share the same secret, so draw it here and hand it down.
    os.environ.setdefault("ARBITER_SECRET_KEY", secrets.token_urlsafe(32))
    get_settings.cache_clear()
    uvicorn.run(
        "arbiter.app:create",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=get_settings().log_level.lower(),
        access_log=access_log,
        proxy_headers=True,
    )


app.command("demo")(demo.demo)


def main() -> None:
    """Console-script entry point."""
    app()
