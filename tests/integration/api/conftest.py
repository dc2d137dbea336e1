"""Every status these tests see is one ``/openapi.json`` documents."""

from tests.support.documented_statuses import statuses_documented

__all__ = ["statuses_documented"]
