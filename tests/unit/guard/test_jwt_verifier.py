import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from authgate.guard import Credential, CredentialError, JwtVerifier, Verified

pytestmark = pytest.mark.anyio

ISSUER = "https://auth.example.com"
AUDIENCE = "https://api.example.com"
KID = "key-1"


class MemoryKeys:
    """An in-memory ``KeySource``."""

    def __init__(self, keys: dict[str, Any]) -> None:
        self.keys = keys
        self.asked: list[str] = []

    async def key(self, kid: str) -> Any | None:
        self.asked.append(kid)
        return self.keys.get(kid)


PRIVATE = ec.generate_private_key(ec.SECP256R1())
OTHER = ec.generate_private_key(ec.SECP256R1())
PUBLIC_PEM = PRIVATE.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    values = {
        "iss": ISSUER,
        "sub": "usr_1",
        "aud": AUDIENCE,
        "exp": now + 300,
        "iat": now,
        "jti": "at_1",
        "client_id": "cli",
        "scope": "read write",
        "sid": "ses_1",
        "org": "org_1",
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def forge(header: dict[str, Any], payload: dict[str, Any], key: Any = PRIVATE) -> str:
    """Sign exactly ``header`` (nothing added) with ``header["alg"]``."""
    signing_input = (
        b64(json.dumps(header).encode()) + "." + b64(json.dumps(payload).encode())
    )
    alg = header["alg"]
    if alg == "none":
        signature = b""
    elif alg == "HS256":
        signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    else:
        algorithm = jwt.get_algorithm_by_name(alg)
        signature = algorithm.sign(signing_input.encode(), key)
    return signing_input + "." + b64(signature)


def token(*, header: dict[str, Any] | None = None, **claim_overrides: Any) -> str:
    head = {"alg": "ES256", "typ": "at+jwt", "kid": KID, **(header or {})}
    head = {k: v for k, v in head.items() if v is not None}
    return forge(head, claims(**claim_overrides))


@pytest.fixture
def keys() -> MemoryKeys:
    return MemoryKeys({KID: PRIVATE.public_key()})


@pytest.fixture
def verifier(keys: MemoryKeys) -> JwtVerifier:
    return JwtVerifier(keys, issuer=ISSUER, audience=AUDIENCE)


async def verify(verifier: JwtVerifier, value: str) -> Verified:
    return await verifier.verify(Credential(value, "bearer"))


async def test_valid_access_token(verifier: JwtVerifier, keys: MemoryKeys) -> None:
    value = token()
    verified = await verify(verifier, value)
    principal = verified.principal
    assert principal.subject == "usr_1"
    assert principal.kind == "jwt"
    assert principal.user_id == "usr_1"
    assert principal.credential_id == "at_1"
    assert principal.session_id == "ses_1"
    assert principal.client_id == "cli"
    assert principal.org_id == "org_1"
    assert principal.scopes == {"read", "write"}
    payload = jwt.decode(value, options={"verify_signature": False})
    assert verified.valid_until == payload["exp"]
    assert set(verified.tags) == {"ses_1", "usr_1"}
    assert keys.asked == [KID]


async def test_how_the_person_signed_in_is_read_for_step_up(
    verifier: JwtVerifier,
) -> None:
    said = token(auth_time=1_800_000_000, amr=["mfa", "otp", "pwd"], acr="aal2")
    principal = (await verify(verifier, said)).principal
    assert principal.auth_time == 1_800_000_000
    assert principal.amr == ("mfa", "otp", "pwd")
    assert principal.acr == "aal2"
    # Malformed values say nothing rather than something wrong.
    odd = token(auth_time=True, amr="pwd", acr=2)
    principal = (await verify(verifier, odd)).principal
    assert (principal.auth_time, principal.amr, principal.acr) == (None, (), None)
    silent = (await verify(verifier, token())).principal
    assert (silent.auth_time, silent.amr, silent.acr) == (None, (), None)


async def test_media_type_form_of_typ_is_accepted(verifier: JwtVerifier) -> None:
    await verify(verifier, token(header={"typ": "application/at+jwt"}))


async def test_client_credentials_token_is_a_client(verifier: JwtVerifier) -> None:
    principal = (await verify(verifier, token(sub="cli", sid=None))).principal
    assert principal.kind == "client"
    assert principal.user_id is None


async def test_library_encoded_token_is_accepted(verifier: JwtVerifier) -> None:
    value = jwt.encode(
        claims(), PRIVATE, algorithm="ES256", headers={"kid": KID, "typ": "at+jwt"}
    )
    assert (await verify(verifier, value)).principal.subject == "usr_1"


async def test_no_audience_check_when_none_configured(keys: MemoryKeys) -> None:
    open_verifier = JwtVerifier(keys, issuer=ISSUER, audience=None)
    await verify(open_verifier, token(aud="https://anything.example"))


async def test_audience_in_a_list_is_accepted(verifier: JwtVerifier) -> None:
    await verify(verifier, token(aud=["https://other.example", AUDIENCE]))


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param({"exp": int(time.time()) - 1}, id="expired"),
        pytest.param({"aud": "https://other.example"}, id="wrong-aud"),
        pytest.param({"iss": "https://evil.example"}, id="wrong-iss"),
        pytest.param({"nbf": int(time.time()) + 3600}, id="not-yet-valid"),
        pytest.param({"exp": None}, id="no-exp"),
        pytest.param({"iss": None}, id="no-iss"),
        pytest.param({"sub": None}, id="no-sub"),
        pytest.param({"iat": None}, id="no-iat"),
    ],
)
async def test_bad_claims_are_refused(
    verifier: JwtVerifier, bad: dict[str, Any]
) -> None:
    with pytest.raises(CredentialError) as caught:
        await verify(verifier, token(**bad))
    assert caught.value.status == 401


