"""Typed tables, one module per concept. Importing this package registers them all."""

from authgate.storage.models import (
    audit,
    credentials,
    factors,
    identities,
    invalidations,
    invites,
    mail,
    oauth,
    orgs,
    replay,
    sessions,
    signing_keys,
    users,
)

__all__ = [
    "audit",
    "credentials",
    "factors",
    "identities",
    "invalidations",
    "invites",
    "mail",
    "oauth",
    "orgs",
    "replay",
    "sessions",
    "signing_keys",
    "users",
]
