"""Typed tables, one module per concept. Importing this package registers them all."""

from authgate.storage.models import (
    audit,
    credentials,
    identities,
    invalidations,
    invites,
    keys,
    oauth,
    orgs,
    replay,
    sessions,
    users,
)

__all__ = [
    "audit",
    "credentials",
    "identities",
    "invalidations",
    "invites",
    "keys",
    "oauth",
    "orgs",
    "replay",
    "sessions",
    "users",
]
