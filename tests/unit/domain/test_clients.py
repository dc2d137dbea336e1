"""Redirect-URI rules (OAuth 2.1 §2.3.1, RFC 8252 §7-8) and client secrets."""

import dataclasses
from datetime import timedelta

import pytest

from authgate.domain import audit, clients, grants, refresh_tokens
from authgate.domain.clients import redirect_kind, redirect_uri_matches
from authgate.domain.passwords import Hasher
from authgate.errors import (
    Conflict,
    InvalidClientMetadata,
    InvalidRedirectUri,
    NotFound,
)
from authgate.util import tokens
from tests.support.memory import MemoryStores
from tests.unit.domain.conftest import ACCESS_TTL, PEER
from tests.unit.domain.conftest import register as register_user


@pytest.mark.parametrize(
    ("uri", "kind"),
    [
        ("https://app.example.com/cb", "https"),
        ("http://127.0.0.1/cb", "loopback"),
        ("http://127.0.0.1:8080/cb", "loopback"),
        ("http://[::1]/cb", "loopback"),
        ("http://localhost:3000/cb", "loopback"),
        ("com.example.app:/oauth2redirect", "private_use"),
    ],
)
def test_accepted_redirect_uris(uri: str, kind: str) -> None:
    assert redirect_kind(uri) == kind


@pytest.mark.parametrize(
    "uri",
    [
        "",
        "/relative",
        "http://app.example.com/cb",  # http off loopback
        "https://app.example.com/cb#fragment",
        "https://*.example.com/cb",
        "https://app.example.com/*",
        "https://user:pw@app.example.com/cb",
        "javascript:alert(1)",
        "data:text/html,hi",
        "myapp://callback",  # not reverse-domain
        "HTTPS://app.example.com/cb",
        "https://app.example.com/c b",
        "https://app.example.com:99999/cb",
    ],
)
def test_refused_redirect_uris(uri: str) -> None:
    with pytest.raises(InvalidRedirectUri):
        redirect_kind(uri)


@pytest.mark.parametrize(
    ("registered", "presented", "matches"),
    [
        ("https://app.example.com/cb", "https://app.example.com/cb", True),
        ("https://app.example.com/cb", "https://app.example.com/cb/", False),
        ("https://app.example.com/cb", "https://app.example.com/cb/x", False),
        ("https://app.example.com/cb", "https://app.example.com:443/cb", False),
        ("https://app.example.com/cb", "https://app.example.com/cb?x=1", False),
        ("https://app.example.com/cb", "https://APP.example.com/cb", False),
        ("http://127.0.0.1/cb", "http://127.0.0.1:51000/cb", True),
        ("http://127.0.0.1:8000/cb", "http://127.0.0.1:51000/cb", True),
        ("http://[::1]/cb", "http://[::1]:51000/cb", True),
        ("http://127.0.0.1/cb", "http://127.0.0.1:51000/cb/x", False),
        ("http://127.0.0.1/cb", "http://127.0.0.1:51000/cb?x=1", False),
        ("http://127.0.0.1/cb", "http://127.0.0.1:51000/cb#x", False),
        ("http://127.0.0.1/cb", "http://localhost:51000/cb", False),
        ("http://127.0.0.1/cb", "https://127.0.0.1:51000/cb", False),
        ("http://127.0.0.1/cb?a=1", "http://127.0.0.1:5/cb?a=1", True),
    ],
)
def test_matching(registered: str, presented: str, matches: bool) -> None:
    assert redirect_uri_matches(registered, presented) is matches


def test_grant_types_and_defaults() -> None:
    assert clients.check_grant_types(["device_code"], public=True) == (
        clients.DEVICE_CODE,
    )
    with pytest.raises(InvalidClientMetadata):
        clients.check_grant_types(["client_credentials"], public=True)
    with pytest.raises(InvalidClientMetadata):
        clients.check_grant_types(["refresh_token"], public=False)
    with pytest.raises(InvalidClientMetadata):
        clients.check_grant_types(["implicit"], public=False)
    assert clients.default_grant_types(public=False, redirect_uris=()) == [
        clients.CLIENT_CREDENTIALS
    ]


