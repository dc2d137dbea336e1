"""The guard mounted in other apps: a Starlette app (protected as a whole) and
the FastAPI example (per-endpoint dependencies), each in its own process with no
server code and no database, trusting a live Authgate over HTTP only."""

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization

from authgate.domain import signing_keys
from authgate.domain.context import Peer
from authgate.domain.jwt import issue_access_token
from authgate.domain.orgs import Membership, Org
from tests.integration.guard.conftest import (
    HOSTS,
    Authgate,
    Host,
    authgate_for,
    host_env,
    hosts_for,
)
from tests.support.processes import app_process, free_port

JWKS = "/oauth/jwks"


def call(host: Host, token: str | None, path: str = "/whoami") -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(host.url + path, headers=headers, timeout=30)


def mint(authgate: Authgate, host: Host, **overrides: Any) -> str:
    """A token signed with Authgate's real current key, with chosen claims."""
    values: dict[str, Any] = {
        "issuer": authgate.url,
        "subject": "usr_someone",
        "audience": host.resource,
        "client_id": "authgate",
        "scope": "read write",
        "ttl": timedelta(minutes=5),
        **overrides,
    }
    return issue_access_token(authgate.services.keys.ring, **values).token


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict[str, Any], claims: dict[str, Any], key: bytes | None) -> str:
    """A token signed by hand: PyJWT itself refuses to HMAC with a PEM key."""
    signing_input = (
        f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    )
    signature = (
        hmac.new(key, signing_input.encode(), hashlib.sha256).digest() if key else b""
    )
    return f"{signing_input}.{b64(signature)}"


def assert_invalid_token(response: httpx.Response, host: Host) -> None:
    """RFC 6750 §3 with RFC 9728 §5.1: 401, ``invalid_token``, and where to
    find this resource's metadata."""
    assert response.status_code == 401, response.text
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert 'error="invalid_token"' in challenge
    assert f'resource_metadata="{host.metadata}"' in challenge


def test_valid_jwt_names_the_caller(authgate: Authgate, host: Host) -> None:
    token = authgate.client_token(host.resource)
    response = call(host, token)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["subject"] == authgate.client_id
    assert body["kind"] == "client"
    assert body["scopes"] == ["read", "write"]


def test_public_endpoint_needs_nothing(host: Host) -> None:
    assert call(host, None, "/public").status_code == 200


def test_no_credential_is_challenged_without_an_error_code(host: Host) -> None:
    # RFC 6750 §3.1: a request with no credential gets no error code, but the
    # challenge still points at the resource's metadata.
    response = call(host, None)
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert "error=" not in challenge
    assert f'resource_metadata="{host.metadata}"' in challenge


def test_metadata_names_authgate(authgate: Authgate, host: Host) -> None:
    document = httpx.get(host.metadata).json()
    assert document["resource"] == host.resource
    assert document["authorization_servers"] == [authgate.url]


def test_expired_jwt(authgate: Authgate, host: Host) -> None:
    token = mint(authgate, host, ttl=timedelta(seconds=-5))
    assert_invalid_token(call(host, token), host)


def test_token_for_another_audience(authgate: Authgate, host: Host) -> None:
    token = authgate.client_token(authgate.url)  # a token for Authgate's API
    assert jwt.decode(token, options={"verify_signature": False})["aud"] == authgate.url
    refused = call(host, token)
    assert_invalid_token(refused, host)
    # it says what to ask for, not only that it was refused
    assert f"resource={host.resource}" in refused.headers["www-authenticate"]


def test_token_from_another_issuer(authgate: Authgate, host: Host) -> None:
    token = mint(authgate, host, issuer="https://evil.example")
    assert_invalid_token(call(host, token), host)


def test_unsigned_token(authgate: Authgate, host: Host) -> None:
    claims = jwt.decode(mint(authgate, host), options={"verify_signature": False})
    kid = jwt.get_unverified_header(mint(authgate, host))["kid"]
    token = forge({"alg": "none", "typ": "at+jwt", "kid": kid}, claims, None)
    assert_invalid_token(call(host, token), host)


