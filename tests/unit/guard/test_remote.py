"""The issuer's metadata and JWKS, fetched over HTTP (httpx's MockTransport
plays the issuer)."""

from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from authgate.guard import (
    Credential,
    CredentialError,
    IntrospectionVerifier,
    IssuerMetadata,
    JwksKeySource,
    remote_verifiers,
)

pytestmark = pytest.mark.anyio

ISSUER = "https://issuer.example.com"


def issuer(routes: dict[str, Any]) -> tuple[IssuerMetadata, list[str]]:
    """Metadata for ISSUER answered by ``routes`` (path → JSON, or a status)."""
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        found = routes.get(request.url.path, 404)
        if isinstance(found, int):
            return httpx.Response(found)
        return httpx.Response(200, json=found)

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    return IssuerMetadata(ISSUER, http), asked


def jwk(key: Any, kid: str, **extra: Any) -> dict[str, Any]:
    algorithm: type[jwt.algorithms.Algorithm] = (
        jwt.algorithms.RSAAlgorithm
        if isinstance(key, rsa.RSAPrivateKey)
        else jwt.algorithms.ECAlgorithm
    )
    return {**algorithm.to_jwk(key.public_key(), as_dict=True), "kid": kid, **extra}


async def test_openid_discovery_when_there_is_no_rfc8414_document() -> None:
    metadata, asked = issuer(
        {
            "/.well-known/openid-configuration": {
                "issuer": ISSUER,
                "jwks_uri": f"{ISSUER}/keys",
            }
        }
    )
    assert await metadata.get("jwks_uri") == f"{ISSUER}/keys"
    assert asked == [
        "/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration",
    ]


async def test_metadata_naming_another_issuer_is_refused() -> None:
    # RFC 8414 §3.3: else a look-alike could point the guard at its own keys.
    metadata, _asked = issuer(
        {
            "/.well-known/oauth-authorization-server": {
                "issuer": "https://evil.example.com",
                "jwks_uri": "https://evil.example.com/keys",
            }
        }
    )
    with pytest.raises(CredentialError) as refused:
        await metadata.get("jwks_uri")
    assert refused.value.status == 503


async def test_unreachable_metadata_fails_closed() -> None:
    metadata, _asked = issuer({"/.well-known/oauth-authorization-server": 500})
    with pytest.raises(CredentialError) as refused:
        await metadata.get("jwks_uri")
    assert refused.value.status == 503


async def test_jwks_keys_without_alg_are_used_and_other_algs_skipped() -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    other = ec.generate_private_key(ec.SECP384R1())
    metadata, _asked = issuer(
        {
            "/.well-known/oauth-authorization-server": {
                "issuer": ISSUER,
                "jwks_uri": f"{ISSUER}/keys",
            },
            "/keys": {
                "keys": [
                    jwk(rsa_key, "no-alg"),
                    jwk(ec_key, "es256", alg="ES256"),
                    jwk(other, "es384", alg="ES384"),
                    jwk(ec_key, "encryption", alg="ES256", use="enc"),
                ]
            },
        }
    )
    keys = JwksKeySource(metadata)
    assert isinstance(await keys.key("no-alg"), rsa.RSAPublicKey)
    assert isinstance(await keys.key("es256"), ec.EllipticCurvePublicKey)
    assert await keys.key("es384") is None
    assert await keys.key("encryption") is None
    assert keys.fetches == 1


RESOURCE = "https://api.example.com"
PAT = "ag_pat_abc"


def introspection(answer: dict[str, Any] | int) -> IntrospectionVerifier:
    """A verifier whose issuer answers every introspection with ``answer``."""
    metadata, _asked = issuer(
        {
            "/.well-known/oauth-authorization-server": {
                "issuer": ISSUER,
                "introspection_endpoint": f"{ISSUER}/oauth/introspect",
            },
            "/oauth/introspect": answer,
        }
    )
    return IntrospectionVerifier(
        metadata, client_id="rs", client_secret="secret", audience=RESOURCE
    )


