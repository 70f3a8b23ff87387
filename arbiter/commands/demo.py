"""``arbiter demo``: the main job end to end on a fresh embedded SQLite database."""

from __future__ import annotations

from pathlib import Path

import typer

from arbiter.commands.common import handled

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@handled
def demo(
    out: Path = typer.Option(Path("demo-output"), "--out", help="Folder for the demo database."),
) -> None:
    """Register both example disputes with their sign-offs, start one, amend it, and
    verify the audit chain, on a fresh SQLite file."""
    from arbiter import audit, disputes
    from arbiter.db import open_database, read_session, write_session
    from arbiter.settings import get_settings
    from experiments.protocol import load_protocol_text

    out.mkdir(parents=True, exist_ok=True)
    db_file = out / "arbiter-demo.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_file}{suffix}").unlink(missing_ok=True)
    engine = open_database(get_settings(), url=f"sqlite:///{db_file}")
    for path in sorted(EXAMPLES.glob("*.toml")):
        protocol = load_protocol_text(path.read_text(encoding="utf-8"))
        with write_session(engine) as session:
            outcome = disputes.register_protocol(
                session,
                protocol=protocol,
                actor="demo:committee",
                sign_as=protocol.required_sign_offs,
            )
        assert outcome.version is not None
        typer.echo(f"registered {protocol.id}: sha256 {outcome.version.sha256[:16]}…")
    with write_session(engine) as session:
        disputes.start_dispute(
            session, experiment_id="webinar-vs-cold-call", actor="demo:committee"
        )
    typer.echo("started webinar-vs-cold-call")
    with read_session(engine) as session:
        report = audit.verify(session)
        document = disputes.dispute_document(session, "webinar-vs-cold-call")
    typer.echo(
        f"{document['title']}: {document['status']}, protocol v{document['protocol_version']}"
    )
    typer.echo(
        f"audit chain: {report.events} events, {'intact' if report.ok else 'BROKEN'}; "
        f"head {report.head_hash[:16]}…"
    )
    typer.echo(f"database: {db_file}")
