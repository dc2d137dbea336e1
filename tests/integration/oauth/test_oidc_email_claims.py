"""``email_verified`` in ID tokens and userinfo (OIDC Core §5.1) is the
stored state: false until the person follows the link mailed to the
address, true after, so another app may trust the address it gets."""

from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest

from tests.support import mailbox
from tests.support.actions import Actions, Login, random_email
from tests.support.live import LiveServer

EMAIL = random_email()


@pytest.fixture
def user(actions: Actions) -> Login:
    """The signed-in person of the flow, with an address (not verified yet)."""
    return actions.user(email=EMAIL)


def said(
    code_flow: Callable[..., Any], meta: dict[str, Any], client_id: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """What a code flow's ID token and the userinfo endpoint say."""
    _client, token = code_flow(client_id, scope="openid email", nonce="n-1")
    id_token = jwt.decode(token["id_token"], options={"verify_signature": False})
    info = httpx.get(
        meta["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert info.status_code == 200, info.text
    return dict(id_token), dict(info.json())


def test_email_verified_follows_the_stored_state(
    server: LiveServer,
    client: httpx.Client,
    user: Login,
    public_client: dict[str, Any],
    code_flow: Callable[..., Any],
    meta: dict[str, Any],
) -> None:
    assert "email_verified" in meta["claims_supported"]
    for claims in said(code_flow, meta, public_client["client_id"]):
        assert (claims["email"], claims["email_verified"]) == (EMAIL, False)
    mailbox.verify(server, client, EMAIL)
    for claims in said(code_flow, meta, public_client["client_id"]):
        assert (claims["email"], claims["email_verified"]) == (EMAIL, True)
