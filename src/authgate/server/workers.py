"""The processes of one ``authgate serve --workers N``.

uvicorn's supervisor starts N processes that accept on one socket. Each is an
instance like any other: its caches follow the invalidation feed, so a
revocation answered by one worker reaches the others exactly as it reaches
another machine, and rate limits are shared through Redis when it is set (or
counted by each worker on its own, as separate instances do without it).

What an operator reads from one of them is different: a scrape of ``/metrics``
lands on whichever worker accepts it. So each worker writes its samples,
labelled ``worker="<pid>"``, to a directory the supervisor made
(:data:`DIR_ENV`) every :data:`SNAPSHOT_SECONDS`, and the one answering a
scrape adds its live siblings' latest to its own: every worker in every
scrape, each at most that old.
"""

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

from authgate.server.metrics import Families

log = logging.getLogger("authgate")

#: Set by ``authgate serve`` for its workers when it runs more than one.
DIR_ENV = "_AUTHGATE_WORKERS_DIR"
SNAPSHOT_SECONDS = 2.0


class Siblings:
    """This worker's snapshots for the others, and theirs for this one."""

    def __init__(self, directory: Path, families: Callable[[], Families]) -> None:
        self._directory = directory
        self._families = families
        self._pid = os.getpid()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def from_environment(cls, families: Callable[[], Families]) -> "Siblings | None":
        directory = os.environ.get(DIR_ENV)
        return cls(Path(directory), families) if directory else None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(OSError):
            (self._directory / f"{self._pid}.json").unlink()

    def write(self) -> None:
        """Replace this worker's snapshot at once (a reader never sees half)."""
        path = self._directory / f"{self._pid}.json"
        partial = path.with_suffix(".tmp")
        partial.write_text(json.dumps(self._families()))
        partial.replace(path)

    def read(self) -> list[Families]:
        """The latest snapshot of every other live worker."""
        found: list[Families] = []
        for path in self._directory.glob("*.json"):
            if path.stem == str(self._pid) or not _alive(path.stem):
                continue
            with contextlib.suppress(OSError, ValueError):
                found.append(json.loads(path.read_text()))
        return found

    async def _run(self) -> None:
        while True:
            try:
                self.write()
            except OSError:
                log.warning("could not write this worker's metrics snapshot")
            await asyncio.sleep(SNAPSHOT_SECONDS)


def current() -> str | None:
    """This worker's label, when ``authgate serve`` runs several."""
    return str(os.getpid()) if os.environ.get(DIR_ENV) else None


def _alive(pid: str) -> bool:
    """A worker killed outright left its snapshot behind: skip it."""
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:
        return True
    return True
