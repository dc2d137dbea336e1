"""Dynamic client registration (RFC 7591 §3).

Who may register:

- an instance administrator, with their bearer token (the RFC's initial
  access token), any kind of client;
- anyone else only a public native client, as
  ``AUTHGATE_OPEN_CLIENT_REGISTRATION`` allows: ``loopback`` when every
  redirect URI is a loopback one (RFC 8252 §7.3: nobody else can receive on
  the user's own machine), ``https`` also claimed https URIs (RFC 8252 §7.2),
  ``none`` nobody.

Metadata defaults differ from RFC 7591 §2 in two places, both towards what
native and MCP clients expect: open registration defaults to
``token_endpoint_auth_method`` ``none`` (a secret is not on offer anyway), and
a client with redirect URIs gets ``authorization_code`` and ``refresh_token``.
"""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from authgate.domain import clients
from authgate.domain.clients import AUTH_METHODS, AuthMethod
from authgate.domain.context import Peer
from authgate.errors import AuthgateError, InvalidClientMetadata, InvalidRedirectUri
from authgate.oauth.errors import InvalidToken
from authgate.oauth.requests import OAuthResponse
from authgate.oauth.server import Server

if TYPE_CHECKING:
    from authgate.domain.stores import Stores

#: Grant types open registration may ask for (no client_credentials: no secret).
OPEN_GRANTS = (clients.AUTHORIZATION_CODE, clients.REFRESH_TOKEN, clients.DEVICE_CODE)


def _strings(body: Mapping[str, Any], name: str) -> list[str] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidClientMetadata(f"{name} must be a list of strings.")
    return value


def _text(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidClientMetadata(f"{name} must be a string.")
    return value


def _check_open(
    server: Server, method: AuthMethod, uris: list[str], grants: list[str]
) -> None:
    if server.registration == "none":
        raise InvalidToken(
            "Open registration is off here; register with an administrator's "
            "bearer token.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    if method != "none":
        raise InvalidClientMetadata(
            "Open registration is for public clients (token_endpoint_auth_method "
            "none); ask an administrator for a confidential client."
        )
    if any(g not in OPEN_GRANTS for g in grants):
        raise InvalidClientMetadata(
            f"Open registration allows only: {', '.join(OPEN_GRANTS)}."
        )
    allowed = ("loopback", "https") if server.registration == "https" else ("loopback",)
    for uri in uris:
        if clients.redirect_kind(uri) not in allowed:
            raise InvalidRedirectUri(
                f"{uri}: open registration accepts only "
                + (
                    "loopback or https redirect URIs."
                    if server.registration == "https"
                    else "loopback redirect URIs (http://127.0.0.1, http://[::1])."
                )
            )


async def register(
    stores: "Stores",
    server: Server,
    body: Any,
    *,
    admin_id: str | None,
    peer: Peer,
) -> OAuthResponse:
    """Register a client from RFC 7591 metadata; ``admin_id`` when an
    administrator's bearer token came with the request."""
    try:
        if not isinstance(body, dict):
            raise InvalidClientMetadata("The body must be a JSON object.")
        uris = _strings(body, "redirect_uris") or []
        after_logout = _strings(body, "post_logout_redirect_uris") or []
        raw_method = _text(body, "token_endpoint_auth_method")
        if raw_method is None:
            raw_method = "client_secret_basic" if admin_id else "none"
        method = next((m for m in AUTH_METHODS if m == raw_method), None)
        if method is None:
            raise InvalidClientMetadata(
                f"token_endpoint_auth_method must be one of {', '.join(AUTH_METHODS)}."
            )
        grants = _strings(body, "grant_types") or clients.default_grant_types(
            public=method == "none", redirect_uris=tuple(uris)
        )
        response_types = _strings(body, "response_types")
        if response_types is not None and set(response_types) - {"code"}:
            raise InvalidClientMetadata("Only the response type code is supported.")
        if admin_id is None:
            _check_open(server, method, [*uris, *after_logout], grants)
        name = _text(body, "client_name") or "Unnamed client"
        registered, secret = await clients.create(
            stores,
            prefix=server.token_prefix,
            name=name,
            redirect_uris=uris,
            grant_types=grants,
            public=method == "none",
            scope=_text(body, "scope"),
            auth_method=method,
            registration="admin" if admin_id else "dynamic",
            created_by=admin_id,
            client_uri=_text(body, "client_uri"),
            post_logout_redirect_uris=after_logout,
            peer=peer,
        )
    except AuthgateError as exc:
        return OAuthResponse.error(exc)
    answer: dict[str, Any] = {
        "client_id": registered.id,
        "client_id_issued_at": int(registered.created_at.timestamp()),
        "client_name": registered.name,
        "redirect_uris": list(registered.redirect_uris),
        "grant_types": list(registered.grant_types),
        "response_types": (
            ["code"] if registered.allows(clients.AUTHORIZATION_CODE) else []
        ),
        "token_endpoint_auth_method": registered.auth_method,
    }
    if registered.scope:
        answer["scope"] = registered.scope
    if registered.client_uri:
        answer["client_uri"] = registered.client_uri
    if registered.post_logout_redirect_uris:
        answer["post_logout_redirect_uris"] = list(registered.post_logout_redirect_uris)
    if secret is not None:
        answer["client_secret"] = secret
        answer["client_secret_expires_at"] = 0  #: RFC 7591 §3.2.1: never
    return OAuthResponse.ok(answer, status=201)
