"""Access tokens (RFC 9068) and ID tokens (OIDC Core) as issued: header,
claims, and the key that signs each."""

import base64
import hashlib
import os
from datetime import timedelta
from typing import Any

import jwt as pyjwt
import pytest

from authgate.domain import jwt, signing_keys
from authgate.domain.orgs import Membership, Org
from authgate.domain.signing_keys import KeyCipher, KeyRing
from authgate.util import clock
from tests.support.memory import MemoryStores

ISSUER = "https://auth.example"


@pytest.fixture
async def ring(stores: MemoryStores) -> KeyRing:
    cipher = KeyCipher(os.urandom(32))
    await signing_keys.ensure(stores, cipher)
    return KeyRing(await stores.signing_keys.all(), cipher, timedelta(hours=1))


def decode(ring: KeyRing, token: str, audience: str) -> tuple[dict[str, Any], Any]:
    header = pyjwt.get_unverified_header(token)
    key = ring.public_key(header["kid"])
    assert key is not None
    claims = pyjwt.decode(
        token, key, algorithms=[header["alg"]], audience=audience, issuer=ISSUER
    )
    return claims, header


@pytest.mark.anyio
async def test_an_access_token(ring: KeyRing) -> None:
    org = Org(id="org_1", slug="acme", name="Acme", created_at=clock.now())
    issued = jwt.issue_access_token(
        ring,
        issuer=ISSUER,
        subject="usr_1",
        audience="https://api.example",
        client_id="cl_app",
        scope="read",
        ttl=timedelta(minutes=15),
        session_id="ses_1",
        org=Membership(
            org=org, user_id="usr_1", role="admin", created_at=org.created_at
        ),
        extra={"gid": "gr_1"},
    )
    claims, header = decode(ring, issued.token, "https://api.example")
    assert (header["typ"], header["alg"]) == ("at+jwt", "ES256")
    assert header["kid"] == ring.signer("ES256")[0]
    assert {k: claims[k] for k in ("sub", "jti", "client_id", "scope", "sid")} == {
        "sub": "usr_1",
        "jti": issued.jti,
        "client_id": "cl_app",
        "scope": "read",
        "sid": "ses_1",
    }
    assert (claims["org"], claims["roles"], claims["gid"]) == (
        "org_1",
        ["admin"],
        "gr_1",
    )
    assert claims["exp"] == int(issued.expires_at.timestamp())


@pytest.mark.anyio
async def test_an_id_token_is_rs256_for_the_client(ring: KeyRing) -> None:
    token = jwt.issue_id_token(
        ring,
        issuer=ISSUER,
        subject="usr_1",
        client_id="cl_app",
        ttl=timedelta(minutes=5),
        nonce="n-1",
        access_token="at",
    )
    claims, header = decode(ring, token, "cl_app")
    assert header["alg"] == "RS256"
    assert (claims["azp"], claims["nonce"]) == ("cl_app", "n-1")
    assert claims["at_hash"] == jwt.token_hash("at")


def test_at_hash_is_the_left_half_of_sha256() -> None:
    left = hashlib.sha256(b"token").digest()[:16]
    assert jwt.token_hash("token") == base64.urlsafe_b64encode(left).decode().rstrip(
        "="
    )
