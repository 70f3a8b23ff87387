"""Backup and restore of the embedded SQLite database.

``arbiter db backup FILE`` copies the live database with SQLite's online backup API
(https://www.sqlite.org/backup.html): the copy is one consistent snapshot even while
the API and imports keep writing, because it is read inside a read transaction of WAL
mode. It is written next to FILE under a temporary name, checked (``PRAGMA
integrity_check``, schema revision, the audit chain) and only then renamed into place,
so a crash during a backup never leaves a half-written FILE.

``arbiter db restore FILE`` checks FILE the same way *before* touching anything, keeps
the current database as ``<database>.before-restore-<UTC time>`` (nothing is lost,
even by restoring the wrong file), and copies FILE over the database with the same
backup API — page by page inside one write transaction, so readers see either the old
or the restored database.

PostgreSQL has its own tools; ``pg_dump``/``pg_restore`` are documented in
docs/reliability.md and these commands say so.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlmodel import select

from arbiter import audit
from arbiter.db import create_db_engine, read_session, schema_revisions
from arbiter.settings import Settings
from arbiter.tables import DecisionRecord
from experiments.errors import InvalidInput, Problem

__all__ = ["BackupCheck", "backup", "check_file", "restore", "sqlite_path"]


@dataclass(frozen=True)
class BackupCheck:
    """What a check of a database file found."""

    path: Path
    revision: str | None
    audit_events: int
    audit_head: str | None
    bytes: int


def sqlite_path(url: str) -> Path:
    """The file of a SQLite URL; PostgreSQL is pointed at its own tools."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise InvalidInput(
            "backup and restore of PostgreSQL use its own tools",
            [
                Problem(
                    "ARBITER_DATABASE_URL",
                    "run pg_dump --format=custom (and pg_restore --clean) as described in "
                    "docs/reliability.md",
                )
            ],
        )
    if not parsed.database or parsed.database == ":memory:":
        raise InvalidInput(
            "there is no database file to back up",
            [Problem("ARBITER_DATABASE_URL", "names no file")],
        )
    return Path(parsed.database)


def check_file(path: Path) -> BackupCheck:
    """Integrity, schema revision and audit chain of a SQLite file (read only)."""
    if not path.is_file():
        raise InvalidInput("no such backup", [Problem("FILE", f"{path} does not exist")])
    with open(path, "rb") as f:
        if f.read(16) != b"SQLite format 3\x00":
            raise InvalidInput("not a backup", [Problem("FILE", f"{path} is not a SQLite file")])
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        result = con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()
    if result != "ok":
        raise InvalidInput("the backup is damaged", [Problem("FILE", f"integrity check: {result}")])
    url = f"sqlite:///{path}"
    engine = create_db_engine(url, Settings(database_url=url))
    try:
        revision, _ = schema_revisions(engine)
        if revision is None:
            raise InvalidInput(
                "not an Arbiter database", [Problem("FILE", "it has no Arbiter schema")]
            )
        with read_session(engine) as session:
            anchors = [str(a) for a in session.scalars(select(DecisionRecord.audit_head))]
            report = audit.verify(session, anchors=anchors)
    finally:
        engine.dispose()
    if not report.ok:
        raise InvalidInput(
            "the backup's audit chain does not verify: it was altered",
            [Problem("FILE", p) for p in report.problems[:20]],
        )
    return BackupCheck(path, revision, report.events, report.head_hash, path.stat().st_size)


def backup(url: str, destination: Path) -> BackupCheck:
    """Write a checked, consistent copy of the database at ``url`` to ``destination``."""
    database = sqlite_path(url)
    if not database.is_file():
        raise InvalidInput("no database to back up", [Problem("database", f"{database} is absent")])
    destination = destination.resolve()
    if destination == database.resolve():
        raise InvalidInput("refusing to overwrite", [Problem("FILE", "is the database itself")])
    partial = destination.with_name(f".{destination.name}.partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(database)
    target = sqlite3.connect(partial)
    try:
        source.backup(target)  # all pages in one step: one consistent snapshot
    finally:
        target.close()
        source.close()
    try:
        checked = check_file(partial)
    except Exception:
        partial.unlink(missing_ok=True)
        raise
    with open(partial, "rb") as f:
        os.fsync(f.fileno())
    os.replace(partial, destination)
    return BackupCheck(
        destination, checked.revision, checked.audit_events, checked.audit_head, checked.bytes
    )


def restore(
    url: str, source_file: Path, now: datetime | None = None
) -> tuple[BackupCheck, Path | None]:
    """Replace the database at ``url`` by ``source_file`` (checked first); the current
    database is kept beside it. Returns the check and where the previous one was kept."""
    database = sqlite_path(url)
    checked = check_file(source_file)
    kept: Path | None = None
    if database.is_file():
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
        kept = database.with_name(f"{database.name}.before-restore-{stamp}")
        current = sqlite3.connect(database)
        copy = sqlite3.connect(kept)
        try:
            current.backup(copy)
        finally:
            copy.close()
            current.close()
    source = sqlite3.connect(f"file:{source_file}?mode=ro", uri=True)
    target = sqlite3.connect(database, timeout=30)
    try:
        source.backup(target)  # one write transaction: readers see old or new
    finally:
        target.close()
        source.close()
    return checked, kept
