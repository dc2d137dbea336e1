"""The authorization endpoint (RFC 6749 §4.1.1-4.1.2, OAuth 2.1 §4.1, RFC 7636,
RFC 8707, RFC 9207, OIDC Core §3.1.2).

:func:`validate` checks a request in the order RFC 6749 §4.1.2.1 demands:
first the client and redirect URI (if either is wrong the user sees an error
page and nothing is sent anywhere: an unverified redirect URI must never
receive a response, or Authgate becomes an open redirector), then everything
else, whose errors go back to the client at its redirect URI. Every response
sent there carries ``state`` as given and ``iss`` (RFC 9207, so a client using
several servers can tell whose answer it got).

The web layer then signs the user in if needed, and either skips the consent
page (the user approved this client for these scopes and resources before) or
shows it and calls :func:`approve` or :func:`deny` with the answer.
"""

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from authgate.domain import authority, clients, grants
from authgate.domain.clients import Client
from authgate.domain.context import Peer
from authgate.errors import AuthgateError
from authgate.oauth import client_auth, pkce, scopes
from authgate.oauth.client_metadata import Documents
from authgate.oauth.errors import (
    SPEC_ERRORS,
    AccessDenied,
    ConsentRequired,
    InvalidRequest,
    LoginRequired,
    ServerError,
    UnauthorizedClient,
    UnsupportedResponseType,
)
from authgate.oauth.requests import OAuthRequest
from authgate.oauth.server import Server

if TYPE_CHECKING:
    from authgate.domain.stores import Stores

NONCE_MAX = 512
#: The parameters a consent form posts back, so approval re-validates them all.
FORWARDED = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "nonce",
    "prompt",
    "resource",
)


class AuthorizeError(Exception):
    """A refused authorization request: sent to ``redirect_to`` when the client
    and its redirect URI were verified, else shown to the user."""

    def __init__(self, error: AuthgateError, redirect_to: str | None) -> None:
        super().__init__(error.description)
        self.error = error
        self.redirect_to = redirect_to


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    client: Client
    redirect_uri: str  #: where the answer goes
    redirect_uri_given: bool  #: whether the request named it (RFC 6749 §4.1.3)
    scopes: tuple[str, ...]
    resources: tuple[str, ...]
    code_challenge: str
    state: str | None = None
    nonce: str | None = None
    prompt: tuple[str, ...] = ()

    def form_fields(self) -> list[tuple[str, str]]:
        """The request as hidden fields for the consent form."""
        fields = [
            ("response_type", "code"),
            ("client_id", self.client.id),
            ("scope", " ".join(self.scopes)),
            ("code_challenge", self.code_challenge),
            ("code_challenge_method", pkce.METHOD),
        ]
        if self.redirect_uri_given:
            fields.append(("redirect_uri", self.redirect_uri))
        for name, value in (("state", self.state), ("nonce", self.nonce)):
            if value is not None:
                fields.append((name, value))
        fields += [("resource", r) for r in self.resources]
        return fields


def redirect_with(uri: str, params: dict[str, str | None]) -> str:
    """``uri`` with ``params`` added to its query (RFC 6749 §4.1.2: the
    registered URI's own query is kept)."""
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, v) for k, v in params.items() if v is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))


def error_redirect(
    server: Server, redirect_uri: str, state: str | None, error: AuthgateError
) -> str:
    return redirect_with(
        redirect_uri,
        {
            "error": error.code,
            "error_description": error.description,
            "state": state,
            "iss": server.issuer,
        },
    )


async def _client_and_redirect(
    stores: "Stores", request: OAuthRequest, documents: Documents
) -> tuple[Client, str, bool]:
    client_id = request.get("client_id")
    if client_id is None:
        raise InvalidRequest("The request names no client (client_id).")
    client = await client_auth.lookup(stores, documents, client_id)
    if client is None:
        raise InvalidRequest("The client is not known here.")
    given = request.get("redirect_uri")
    if given is None:
        # OAuth 2.1 §2.3.2: it may be left out only when exactly one is
        # registered and it is not a loopback URI whose port varies.
        only = client.redirect_uris
        if len(only) != 1 or clients.redirect_kind(only[0]) == "loopback":
            raise InvalidRequest("The request must name its redirect_uri.")
        return client, only[0], False
    if not client.accepts_redirect(given):
        raise InvalidRequest(
            "The redirect_uri is not registered for this client (redirect URIs "
            "must match exactly)."
        )
    return client, given, True


