"""Sign-in through WorkOS, against the local stand-in (``authgate.upstream.stub``)
that answers as WorkOS's User Management API documents: the user, and the
organization (if any) mapped onto an Authgate org."""

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from authgate.storage.db import Tx
from authgate.upstream.stub import StandInUser
from tests.support import db
from tests.support.live import LiveServer
from tests.support.upstream import (
    SignIn,
    StandIn,
    audit_events,
    links,
    workos_settings,
    workos_stand_in,
)

pytestmark = pytest.mark.e2e

ALICE = StandInUser(
    id="user_01ALICE",
    email="alice@wonderland.example",
    first_name="Alice",
    last_name="Liddell",
    organization_id="org_01WONDER",
)
HATTER = StandInUser(
    id="user_01HATTER",
    email="hatter@wonderland.example",
    organization_id="org_01WONDER",
)
BOB = StandInUser(id="user_01BOB", email="bob@example.com", first_name="Bob")


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    with workos_stand_in(
        [ALICE, HATTER, BOB], organizations={"org_01WONDER": "Wonderland Inc."}
    ) as found:
        yield found


def sign_in(server: LiveServer, user: StandInUser) -> tuple[Any, Any]:
    http = server.client()
    flow = SignIn(http)
    flow.start(next="/done")
    flow.approve_at_stand_in(user.id)
    return flow.finish(), http


def orgs(http: httpx.Client) -> list[dict[str, Any]]:
    response = http.get("/api/v1/orgs")
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_the_authorization_request_is_workos_s(
    start_server: Callable[..., LiveServer], stand_in: StandIn
) -> None:
    server = start_server(**workos_settings(stand_in))
    authorize = SignIn(server.client()).start()
    assert authorize.startswith(f"{stand_in.url}/user_management/authorize?")
    params = dict(item.split("=", 1) for item in authorize.split("?", 1)[1].split("&"))
    assert params["client_id"] == stand_in.app.client_id
    assert params["response_type"] == "code"
    assert params["provider"] == "authkit"
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43
    assert params["state"]
    assert "auth%2Fcallback" in params["redirect_uri"]


def test_sign_in_without_an_organization(
    start_server: Callable[..., LiveServer], stand_in: StandIn, database_url: str
) -> None:
    server = start_server(**workos_settings(stand_in))
    response, http = sign_in(server, BOB)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/done"
    me = http.get("/api/v1/me").json()
    assert me["username"] == "bob"
    assert me["email"] == "bob@example.com"
    assert me["org_id"] is None
    assert orgs(http) == []
    [link] = links(database_url, me["id"])
    assert (link.provider, link.subject) == ("workos", "user_01BOB")
    assert audit_events(database_url, "login.succeeded")[0].details == {
        "method": "workos"
    }

    # What Authgate sent is what WorkOS documents: the API key as the client
    # secret, and the PKCE verifier.
    [sent] = stand_in.app.authenticate_requests
    assert sent["client_id"] == stand_in.app.client_id
    assert sent["client_secret"] == stand_in.app.api_key
    assert sent["grant_type"] == "authorization_code"
    assert sent["code_verifier"]


def test_an_organization_maps_onto_one_authgate_org(
    start_server: Callable[..., LiveServer], stand_in: StandIn, database_url: str
) -> None:
    server = start_server(**workos_settings(stand_in, allow_registration=True))
    response, alice = sign_in(server, ALICE)
    assert response.status_code == 303, response.text
    [org] = orgs(alice)
    assert org["name"] == "Wonderland Inc."
    assert org["slug"] == "wonderland-inc"
    assert org["role"] == "member"
    assert alice.get("/api/v1/me").json()["org_id"] == org["id"]

    _, hatter = sign_in(server, HATTER)
    assert [o["id"] for o in orgs(hatter)] == [org["id"]]

    # Signing in again joins nothing new and makes no second org.
    _, again = sign_in(server, ALICE)
    assert [o["id"] for o in orgs(again)] == [org["id"]]
    created = audit_events(database_url, "org.created")
    assert len(created) == 1
    assert created[0].details["provider"] == "workos"
    assert created[0].details["external_id"] == "org_01WONDER"
    joined = audit_events(database_url, "member.joined")
    assert len(joined) == 2

    async def org_link(tx: Tx) -> str | None:
        return await tx.identities.org("workos", "org_01WONDER")

    assert db.run(database_url, org_link) == org["id"]


def test_a_wrong_api_key_is_refused(
    start_server: Callable[..., LiveServer], stand_in: StandIn, database_url: str
) -> None:
    server = start_server(
        **workos_settings(stand_in, workos_api_key="sk_test_not_the_key")
    )
    response, http = sign_in(server, BOB)
    assert response.status_code == 403
    assert "<code>token_exchange_failed</code>" in response.text
    assert "invalid_client" in response.text
    assert http.get("/api/v1/me").status_code == 401
    event = audit_events(database_url, "login.refused")[0]
    assert event.details == {"provider": "workos", "reason": "token_exchange_failed"}


def test_the_readiness_check_names_workos(
    start_server: Callable[..., LiveServer], stand_in: StandIn
) -> None:
    server = start_server(**workos_settings(stand_in))
    assert server.client().get("/readyz").json()["provider"] == "workos"
