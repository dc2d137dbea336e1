"""How an authentication is kept in the rows that record one (authorization
and device codes, refresh tokens): a time column and the ``amr`` values,
space-separated."""

from datetime import datetime
from typing import Any

from authgate.domain import assurance
from authgate.domain.assurance import Authentication


def read(at: datetime | None, amr: str | None) -> Authentication | None:
    """``None`` for rows written before Authgate kept it."""
    return Authentication(at, assurance.parse(amr)) if at is not None else None


def columns(authentication: Authentication | None) -> dict[str, Any]:
    if authentication is None:
        return {"auth_time": None, "amr": None}
    return {"auth_time": authentication.at, "amr": " ".join(authentication.amr)}