async def test_a_token_for_another_resource_is_told_which_to_ask_for(
    verifier: JwtVerifier, keys: MemoryKeys
) -> None:
    with pytest.raises(CredentialError) as refused:
        await verify(verifier, token(aud="https://other.example"))
    assert f"resource={AUDIENCE}" in refused.value.description
    several = JwtVerifier(keys, issuer=ISSUER, audience=[AUDIENCE, "https://b.example"])
    with pytest.raises(CredentialError) as refused:
        await verify(several, token(aud="https://other.example"))
    assert (
        f"resource={AUDIENCE} or resource=https://b.example"
        in refused.value.description
    )


@pytest.mark.parametrize(
    "header",
    [
        pytest.param({"typ": None}, id="missing-typ"),
        pytest.param({"typ": "JWT"}, id="typ-JWT"),
        pytest.param({"typ": "at+JWT-ish"}, id="typ-other"),
    ],
)
async def test_only_access_token_types(
    verifier: JwtVerifier, header: dict[str, Any]
) -> None:
    with pytest.raises(CredentialError, match="not an access token"):
        await verify(verifier, token(header=header))


async def test_alg_none_is_refused(verifier: JwtVerifier) -> None:
    value = forge({"alg": "none", "typ": "at+jwt", "kid": KID}, claims())
    with pytest.raises(CredentialError):
        await verify(verifier, value)


async def test_hs256_signed_with_the_public_key_pem_is_refused(
    verifier: JwtVerifier, keys: MemoryKeys
) -> None:
    # The classic algorithm-confusion forgery: an attacker who knows the public
    # key "signs" with it as an HMAC secret.
    value = forge({"alg": "HS256", "typ": "at+jwt", "kid": KID}, claims(), PUBLIC_PEM)
    keys.keys[KID] = PUBLIC_PEM  # even a key source that hands out PEM text
    with pytest.raises(CredentialError, match="algorithm"):
        await verify(verifier, value)


async def test_configured_algorithms_only(keys: MemoryKeys) -> None:
    rs_only = JwtVerifier(keys, issuer=ISSUER, audience=AUDIENCE, algorithms=("RS256",))
    with pytest.raises(CredentialError, match="algorithm"):
        await verify(rs_only, token())