def test_secret_comparison() -> None:
    secret = tokens.mint("ag", "cs")
    client = clients.Client(
        id="cl_1",
        name="x",
        redirect_uris=(),
        grant_types=(clients.CLIENT_CREDENTIALS,),
        auth_method="client_secret_basic",
        created_at=None,  # type: ignore[arg-type]
        secret_hash=tokens.digest(secret),
    )
    assert clients.secret_matches(client, secret)
    assert not clients.secret_matches(client, secret + "x")
    assert not clients.secret_matches(None, secret)


@pytest.mark.anyio
async def test_the_built_in_client_wins_over_any_stored_row(
    stores: MemoryStores,
) -> None:
    # One row claiming the CLI's id, as a hand-edited database might hold.
    impostor = dataclasses.replace(
        clients.CLI_CLIENT,
        name="Impostor",
        redirect_uris=("https://evil.example/cb",),
        registration="dynamic",
    )
    await stores.clients.add(impostor)
    assert await clients.find(stores, clients.CLI_CLIENT_ID) is clients.CLI_CLIENT
    assert await clients.find(stores, "x" * (clients.CLIENT_ID_MAX + 1)) is None
    assert (await clients.listed(stores))[0] is clients.CLI_CLIENT


async def register(
    stores: MemoryStores, *, public: bool
) -> tuple[clients.Client, str | None]:
    return await clients.create(
        stores,
        prefix="ag",
        name=" My app ",
        redirect_uris=["http://127.0.0.1/cb"],
        grant_types=None,
        public=public,
        registration="dynamic",
        created_by=None,
        peer=PEER,
    )


@pytest.mark.anyio
async def test_a_confidential_client_gets_a_secret_shown_once(
    stores: MemoryStores,
) -> None:
    client, secret = await register(stores, public=False)
    assert secret is not None
    assert client.secret_hash == tokens.digest(secret)
    assert clients.secret_matches(await clients.find(stores, client.id), secret)
    assert (client.name, client.registered_from) == ("My app", PEER.ip)
    public, no_secret = await register(stores, public=True)
    assert (public.auth_method, no_secret) == ("none", None)
    assert stores.audit.actions() == [audit.Action.CLIENT_REGISTERED] * 2


@pytest.mark.anyio
async def test_deleting_a_client_revokes_what_it_holds(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register_user(stores, hasher, "alice")
    client, _ = await register(stores, public=True)
    await grants.give_consent(
        stores,
        user_id=alice.id,
        client_id=client.id,
        scopes=["read"],
        resources=[],
        peer=PEER,
    )
    issued = await refresh_tokens.issue(
        stores,
        prefix="ag",
        lifetime=refresh_tokens.Lifetime(idle=timedelta(days=1), max=timedelta(days=2)),
        user_id=alice.id,
        client_id=client.id,
    )
    await clients.delete(
        stores, client.id, access_ttl=ACCESS_TTL, actor_id=None, peer=PEER
    )
    assert await clients.find(stores, client.id) is None
    assert stores.refresh_tokens.rows[issued.token.id].revoked_at is not None
    assert await stores.consents.list_for_user(alice.id) == []
    # Its live access tokens name it (``client_id``) and their grant (``gid``).
    assert set(stores.revocations.rows) == {client.id, issued.token.family_id}
    with pytest.raises(NotFound):
        await clients.delete(
            stores, client.id, access_ttl=ACCESS_TTL, actor_id=None, peer=PEER
        )
    with pytest.raises(Conflict):
        await clients.delete(
            stores,
            clients.CLI_CLIENT_ID,
            access_ttl=ACCESS_TTL,
            actor_id=None,
            peer=PEER,
        )


@pytest.mark.parametrize(
    ("uri", "accepted"),
    [
        ("http://127.0.0.1:50123/callback", True),
        ("http://[::1]:50123/callback", True),
        ("http://localhost:8/callback", True),
        ("http://127.0.0.1:50123/other", False),
        ("http://evil.example:50123/callback", False),
        ("https://127.0.0.1/callback", False),
    ],
)
def test_the_cli_redirects_on_every_loopback_host_and_port(
    uri: str, accepted: bool
) -> None:
    assert clients.CLI_CLIENT.accepts_redirect(uri) is accepted


def test_the_cli_client_never_gets_admin_and_is_never_remembered() -> None:
    cli = clients.CLI_CLIENT
    assert "admin" not in cli.allowed_scopes()
    assert cli.public
    assert cli.verified
    assert not cli.remembers_consent
    assert cli.id in clients.FIRST_PARTY_CLIENTS
