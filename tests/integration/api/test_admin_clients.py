"""``/api/v1/admin/clients``: administrators list, create and delete OAuth
clients; deleting one revokes everything it holds."""

from typing import Any

import httpx
import pytest

from tests.support.actions import Actions
from tests.support.asserts import error
from tests.support.live import LiveServer
from tests.support.oauth import audit_events, discover, oauth_client


def test_create_list_delete(
    server: LiveServer, actions: Actions, database_url: str
) -> None:
    admin = actions.admin()
    created = actions.make_client(
        redirect_uris=["https://app.example.com/callback"], scope="openid read"
    )
    assert created["client_secret"].startswith("ag_cs_")
    assert created["public"] is False
    assert created["token_endpoint_auth_method"] == "client_secret_basic"
    assert created["grant_types"] == ["authorization_code", "refresh_token"]
    listed = actions.client.get("/api/v1/admin/clients", headers=admin.bearer)
    assert listed.status_code == 200
    [found] = [
        i for i in listed.json()["items"] if i["client_id"] == created["client_id"]
    ]
    assert "client_secret" not in found
    assert found["scope"] == "openid read"
    deleted = actions.client.delete(
        f"/api/v1/admin/clients/{created['client_id']}", headers=admin.bearer
    )
    assert deleted.status_code == 204
    again = actions.client.delete(
        f"/api/v1/admin/clients/{created['client_id']}", headers=admin.bearer
    )
    error(again, 404, "not_found")
    events = [e["action"] for e in audit_events(database_url)]
    assert "oauth_client.registered" in events
    assert "oauth_client.deleted" in events
    # The secret never reaches the audit log.
    assert created["client_secret"] not in str(audit_events(database_url))


def test_deleting_a_client_kills_its_tokens(
    server: LiveServer, actions: Actions
) -> None:
    service = actions.make_client(grant_types=["client_credentials"])
    meta = discover(server.url)
    with oauth_client(meta, service["client_id"], service["client_secret"]) as client:
        token = client.fetch_token(grant_type="client_credentials")
        introspected = client.introspect_token(
            meta["introspection_endpoint"], token=token["access_token"]
        )
        assert introspected.json()["active"] is True
    other = actions.make_client(grant_types=["client_credentials"])
    assert (
        actions.client.delete(
            f"/api/v1/admin/clients/{service['client_id']}",
            headers=actions.admin().bearer,
        ).status_code
        == 204
    )
    with oauth_client(meta, other["client_id"], other["client_secret"]) as client:
        after = client.introspect_token(
            meta["introspection_endpoint"], token=token["access_token"]
        )
    assert after.json() == {"active": False}
    refused = httpx.post(
        meta["token_endpoint"],
        data={"grant_type": "client_credentials"},
        auth=(service["client_id"], service["client_secret"]),
    )
    error(refused, 401, "invalid_client")


def test_only_admins(server: LiveServer, actions: Actions) -> None:
    user = actions.user()
    response = actions.client.get("/api/v1/admin/clients", headers=user.bearer)
    error(response, 403, "forbidden")
    response = actions.client.post(
        "/api/v1/admin/clients", headers=user.bearer, json={"name": "x"}
    )
    error(response, 403, "forbidden")
    error(httpx.get(f"{server.url}/api/v1/admin/clients"), 401)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"redirect_uris": ["http://evil.example/cb"]}, "invalid_redirect_uri"),
        (
            {"public": True, "grant_types": ["client_credentials"]},
            "invalid_client_metadata",
        ),
        ({"grant_types": ["implicit"]}, "invalid_client_metadata"),
        ({"grant_types": ["authorization_code"]}, "invalid_redirect_uri"),
        ({"scope": "everything"}, "invalid_client_metadata"),
        ({"name": "  "}, "invalid_client_metadata"),
        ({"redirect_uris": "https://x.example/cb"}, "invalid_request"),
    ],
)
def test_refused_clients(actions: Actions, body: dict[str, Any], code: str) -> None:
    response = actions.client.post(
        "/api/v1/admin/clients",
        headers=actions.admin().bearer,
        json={"name": "Client", **body},
    )
    error(response, 400, code)
