"""AUTHGATE_SIGNIN_ALLOWED_EMAILS holds for local registration too."""

from collections.abc import Callable

import pytest

from tests.support.actions import Actions, random_name
from tests.support.asserts import error
from tests.support.live import LiveServer
from tests.support.upstream import audit_events

pytestmark = pytest.mark.e2e


def test_registration_needs_an_allowed_address(
    start_server: Callable[..., LiveServer], database_url: str
) -> None:
    server = start_server(
        allow_registration=True, signin_allowed_emails="@corp.example,vip@other.example"
    )
    actions = Actions(server.client())

    refused = actions.register(random_name(), email="mallory@elsewhere.example")
    body = error(refused, 403, "signin_refused")
    assert "allowed" in body["error_description"]
    error(actions.register(random_name()), 403, "signin_refused")  # no address
    event = audit_events(database_url, "login.refused")[0]
    assert event.details["provider"] == "local"
    assert event.details["reason"] == "email_not_allowed"

    assert actions.register(random_name(), email="ann@corp.example").status_code == 201
    assert actions.register(random_name(), email="VIP@other.example").status_code == 201


def test_an_empty_list_is_open(start_server: Callable[..., LiveServer]) -> None:
    actions = Actions(start_server(allow_registration=True).client())
    assert actions.register(random_name(), email="any@where.example").status_code == 201
