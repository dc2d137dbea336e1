"""Token introspection (RFC 7662), for resource servers that cannot verify a
token themselves: every confidential client may ask, public clients
may not (§2.1: the endpoint must be protected).

It answers for every credential Authgate issues: JWT access tokens (signature,
expiry, revocation, the user and session still alive), personal access tokens
and API keys (by digest; for one bound to an org, the ``org`` and the user's
``roles`` there as they are now), and refresh tokens (only to the client they
were issued to). Anything else, or anything not alive, is ``{"active": false}``
and nothing more (§2.2).
"""

from datetime import datetime
from typing import TYPE_CHECKING, Any

from authgate.domain import orgs, revocations
from authgate.domain.clients import Client
from authgate.errors import AuthgateError
from authgate.oauth import access_tokens, client_auth
from authgate.oauth.client_metadata import Documents
from authgate.oauth.requests import OAuthRequest, OAuthResponse
from authgate.oauth.server import Server
from authgate.util import clock, tokens

if TYPE_CHECKING:
    from authgate.domain.stores import Stores

INACTIVE: dict[str, Any] = {"active": False}
#: Seconds an active answer about a personal access token or API key is kept
#: at most; revoking it, or changing its user or org, drops it at once.
ANSWER_TTL = 300.0


def _time(value: datetime | None) -> int | None:
    return int(value.timestamp()) if value else None


async def _username(stores: "Stores", user_id: str | None) -> str | None:
    """The user's name while the account is usable; ``None`` otherwise."""
    user = await stores.users.get(user_id) if user_id else None
    return user.username if user and user.active else None


async def _jwt(stores: "Stores", server: Server, token: str) -> dict[str, Any]:
    claims = access_tokens.decode(server.ring(), token, issuer=server.issuer)
    now = clock.now()
    if claims is None or float(claims["exp"]) <= now.timestamp():
        return INACTIVE
    if await revocations.is_revoked(stores, access_tokens.revocation_ids(claims)):
        return INACTIVE
    subject = str(claims["sub"])
    answer: dict[str, Any] = {
        "active": True,
        "token_type": "Bearer",
        **{
            k: claims[k]
            for k in ("sub", "scope", "aud", "exp", "iat", "iss", "jti", "client_id")
            if k in claims
        },
        **({"sid": claims["sid"]} if "sid" in claims else {}),
        **{k: claims[k] for k in ("org", "roles") if k in claims},
        # RFC 9470 §6.2: how the person signed in, for step-up checks.
        **{k: claims[k] for k in ("auth_time", "amr", "acr") if k in claims},
    }
    if subject != claims.get("client_id"):
        username = await _username(stores, subject)
        if username is None:
            return INACTIVE
        answer["username"] = username
    session_id = claims.get("sid")
    if isinstance(session_id, str):
        session = await stores.sessions.get(session_id)
        if session is None or not session.alive(server.session_policy, now):
            return INACTIVE
    return answer


async def _credential(stores: "Stores", server: Server, digest: str) -> dict[str, Any]:
    """A personal access token or API key, read and kept in
    ``server.introspected`` until the credential expires or its credential,
    user or org changes (the invalidation feed names them): a resource server
    asks about the same token on every request it serves."""
    known = server.introspected
    since = known.generation
    now = clock.now()
    credential = await stores.credentials.by_hash(digest)
    if credential is None or credential.status(now) != "active":
        return INACTIVE
    username = await _username(stores, credential.user_id)
    if username is None:
        return INACTIVE
    answer: dict[str, Any] = {
        "active": True,
        "token_type": "Bearer",
        "sub": credential.user_id,
        "username": username,
        "scope": " ".join(credential.scopes),
        "aud": server.resources.default,
        "iss": server.issuer,
        "iat": _time(credential.created_at),
        "jti": credential.id,
        "credential_id": credential.id,
        "kind": "pat" if credential.kind == "pat" else "api_key",
    }
    if credential.expires_at is not None:
        answer["exp"] = _time(credential.expires_at)
    tags: tuple[str, ...] = (credential.id, credential.user_id)
    if credential.org_id:
        # As the membership is now (a role change names the user, so it
        # drops the kept answer); a credential whose user left its org works
        # nowhere (the server refuses it too).
        membership = await orgs.acting(
            stores,
            credential.org_id,
            credential.user_id,
            read_only="write" not in credential.scopes,
        )
        if membership is None:
            return INACTIVE
        answer |= orgs.claims(membership)
        tags += (credential.org_id,)
    until = now.timestamp() + ANSWER_TTL
    if credential.expires_at is not None:
        until = min(until, credential.expires_at.timestamp())
    known.put(digest, answer, valid_until=until, tags=tags, since=since)
    return answer


async def _opaque(
    stores: "Stores", server: Server, client: Client, token: str
) -> dict[str, Any]:
    digest = tokens.digest(token)
    answered = server.introspected.get(digest)  # only active credentials are kept
    if answered is not None:
        return answered
    parsed = tokens.parse(token)
    if parsed is None or parsed.prefix != server.token_prefix:
        return INACTIVE
    now = clock.now()
    if parsed.kind in ("pat", "key"):
        return await _credential(stores, server, digest)
    if parsed.kind == "rt":
        refresh = await stores.refresh_tokens.by_hash(digest)
        if (
            refresh is None
            or refresh.client_id != client.id
            or refresh.revoked_at is not None
            or refresh.used_at is not None
            or refresh.expires_at <= now
        ):
            return INACTIVE
        username = await _username(stores, refresh.user_id)
        if username is None:
            return INACTIVE
        audiences = (refresh.audience or server.resources.default).split()
        return {
            "active": True,
            "token_type": "refresh_token",
            "sub": refresh.user_id,
            "username": username,
            "scope": refresh.scope,
            "aud": audiences[0] if len(audiences) == 1 else audiences,
            "iss": server.issuer,
            "exp": _time(refresh.expires_at),
            "iat": _time(refresh.created_at),
            "jti": refresh.id,
            "client_id": refresh.client_id,
            **(refresh.authentication.claims() if refresh.authentication else {}),
        }
    return INACTIVE


async def introspect(
    stores: "Stores", server: Server, request: OAuthRequest, documents: Documents
) -> OAuthResponse:
    try:
        client = await client_auth.authenticate(
            stores, server, request, documents, confidential=True
        )
        token = request.require("token")
    except AuthgateError as exc:
        return OAuthResponse.error(exc)
    if access_tokens.looks_like_jwt(token):
        return OAuthResponse.ok(await _jwt(stores, server, token))
    return OAuthResponse.ok(await _opaque(stores, server, client, token))
