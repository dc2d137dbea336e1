"""Step-up (RFC 9470): sensitive actions need a sign-in newer than
``AUTHGATE_STEP_UP_MAX_AGE``; older, the API answers 401
``insufficient_user_authentication`` with the challenge saying what would do,
and signing in again (or refreshing, after a re-authentication) recovers."""

import httpx
import pytest

from authgate.util import clock
from tests.support.actions import Actions
from tests.support.asserts import error

#: Just past the default ten minutes.
STALE = 10 * 60 + 1
CHALLENGE = (
    'Bearer error="insufficient_user_authentication", '
    'error_description="This needs a recent sign-in: confirm who you are again.", '
    'max_age="600"'
)


def _pat(client: httpx.Client, headers: dict[str, str]) -> httpx.Response:
    return client.post(
        "/api/v1/access-tokens",
        headers=headers,
        json={"name": "deploy", "expires_in_days": 1},
    )


def test_a_stale_sign_in_cannot_mint_a_token_until_it_signs_in_again(
    actions: Actions, client: httpx.Client
) -> None:
    alice = actions.user()
    assert _pat(client, alice.bearer).status_code == 201
    clock.advance(STALE)
    refused = _pat(client, alice.bearer)
    assert refused.status_code == 401
    error(refused, 401, "insufficient_user_authentication")
    assert refused.headers["www-authenticate"] == CHALLENGE
    again = actions.login(alice.username)
    assert _pat(client, again.bearer).status_code == 201


def test_a_refreshed_token_says_the_old_sign_in(
    actions: Actions, client: httpx.Client
) -> None:
    alice = actions.user()
    clock.advance(STALE)
    refreshed = client.post(
        "/api/v1/auth/refresh", json={"refresh_token": alice.refresh_token}
    )
    assert refreshed.status_code == 200
    headers = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}
    assert _pat(client, headers).status_code == 401


def test_a_pat_keeps_its_powers(actions: Actions, client: httpx.Client) -> None:
    """A PAT carries no sign-in of its own: it was minted under a recent one."""
    alice = actions.user()
    pat = actions.make_pat(alice)["token"]
    clock.advance(STALE)
    assert _pat(client, {"Authorization": f"Bearer {pat}"}).status_code == 201


def test_admin_changes_need_a_recent_sign_in_and_reads_do_not(
    actions: Actions, client: httpx.Client
) -> None:
    admin = actions.admin()
    clock.advance(STALE)
    assert client.get("/api/v1/admin/users", headers=admin.bearer).status_code == 200
    refused = client.post("/api/v1/admin/invites", headers=admin.bearer, json={})
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == CHALLENGE


@pytest.mark.parametrize("path", ["/api/v1/recovery-key", "/api/v1/api-keys"])
def test_sign_in_changes_and_keys_need_it(
    actions: Actions, client: httpx.Client, path: str
) -> None:
    alice = actions.user()
    clock.advance(STALE)
    refused = client.post(path, headers=alice.bearer, json={"name": "k"})
    assert refused.status_code == 401
    error(refused, 401, "insufficient_user_authentication")