def active(**overrides: Any) -> dict[str, Any]:
    return {
        "active": True,
        "token_type": "Bearer",
        "sub": "usr_1",
        "scope": "read",
        "aud": ISSUER,
        "jti": "pat_1",
        "kind": "pat",
        **overrides,
    }


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(active(), id="issuers-own-api"),
        pytest.param(active(aud=RESOURCE), id="this-resource"),
        pytest.param(active(aud=["https://x.example", RESOURCE]), id="in-a-list"),
    ],
)
async def test_introspected_credentials_for_this_resource_or_the_issuers_api(
    answer: dict[str, Any],
) -> None:
    verified = await introspection(answer).verify(Credential(PAT, "bearer"))
    assert verified.principal.subject == "usr_1"
    assert verified.principal.kind == "pat"


async def test_an_api_key_is_named_so() -> None:
    verified = await introspection(active(kind="api_key")).verify(
        Credential("ag_key_abc", "bearer")
    )
    assert verified.principal.kind == "api_key"


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(active(aud="https://other.example.com"), id="someone-elses"),
        pytest.param({"active": False}, id="inactive"),
        pytest.param(active(token_type="refresh_token"), id="refresh-token"),
        pytest.param(active(kind=None), id="no-kind"),
        pytest.param(active(kind="session"), id="another-kind"),
    ],
)
async def test_introspected_credentials_refused(answer: dict[str, Any]) -> None:
    with pytest.raises(CredentialError) as refused:
        await introspection(answer).verify(Credential(PAT, "bearer"))
    assert refused.value.status == 401


async def test_someone_elses_credential_is_told_which_resource_to_ask_for() -> None:
    with pytest.raises(CredentialError) as refused:
        await introspection(active(aud="https://other.example.com")).verify(
            Credential(PAT, "bearer")
        )
    assert f"resource={RESOURCE}" in refused.value.description


async def test_without_an_introspection_client_an_opaque_token_is_told_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Not "not recognised": the answer and the log (once) name the settings."""
    verifiers = remote_verifiers(ISSUER, audience=RESOURCE)
    opaque = [v for v in verifiers if v.accepts(Credential(PAT, "bearer"))]
    assert len(opaque) == 1
    with caplog.at_level("WARNING", logger="authgate.guard"):
        for _ in range(3):
            with pytest.raises(CredentialError) as refused:
                await opaque[0].verify(Credential(PAT, "bearer"))
            assert refused.value.status == 401
            assert "client_id and client_secret" in refused.value.description
    logged = [r for r in caplog.records if "introspection" in r.getMessage()]
    assert len(logged) == 1
    assert "client_id and client_secret" in logged[0].getMessage()


async def test_introspection_failing_fails_closed() -> None:
    with pytest.raises(CredentialError) as refused:
        await introspection(500).verify(Credential(PAT, "bearer"))
    assert refused.value.status == 503


async def test_refused_client_credentials_are_named_in_the_answer_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Wrong AUTHGATE_CLIENT_ID / AUTHGATE_CLIENT_SECRET: not "try again
    shortly" with nothing in the log, but what to fix, logged the first time."""
    verifier = introspection(401)
    with caplog.at_level("ERROR", logger="authgate.guard"):
        for _ in range(3):
            with pytest.raises(CredentialError) as refused:
                await verifier.verify(Credential(PAT, "bearer"))
            assert refused.value.status == 503
            assert "client id or secret" in refused.value.description
            assert "try again" not in refused.value.description
    [record] = caplog.records
    assert "refused client_id 'rs'" in record.getMessage()


async def test_each_kind_of_introspection_failure_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    verifier = introspection(500)
    with caplog.at_level("ERROR", logger="authgate.guard"):
        for _ in range(3):
            with pytest.raises(CredentialError):
                await verifier.verify(Credential(PAT, "bearer"))
    [record] = caplog.records
    assert "HTTP 500" in record.getMessage()
