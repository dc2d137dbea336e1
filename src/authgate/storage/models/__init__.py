"""Typed tables, one module per concept. Importing this package registers them all."""

from authgate.storage.models import (
    audit,
    credentials,
    invites,
    keys,
    orgs,
    sessions,
    users,
)

__all__ = ["audit", "credentials", "invites", "keys", "orgs", "sessions", "users"]