def test_hs256_signed_with_the_public_key(authgate: Authgate, host: Host) -> None:
    # The classic confusion: HMAC with the published public key as the secret.
    genuine = mint(authgate, host)
    kid = jwt.get_unverified_header(genuine)["kid"]
    claims = jwt.decode(genuine, options={"verify_signature": False})
    public = authgate.services.keys.ring.public_key(kid)
    for encoding in (serialization.Encoding.PEM, serialization.Encoding.DER):
        key = public.public_bytes(
            encoding, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        token = forge({"alg": "HS256", "typ": "at+jwt", "kid": kid}, claims, key)
        assert_invalid_token(call(host, token), host)
    assert call(host, genuine).status_code == 200


def test_unknown_kid_flood_fetches_the_jwks_a_bounded_number_of_times(
    authgate: Authgate, host: Host
) -> None:
    assert call(host, authgate.client_token(host.resource)).status_code == 200
    before = authgate.counting.hits[JWKS]
    claims = jwt.decode(mint(authgate, host), options={"verify_signature": False})
    _kid, key = authgate.services.keys.ring.signer("ES256")
    started = time.monotonic()
    for _ in range(150):
        forged = jwt.encode(
            claims,
            key,
            algorithm="ES256",
            headers={"kid": secrets.token_hex(8), "typ": "at+jwt"},
        )
        assert_invalid_token(call(host, forged), host)
    elapsed = time.monotonic() - started
    fetched = authgate.counting.hits[JWKS] - before
    assert fetched <= 1 + elapsed / host.jwks_interval, (fetched, elapsed)


def test_key_rotation_without_restarting_the_host(
    tmp_path: Path, sqlite_template: Path
) -> None:
    # Its own Authgate: the other tests' hosts must not see the rotated keys.
    ports = {"starlette": free_port()}
    resources = [f"http://127.0.0.1:{ports['starlette']}"]
    with (
        authgate_for(tmp_path, sqlite_template, resources) as authgate,
        hosts_for(authgate, ports) as hosts,
    ):
        host = hosts["starlette"]
        old = authgate.client_token(host.resource)
        assert call(host, old).status_code == 200

        async def rotate() -> None:
            services = authgate.services
            async with services.db.transaction() as tx:
                await signing_keys.rotate(
                    tx, services.keys.cipher, actor_id=None, peer=Peer()
                )
            await services.keys.load()

        asyncio.run_coroutine_threadsafe(rotate(), authgate.server.loop).result(30)
        new = authgate.client_token(host.resource)
        old_kid = jwt.get_unverified_header(old)["kid"]
        assert jwt.get_unverified_header(new)["kid"] != old_kid
        # The host refetches the keys once its interval has passed.
        time.sleep(host.jwks_interval)
        assert call(host, new).status_code == 200
        # Tokens signed with the retired key stay valid until they expire.
        assert call(host, old).status_code == 200


def test_pat_and_api_key_through_introspection(authgate: Authgate, host: Host) -> None:
    user = authgate.actions.user()
    pat = authgate.actions.make_pat(user, scopes=["read"])
    response = call(host, pat["token"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["kind"] == "pat"
    assert body["credential_id"] == pat["id"]
    assert body["scopes"] == ["read"]
    key = authgate.actions.make_key(user)
    response = call(host, key["token"])
    assert response.status_code == 200, response.text
    assert response.json()["kind"] == "api_key"
    assert response.json()["credential_id"] == key["id"]


def test_without_an_introspection_client_a_pat_is_told_what_is_missing(
    authgate: Authgate, tmp_path: Path
) -> None:
    """The FastAPI example run without AUTHGATE_CLIENT_ID/SECRET: a valid PAT
    is refused with a description naming them, and the log says so once."""
    user = authgate.actions.user()
    pat = authgate.actions.make_pat(user, scopes=["read"])
    port = free_port()
    env = host_env(
        authgate,
        f"http://127.0.0.1:{port}",
        AUTHGATE_CLIENT_ID="",
        AUTHGATE_CLIENT_SECRET="",
    )
    log = tmp_path / "host.log"
    with app_process(HOSTS["fastapi"], env, port=port, ready="/public", log=log) as url:
        for _ in range(2):
            refused = httpx.get(
                f"{url}/whoami", headers={"Authorization": f"Bearer {pat['token']}"}
            )
            assert refused.status_code == 401
            challenge = refused.headers["www-authenticate"]
            assert "client_id and client_secret" in challenge
            assert "not recognised" not in refused.text
    assert log.read_text().count("need token introspection") == 1


def test_revoked_pat_is_refused_within_the_cache_time(
    authgate: Authgate, host: Host
) -> None:
    user = authgate.actions.user()
    pat = authgate.actions.make_pat(user)
    assert call(host, pat["token"]).status_code == 200
    revoked = authgate.actions.client.delete(
        f"/api/v1/access-tokens/{pat['id']}", headers=user.bearer
    )
    assert revoked.status_code == 204, revoked.text
    started = time.monotonic()
    while call(host, pat["token"]).status_code == 200:
        assert time.monotonic() - started <= host.cache_seconds + 1
        time.sleep(0.1)
    assert_invalid_token(call(host, pat["token"]), host)


def test_insufficient_scope_names_the_scope_needed(
    authgate: Authgate, hosts: dict[str, Host]
) -> None:
    host = hosts["fastapi"]
    reader = authgate.client_token(host.resource, scope="read")
    refused = httpx.post(
        host.url + "/items", headers={"Authorization": f"Bearer {reader}"}
    )
    assert refused.status_code == 403
    challenge = refused.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="write"' in challenge
    assert f'resource_metadata="{host.metadata}"' in challenge
    # FastAPI's envelope around the guard's error object (docs/guard.md).
    assert refused.json() == {
        "detail": {
            "error": "insufficient_scope",
            "error_description": "This needs the scope: write.",
        }
    }
    writer = authgate.client_token(host.resource, scope="read write")
    created = httpx.post(
        host.url + "/items", headers={"Authorization": f"Bearer {writer}"}
    )
    assert created.status_code == 201
    assert created.json() == {"created_by": authgate.client_id}


def test_introspection_unreachable_fails_closed(
    tmp_path: Path, sqlite_template: Path
) -> None:
    ports = {"starlette": free_port(), "fastapi": free_port()}
    resources = [f"http://127.0.0.1:{port}" for port in ports.values()]
    with authgate_for(tmp_path, sqlite_template, resources) as authgate:
        user = authgate.actions.user()
        pats = {kind: authgate.actions.make_pat(user)["token"] for kind in ports}
        with hosts_for(authgate, ports) as hosts:
            jwts = {}
            for kind, host in hosts.items():
                # The host learns Authgate's metadata and keys while it is up.
                assert (
                    call(host, authgate.client_token(host.resource)).status_code == 200
                )
                jwts[kind] = authgate.client_token(host.resource)
            authgate.server.stop()
            for kind, host in hosts.items():
                refused = call(host, pats[kind])
                assert refused.status_code == 503, refused.text
                assert "temporarily_unavailable" in refused.text
                # JWTs are still checked offline, against the keys it holds.
                assert call(host, jwts[kind]).status_code == 200


def org_admin_and_member(authgate: Authgate) -> tuple[Any, Any, dict[str, Any]]:
    """An org with an ``admin`` and a ``member`` (neither owns it)."""
    owner = authgate.actions.user()
    org = authgate.actions.make_org(owner)
    admin = authgate.actions.org_member(owner, org["id"], role="admin")
    member = authgate.actions.org_member(owner, org["id"], role="member")
    return admin, member, org


def membership(org: dict[str, Any], role: str) -> Membership:
    """What ``mint`` writes as the ``org`` and ``roles`` claims."""
    return Membership(
        org=Org(org["id"], org["slug"], org["name"], datetime.now(UTC)),
        user_id="usr_someone",
        role=role,
        created_at=datetime.now(UTC),
    )


def test_require_role_reads_the_org_role_of_a_jwt(
    authgate: Authgate, hosts: dict[str, Host]
) -> None:
    host = hosts["fastapi"]
    org = authgate.actions.make_org(authgate.actions.user())
    as_admin = mint(authgate, host, org=membership(org, "admin"))
    allowed = call(host, as_admin, "/org/settings")
    assert allowed.status_code == 200, allowed.text
    assert allowed.json() == {"org": org["id"], "role": "admin"}
    as_member = mint(authgate, host, org=membership(org, "member"))
    assert call(host, as_member, "/org/settings").status_code == 403
    # No org, no org role: a bare ``roles`` claim is not read.
    bare = mint(authgate, host, extra={"roles": ["admin"]})
    assert call(host, bare, "/org/settings").status_code == 403


def test_an_org_admin_is_not_an_instance_admin(authgate: Authgate, host: Host) -> None:
    """The org role goes to ``role``; ``roles`` (instance roles, which
    ``is_admin`` reads) never come from a token."""
    org = authgate.actions.make_org(authgate.actions.user())
    token = mint(authgate, host, org=membership(org, "admin"))
    body = call(host, token).json()
    assert body["role"] == "admin"
    assert body["org_id"] == org["id"]
    assert body["roles"] == []


def test_require_role_reads_the_org_role_by_introspection(
    authgate: Authgate, hosts: dict[str, Host]
) -> None:
    host = hosts["fastapi"]
    admin, member, org = org_admin_and_member(authgate)
    admin_pat = authgate.actions.make_pat(admin, org=org["id"])
    allowed = call(host, admin_pat["token"], "/org/settings")
    assert allowed.status_code == 200, allowed.text
    assert allowed.json() == {"org": org["id"], "role": "admin"}
    admin_key = authgate.actions.make_key(admin, org=org["id"], permission="write")
    assert call(host, admin_key["token"], "/org/settings").status_code == 200
    member_pat = authgate.actions.make_pat(member, org=org["id"])
    assert call(host, member_pat["token"], "/org/settings").status_code == 403
    # A PAT bound to no org has no org role.
    loose = authgate.actions.make_pat(admin)
    assert call(host, loose["token"], "/org/settings").status_code == 403