async def test_unknown_kid_is_refused(verifier: JwtVerifier, keys: MemoryKeys) -> None:
    with pytest.raises(CredentialError, match="unknown key"):
        await verify(verifier, token(header={"kid": "key-2"}))
    assert keys.asked == ["key-2"]


async def test_kid_of_a_key_of_another_type_is_refused(keys: MemoryKeys) -> None:
    # The JWKS publishes an RS256 key too; its kid under ``alg: ES256`` (or an
    # ES256 kid under RS256) is a bad token, not a server error.
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    keys.keys["rsa-1"] = rsa_key.public_key()
    both = JwtVerifier(keys, issuer=ISSUER, audience=AUDIENCE)
    with pytest.raises(CredentialError, match="key does not fit"):
        await verify(both, token(header={"kid": "rsa-1"}))
    with pytest.raises(CredentialError, match="key does not fit"):
        await verify(
            both,
            forge({"alg": "RS256", "typ": "at+jwt", "kid": KID}, claims(), rsa_key),
        )


async def test_missing_kid_is_refused(verifier: JwtVerifier) -> None:
    with pytest.raises(CredentialError, match="unknown key"):
        await verify(verifier, token(header={"kid": None}))


async def test_signature_from_another_key_is_refused(verifier: JwtVerifier) -> None:
    value = forge({"alg": "ES256", "typ": "at+jwt", "kid": KID}, claims(), OTHER)
    with pytest.raises(CredentialError, match="invalid"):
        await verify(verifier, value)


async def test_tampered_payload_is_refused(verifier: JwtVerifier) -> None:
    head, _payload, signature = token().split(".")
    evil = b64(json.dumps(claims(sub="usr_admin")).encode())
    with pytest.raises(CredentialError):
        await verify(verifier, f"{head}.{evil}.{signature}")


@pytest.mark.parametrize(
    "value",
    [
        "a.b.c",
        "...",
        "not-a-jwt",
        b64(b'{"alg":"ES256"') + ".e30.c2ln",
        b64(b"[]") + ".e30.c2ln",
    ],
)
async def test_malformed_is_refused(verifier: JwtVerifier, value: str) -> None:
    with pytest.raises(CredentialError):
        await verifier.claims(value)


async def test_a_header_read_leniently_is_still_checked_strictly(
    verifier: JwtVerifier,
) -> None:
    """The key is picked from a lenient read of the header; the decode after
    it reads the header strictly, so junk the lenient read skipped fails."""
    head, payload, signature = token().split(".")
    assert (await verifier.claims(f"{head}.{payload}.{signature}"))["sub"]
    for junk in (f"{head[:4]}!{head[4:]}", f"{head}=", f" {head}"):
        with pytest.raises(CredentialError):
            await verifier.claims(f"{junk}.{payload}.{signature}")
    with pytest.raises(CredentialError):
        await verifier.claims(b64(b"[" * 100_000) + f".{payload}.{signature}")


def test_accepts_only_jwt_shaped_credentials(verifier: JwtVerifier) -> None:
    assert verifier.accepts(Credential(token(), "bearer"))
    assert not verifier.accepts(Credential("ag_pat_" + "a" * 49, "bearer"))


async def test_other_token_types_only_when_widened(
    keys: MemoryKeys, verifier: JwtVerifier
) -> None:
    # Issuers that do not follow RFC 9068 type their tokens "JWT" or not at all;
    # a verifier for them says so, and the default still refuses both.
    widened = JwtVerifier(
        keys, issuer=ISSUER, audience=AUDIENCE, token_types=("at+jwt", "JWT", None)
    )
    for typ in ("JWT", None):
        value = Credential(token(header={"typ": typ}), "bearer")
        assert (await widened.verify(value)).principal.subject == "usr_1"
        with pytest.raises(CredentialError):
            await verifier.verify(value)
