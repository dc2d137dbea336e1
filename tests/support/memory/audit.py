"""The audit log."""

from dataclasses import replace
from datetime import datetime

from authgate.domain.audit import AuditEvent, AuditQuery


class MemoryAudit:
    def __init__(self) -> None:
        #: every event, oldest first, numbered from 1 as the table's key is
        self.events: list[AuditEvent] = []
        self._last_id = 0

    async def add(self, event: AuditEvent) -> None:
        self._last_id += 1
        self.events.append(replace(event, id=self._last_id))

    async def query(self, query: AuditQuery) -> list[AuditEvent]:
        def wanted(event: AuditEvent) -> bool:
            assert event.id is not None
            return (
                (
                    not query.user_id
                    or query.user_id in (event.actor_id, event.target_id)
                )
                and (not query.action or event.action == query.action)
                and (not query.org_id or event.org_id == query.org_id)
                and (not query.since or event.at >= query.since)
                and (not query.until or event.at < query.until)
                and (query.before_id is None or event.id < query.before_id)
            )

        return [e for e in reversed(self.events) if wanted(e)][: query.limit]

    async def prune(self, before: datetime, limit: int) -> int:
        gone = {e.id for e in self.events if e.at < before}
        gone = set(sorted(gone, key=lambda i: i or 0)[:limit])
        self.events = [e for e in self.events if e.id not in gone]
        return len(gone)

    def actions(self) -> list[str]:
        """The actions recorded, oldest first: what most tests look at."""
        return [e.action for e in self.events]
