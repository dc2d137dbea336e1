"""The unit of work a use case runs in: every store, in one transaction.

``storage.db.Database.transaction()`` yields an object of this shape; use cases
take it and never commit. It sits on top of the domain: each domain module
declares its own ``Tx``, the stores its use cases touch (``audit.Tx`` has
``audit``; ``sessions.Tx`` adds ``sessions`` to the ``grants.Tx`` of the grants
it ends; and so on up), so a module imports only those below it. ``Stores`` is
the union of the topmost ones, so mypy checks it satisfies each of them.
"""

from typing import Protocol

from authgate.domain import (
    clients,
    housekeeping,
    identities,
    recovery,
    refresh_tokens,
    registration,
    signing_keys,
)
from authgate.domain.backoffice import BackOfficeStore


class Stores(
    identities.Tx,
    recovery.Tx,
    registration.Tx,
    refresh_tokens.Tx,
    clients.Tx,
    signing_keys.Tx,
    housekeeping.Tx,
    Protocol,
):
    @property
    def clients(self) -> clients.ClientStore:
        """The whole store (``grants.Tx`` names only the read it makes)."""

    @property
    def backoffice(self) -> BackOfficeStore:
        """Read only by the back office's HTTP API, which has no use case."""
