"""``POST /api/v1/auth/register``: who may register, and the username and
password rules."""

from collections.abc import Callable, Iterator

import httpx
import pytest

from authgate.util import clock
from tests.support import db
from tests.support.actions import PASSWORD, Actions, random_name
from tests.support.asserts import error
from tests.support.live import LiveServer

DAY = 86_400
REGISTER = "/api/v1/auth/register"
USER_FIELDS = {"id", "username", "email", "is_admin", "created_at"}


@pytest.fixture
def open_actions(start_server: Callable[..., LiveServer]) -> Iterator[Actions]:
    """Actions on a server where anyone may register (no invite needed)."""
    server = start_server(allow_registration=True)
    with server.client() as http:
        yield Actions(http)


def create_invite(actions: Actions, **body: object) -> dict[str, str]:
    response = actions.client.post(
        "/api/v1/admin/invites", headers=actions.admin().bearer, json=body
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_first_user_needs_no_invite_and_is_admin(actions: Actions) -> None:
    name = random_name()
    response = actions.register(name, email="First@Example.COM")
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == USER_FIELDS  # no password hash, nothing internal
    assert body["username"] == name
    assert body["email"] == "First@example.com"
    assert body["is_admin"] is True
    assert body["id"].startswith("usr_")


def test_later_users_need_a_single_use_invite(
    actions: Actions, client: httpx.Client
) -> None:
    actions.admin()
    error(actions.register(), 403, "forbidden")
    error(actions.register(invite_code="not-a-code"), 403, "forbidden")
    error(actions.register(invite_code=""), 403, "forbidden")

    code = actions.invite()
    response = client.post(  # camelCase is accepted in
        "/api/v1/auth/register",
        json={"username": random_name(), "password": PASSWORD, "inviteCode": code},
    )
    assert response.status_code == 201, response.text
    assert response.json()["is_admin"] is False
    error(actions.register(invite_code=code), 403, "forbidden")  # used up

    response = actions.register(invite_code=actions.invite())
    assert response.status_code == 201, response.text
    assert response.json()["is_admin"] is False


def test_an_expired_invite_is_refused(actions: Actions) -> None:
    fresh = create_invite(actions, expires_in_days=1)["code"]
    stale = create_invite(actions, expires_in_days=1)["code"]
    clock.advance(DAY - 60)
    assert actions.register(invite_code=fresh).status_code == 201
    clock.advance(120)
    error(actions.register(invite_code=stale), 403, "forbidden")


def test_a_revoked_invite_is_refused(actions: Actions, client: httpx.Client) -> None:
    kept = create_invite(actions)
    revoked = create_invite(actions)
    response = client.delete(
        f"/api/v1/admin/invites/{revoked['id']}", headers=actions.admin().bearer
    )
    assert response.status_code == 204, response.text
    error(actions.register(invite_code=revoked["code"]), 403, "forbidden")
    assert actions.register(invite_code=kept["code"]).status_code == 201


def test_open_registration_needs_no_invite(open_actions: Actions) -> None:
    first = open_actions.register()
    second = open_actions.register()
    assert first.status_code == 201, first.text
    assert second.status_code == 201, second.text
    assert first.json()["is_admin"] is True
    assert second.json()["is_admin"] is False


def test_usernames_are_unique_across_case_and_unicode_forms(
    open_actions: Actions, database_url: str
) -> None:
    response = open_actions.register("Alice")
    assert response.status_code == 201, response.text
    assert response.json()["username"] == "alice"
    variants = [
        "alice",
        "ALICE",
        "aLiCe",
        "\uff41\uff4c\uff49\uff43\uff45",  # fullwidth, lower case
        "\uff21\uff2c\uff29\uff23\uff25",  # fullwidth, upper case
    ]
    for variant in variants:
        error(open_actions.register(variant), 409, "conflict")
    # Kelvin sign and a ligature fold to ASCII too.
    assert open_actions.register("kelvin").status_code == 201
    error(open_actions.register("\u212aelvin"), 409, "conflict")
    assert open_actions.register("office").status_code == 201
    error(open_actions.register("o\ufb03ce"), 409, "conflict")
    assert db.count_users(database_url) == 3


def test_password_policy(open_actions: Actions) -> None:
    name = "carol"
    weak = {
        "too short": "x7#Kq9!mZ2p",  # 11 characters
        "too long": "x7#Kq9!mZ2pL" * 10 + "x7#Kq9!mZ",  # 129 characters
        "common": "password1234",
        "common, other case": "PASSWORD1234",
        "contains the username": "my-carol-Zq7#x9!",
        "contains the username, other case": "my-CAROL-Zq7#x9!",
    }
    for reason, password in weak.items():
        body = error(open_actions.register(name, password), 400, "weak_password")
        assert body["error_description"], reason
        if reason == "common":  # with zxcvbn's estimate and advice
            assert (
                "Strength 1 of 4: This is a very common password. Add another"
                in (body["error_description"])
            )
    # The limits themselves are allowed.
    assert open_actions.register(name, "x7#Kq9!mZ2pL").status_code == 201
    longest = "x7#Kq9!mZ2pL" * 10 + "x7#Kq9!m"
    assert len(longest) == 128
    assert open_actions.register("dave", longest).status_code == 201


BAD_USERNAMES = [
    "",
    "a",
    "al ice",
    "al\tice",
    "ali\x07ce",
    "ali\x1bce",
    "\u202ealice",
    "alice\u202e",
    "ali\u200bce",
    "-alice",
    "a" * 65,
    "a" * 300,
    "al/ice",
    "al@ice",
]


def test_bad_usernames_are_refused(open_actions: Actions, database_url: str) -> None:
    for username in BAD_USERNAMES:
        response = open_actions.client.post(
            "/api/v1/auth/register", json={"username": username, "password": PASSWORD}
        )
        body = error(response, 400, "invalid_request")
        assert body["error_description"], username
    assert db.count_users(database_url) == 0
    assert open_actions.register("al.ice_2-b").status_code == 201


def test_a_refused_registration_costs_no_password_hash(
    actions: Actions, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Admission is checked before the argon2 hash (and again when writing):
    requests without a usable invite cannot make the server hash for them."""
    from authgate.domain.passwords import Hasher

    actions.admin()
    hashed: list[str] = []
    original = Hasher.hash

    async def counting(self: Hasher, password: str) -> str:
        hashed.append(password)
        return await original(self, password)

    monkeypatch.setattr(Hasher, "hash", counting)
    for code in (None, "ag_inv_not-a-real-code"):
        body = {"username": random_name(), "password": PASSWORD, "invite_code": code}
        error(actions.client.post(REGISTER, json=body), 403)
    assert hashed == []
    invite = create_invite(actions)["code"]
    body = {"username": random_name(), "password": PASSWORD, "invite_code": invite}
    assert actions.client.post(REGISTER, json=body).status_code == 201
    assert hashed == [PASSWORD]
