"""Typed tables, one module per concept. Importing this package registers them all."""

from authgate.storage.models import audit, invites, keys, sessions, users

__all__ = ["audit", "invites", "keys", "sessions", "users"]
