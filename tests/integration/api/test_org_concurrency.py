"""Membership changes that race: each is decided under the org's row lock, so
concurrent requests act as if one ran after the other. Two owners stepping
down at once leave one owner; an invite accepted twice at once makes one
membership. Each race is run a few times, with both requests released
together from warmed-up connections."""

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from authgate.storage.repos.orgs import OrgRepo
from tests.support import db
from tests.support.actions import PASSWORD, Actions, Login, random_name
from tests.support.asserts import error
from tests.support.live import LiveServer
from tests.support.race import Request, race

ROUNDS = 4


@pytest.fixture
def server(start_server: Callable[..., LiveServer]) -> LiveServer:
    return start_server(rate_limit_enabled=False)


def send(method: str, path: str, login: Login | None, body: Any = None) -> Request:
    headers = login.bearer if login else {}
    return lambda http: http.request(method, path, headers=headers, json=body)


def user_id(client: httpx.Client, login: Login) -> str:
    return str(client.get("/api/v1/me", headers=login.bearer).json()["id"])


def count_owners(database_url: str, org_id: str) -> int:
    async def use(tx: Any) -> int:
        return int(await tx.orgs.count_owners(org_id))

    return db.run(database_url, use)


def two_owners(actions: Actions) -> tuple[str, Login, Login]:
    first = actions.user()
    org = actions.make_org(first)["id"]
    second = actions.org_member(first, org, "owner")
    return org, first, second


def members(client: httpx.Client, org: str, login: Login) -> dict[str, str]:
    response = client.get(f"/api/v1/orgs/{org}/members", headers=login.bearer)
    assert response.status_code == 200, response.text
    return {m["username"]: m["role"] for m in response.json()["items"]}


def test_the_last_two_owners_stepping_down_at_once_leave_one(
    actions: Actions, client: httpx.Client, server: LiveServer, database_url: str
) -> None:
    for _ in range(ROUNDS):
        org, first, second = two_owners(actions)
        base = f"/api/v1/orgs/{org}/members"
        responses = race(
            server,
            *(
                send("PATCH", f"{base}/{user_id(client, o)}", o, {"role": "admin"})
                for o in (first, second)
            ),
        )
        assert sorted(r.status_code for r in responses) == [200, 409], [
            r.text for r in responses
        ]
        [refused] = [r for r in responses if r.status_code == 409]
        assert refused.json()["error"] == "conflict"
        assert count_owners(database_url, org) == 1
        roles = members(client, org, first)
        assert sorted(roles.values()) == ["admin", "owner"]


def test_the_last_two_owners_leaving_at_once_leave_one(
    actions: Actions, client: httpx.Client, server: LiveServer, database_url: str
) -> None:
    for _ in range(ROUNDS):
        org, first, second = two_owners(actions)
        base = f"/api/v1/orgs/{org}/members"
        responses = race(
            server,
            *(
                send("DELETE", f"{base}/{user_id(client, o)}", o)
                for o in (first, second)
            ),
        )
        assert sorted(r.status_code for r in responses) == [204, 409], [
            r.text for r in responses
        ]
        assert count_owners(database_url, org) == 1
        stayed = first if responses[0].status_code == 409 else second
        assert members(client, org, stayed) == {stayed.username: "owner"}


def test_two_owners_demoting_each_other_at_once_leave_one(
    actions: Actions, client: httpx.Client, server: LiveServer, database_url: str
) -> None:
    """Whichever runs second is refused: either its owner was just demoted
    (403) or the other would be the last owner (409)."""
    for _ in range(ROUNDS):
        org, first, second = two_owners(actions)
        base = f"/api/v1/orgs/{org}/members"
        viewer = {"role": "viewer"}
        responses = race(
            server,
            send("PATCH", f"{base}/{user_id(client, second)}", first, viewer),
            send("PATCH", f"{base}/{user_id(client, first)}", second, viewer),
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses[0] == 200, [r.text for r in responses]
        assert statuses[1] in (403, 409), [r.text for r in responses]
        assert count_owners(database_url, org) == 1


def test_an_invite_accepted_twice_at_once_makes_one_membership(
    actions: Actions, client: httpx.Client, server: LiveServer, database_url: str
) -> None:
    owner = actions.user()
    org = actions.make_org(owner)["id"]
    for _ in range(ROUNDS):
        name = random_name()
        email = f"{name}@example.com"
        joiner = actions.person(email)
        code = actions.org_invite(owner, org, email, "member")["code"]

        accept = send("POST", "/api/v1/org-invites/accept", joiner, {"code": code})
        responses = race(server, accept, accept)
        statuses = sorted(r.status_code for r in responses)
        assert statuses[0] == 200, [r.text for r in responses]
        assert statuses[1] in (403, 409), [r.text for r in responses]
        roles = members(client, org, owner)
        assert roles[joiner.username] == "member"

        async def memberships(tx: Any, user: str = user_id(client, joiner)) -> int:
            return len(await tx.orgs.memberships(user))

        assert db.run(database_url, memberships) == 1


def test_an_org_invite_registered_twice_at_once_makes_one_account(
    start_server: Callable[..., LiveServer], database_url: str
) -> None:
    # Only where org invites make accounts (by default they do not).
    server = start_server(org_invites_create_accounts=True)
    with server.client() as client:
        actions = Actions(client)
        owner = actions.user()
        org = actions.make_org(owner)["id"]
        for _ in range(ROUNDS):
            email = f"{random_name()}@example.com"
            code = actions.org_invite(owner, org, email, "viewer")["code"]
            names = [random_name(), random_name()]

            responses = race(
                server,
                *(
                    send(
                        "POST",
                        "/api/v1/auth/register",
                        None,
                        {"username": n, "password": PASSWORD, "invite_code": code},
                    )
                    for n in names
                ),
            )
            statuses = sorted(r.status_code for r in responses)
            assert statuses[0] == 201, [r.text for r in responses]
            assert statuses[1] in (403, 409), [r.text for r in responses]
            joined = [n for n, r in zip(names, responses, strict=True) if r.is_success]
            assert db.user(database_url, joined[0]).email == email
            lost = [n for n in names if n not in joined]
            assert db.user(database_url, lost[0]) is None
            roles = members(client, org, owner)
            assert roles[joined[0]] == "viewer"
            assert lost[0] not in roles


def test_a_role_lost_while_waiting_for_the_lock_counts(
    actions: Actions,
    client: httpx.Client,
    server: LiveServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The actor's role is read again once the org is locked: an owner demoted
    by the request holding the lock may not go on to act as an owner."""
    original = OrgRepo.lock

    async def slow_lock(self: OrgRepo, org_id: str) -> None:
        await original(self, org_id)
        await asyncio.sleep(0.5)  # hold the lock long enough to be waited for

    org, first, second = two_owners(actions)
    admin = actions.org_member(first, org, "admin")
    base = f"/api/v1/orgs/{org}/members"
    demote = send(
        "PATCH", f"{base}/{user_id(client, second)}", first, {"role": "member"}
    )
    remove = send("DELETE", f"{base}/{user_id(client, admin)}", second)
    monkeypatch.setattr(OrgRepo, "lock", slow_lock)

    def late(http: httpx.Client) -> httpx.Response:
        time.sleep(0.2)  # after the demotion took the lock, before it commits
        return remove(http)

    demoted, removal = race(server, demote, late)
    assert demoted.status_code == 200, demoted.text
    error(removal, 403, "forbidden")
    assert members(client, org, first) == {
        first.username: "owner",
        second.username: "member",
        admin.username: "admin",
    }