async def validate(
    stores: "Stores", server: Server, request: OAuthRequest, documents: Documents
) -> AuthorizationRequest:
    try:
        client, redirect_uri, given = await _client_and_redirect(
            stores, request, documents
        )
    except AuthgateError as exc:
        error = exc if isinstance(exc, SPEC_ERRORS) else InvalidRequest(exc.description)
        raise AuthorizeError(error, None) from None
    try:
        state = request.get("state")
    except SPEC_ERRORS as exc:
        raise AuthorizeError(
            exc, error_redirect(server, redirect_uri, None, exc)
        ) from None
    try:
        if request.get("response_type") != "code":
            raise UnsupportedResponseType
        if not client.allows(clients.AUTHORIZATION_CODE):
            raise UnauthorizedClient(
                "This client may not use the authorization code flow."
            )
        challenge = pkce.check_challenge(
            request.get("code_challenge"), request.get("code_challenge_method")
        )
        nonce = request.get("nonce")
        if nonce is not None and len(nonce) > NONCE_MAX:
            raise InvalidRequest("The nonce is too long.")
        return AuthorizationRequest(
            client=client,
            redirect_uri=redirect_uri,
            redirect_uri_given=given,
            scopes=scopes.requested(client, request.get("scope")),
            resources=server.resources.select(request.all("resource")),
            code_challenge=challenge,
            state=state,
            nonce=nonce,
            prompt=tuple((request.get("prompt") or "").split()),
        )
    except AuthgateError as exc:
        error = exc if isinstance(exc, SPEC_ERRORS) else ServerError(exc.description)
        raise AuthorizeError(
            error, error_redirect(server, redirect_uri, state, error)
        ) from None


def login_required(server: Server, req: AuthorizationRequest) -> str | None:
    """Where to send a request with ``prompt=none`` when nobody is signed in
    (OIDC Core §3.1.2.6); ``None``: show the sign-in page."""
    if "none" not in req.prompt:
        return None
    return error_redirect(server, req.redirect_uri, req.state, LoginRequired())


async def _issue(
    stores: "Stores",
    server: Server,
    req: AuthorizationRequest,
    *,
    user_id: str,
    peer: Peer,
) -> str:
    _code, secret = await grants.issue_code(
        stores,
        prefix=server.token_prefix,
        client_id=req.client.id,
        user_id=user_id,
        redirect_uri=req.redirect_uri if req.redirect_uri_given else None,
        code_challenge=req.code_challenge,
        scope=" ".join(req.scopes),
        resources=req.resources,
        nonce=req.nonce,
        peer=peer,
    )
    return redirect_with(
        req.redirect_uri, {"code": secret, "state": req.state, "iss": server.issuer}
    )


async def without_consent_page(
    stores: "Stores",
    server: Server,
    req: AuthorizationRequest,
    *,
    user_id: str,
    peer: Peer,
) -> str | None:
    """The redirect when no page is needed: the user approved all of this
    before (unless ``prompt=consent`` asks again, or the client is built in and
    so asked every time), or ``prompt=none`` cannot be honoured. ``None``:
    show the consent page."""
    known = await grants.remembered(
        stores,
        user_id=user_id,
        client_id=req.client.id,
        scopes=req.scopes,
        resources=req.resources,
    )
    if known and req.client.remembers_consent and "consent" not in req.prompt:
        return await _issue(stores, server, req, user_id=user_id, peer=peer)
    if "none" in req.prompt:
        return error_redirect(server, req.redirect_uri, req.state, ConsentRequired())
    return None


async def approve(
    stores: "Stores",
    server: Server,
    req: AuthorizationRequest,
    *,
    user_id: str,
    peer: Peer,
) -> str:
    # What the person could not give (``admin``, from a non-administrator)
    # is neither remembered nor put in the code.
    approver = await stores.users.get(user_id)
    req = dataclasses.replace(
        req,
        scopes=authority.grantable(
            req.scopes,
            registration=req.client.registration,
            approver_is_admin=approver is not None and approver.is_admin,
        ),
    )
    await grants.give_consent(
        stores,
        user_id=user_id,
        client_id=req.client.id,
        scopes=req.scopes,
        resources=req.resources,
        peer=peer,
    )
    return await _issue(stores, server, req, user_id=user_id, peer=peer)


async def deny(
    stores: "Stores",
    server: Server,
    req: AuthorizationRequest,
    *,
    user_id: str,
    peer: Peer,
) -> str:
    await grants.refuse_consent(
        stores, user_id=user_id, client_id=req.client.id, peer=peer
    )
    return error_redirect(
        server, req.redirect_uri, req.state, AccessDenied("The user denied access.")
    )
