"""``authgate db backup PATH``: a consistent copy of the SQLite database,
taken while the server runs.

SQLite's online backup API (``sqlite3.Connection.backup``) copies the
database as one snapshot even while other connections write (it restarts when
they do), which copying the file would not: a copy made mid-write, or without
the write-ahead log beside it, can be torn. The copy is written beside the
target under a temporary name, mode 0600 (it holds password hashes and sealed
secrets), and renamed into place only once complete, so a failed backup never
leaves a half-written file under the name given. PostgreSQL is backed up with
``pg_dump`` (docs/deployment.md), which does the same for it.
"""

import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(Exception):
    """Why no backup was made, in words for the operator."""


def backup(url: str, target: Path) -> Path:
    """Copy the SQLite database at ``url`` to ``target``; the database copied."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        raise BackupError(
            "The database is not SQLite: back PostgreSQL up with pg_dump "
            "(docs/deployment.md)."
        )
    source = Path(parsed.database)
    if not source.is_file():
        raise BackupError(f"There is no database at {source}.")
    if target.exists():
        raise BackupError(f"{target} exists already: name a new file.")
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent} is not a directory.")
    partial = target.with_name(f".{target.name}.partial")
    try:
        os.close(os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        _copy(source, partial)
        partial.rename(target)
    except (OSError, sqlite3.Error) as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"The backup failed: {exc}") from None
    return source


def _copy(source: Path, target: Path) -> None:
    origin = sqlite3.connect(source)
    try:
        copy = sqlite3.connect(target)
        try:
            origin.backup(copy)
        finally:
            copy.close()
    finally:
        origin.close()
