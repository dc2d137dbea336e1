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
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from authgate.domain import assurance, authority, clients, grants
from authgate.domain.assurance import Authentication
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
    UnmetAuthenticationRequirements,
    UnsupportedResponseType,
)
from authgate.oauth.requests import OAuthRequest
from authgate.oauth.server import Server

if TYPE_CHECKING:
    from authgate.domain.stores import Stores

NONCE_MAX = 512
#: ``max_age`` beyond this (about 31 years) is read as "any age": a bound that
#: keeps the arithmetic in range, not a rule.
MAX_AGE_MAX = 10**9
#: What the person's browser carries back to the request once signed in again:
#: the request without these, so that it does not ask once more (a loop).
#: The fresh authentication itself satisfies them, and the tokens say when it
#: was (``auth_time``) for the client to check.
ANSWERED_BY_SIGN_IN = ("max_age",)
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
    #: OIDC Core §3.1.2.1: the oldest sign-in, in seconds, the client accepts
    max_age: int | None = None
    #: OIDC Core §3.1.2.1 ``acr_values``: the levels the client would take,
    #: in order of preference (only the ones Authgate knows)
    acr_values: tuple[str, ...] = ()

    @property
    def level(self) -> str | None:
        """The level the person must reach: the weakest the client accepts."""
        known = [level for level in assurance.LEVELS if level in self.acr_values]
        return known[0] if known else None

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
    stores: "Stores", server: Server, request: OAuthRequest, documents: Documents
) -> tuple[Client, str, bool]:
    client_id = request.get("client_id")
    if client_id is None:
        raise InvalidRequest("The request names no client (client_id).")
    client = await client_auth.lookup(stores, server, documents, client_id)
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
            stores, server, request, documents
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
        max_age = _max_age(request.get("max_age"))
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
            max_age=max_age,
            acr_values=tuple((request.get("acr_values") or "").split()),
        )
    except AuthgateError as exc:
        error = exc if isinstance(exc, SPEC_ERRORS) else ServerError(exc.description)
        raise AuthorizeError(
            error, error_redirect(server, redirect_uri, state, error)
        ) from None


def _max_age(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.isascii() or not text.isdigit():
        raise InvalidRequest("max_age must be a number of seconds.")
    return min(int(text[:12]), MAX_AGE_MAX)


@dataclass(frozen=True, slots=True)
class Reauthenticate:
    """The person must prove who they are again before the request goes on
    (OIDC Core §3.1.2.1 ``prompt=login``, ``max_age``, ``acr_values``)."""

    #: the level to reach (``aal2``: a second factor), or ``None``: any sign-in
    level: str | None


def authentication_needed(
    server: Server,
    req: AuthorizationRequest,
    authentication: Authentication,
    *,
    has_factor: bool,
    now: datetime,
) -> Reauthenticate | str | None:
    """What the signed-in person's ``authentication`` lacks for this request:
    ``None`` when nothing, :class:`Reauthenticate`, or the error redirect to
    the client when it cannot be done here: ``prompt=none`` (OIDC Core
    §3.1.2.6 ``login_required``) or a level the person has no factor to reach
    (``unmet_authentication_requirements``)."""
    level = req.level
    short = level is not None and not assurance.reaches(authentication.amr, level)
    if short and not has_factor:
        return error_redirect(
            server,
            req.redirect_uri,
            req.state,
            UnmetAuthenticationRequirements(
                "This application asks for a sign-in with a second factor, and "
                "the account has none: add one in Settings, Security, then try "
                "again."
            ),
        )
    age = int((now - authentication.at).total_seconds())
    stale = "login" in req.prompt or (req.max_age is not None and age > req.max_age)
    if not (short or stale):
        return None
    if "none" in req.prompt:
        return error_redirect(server, req.redirect_uri, req.state, LoginRequired())
    return Reauthenticate(level if short else None)


def continuation(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The authorization request to come back to after signing in (again):
    without ``prompt=login`` and ``max_age``, which the sign-in answers, so it
    does not ask again for ever; every other parameter as given."""
    kept: list[tuple[str, str]] = []
    for name, value in pairs:
        if name in ANSWERED_BY_SIGN_IN:
            continue
        if name == "prompt":
            value = " ".join(p for p in value.split() if p != "login")
            if not value:
                continue
        kept.append((name, value))
    return kept


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
    authentication: Authentication | None,
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
        authentication=authentication,
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
    authentication: Authentication | None,
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
        return await _issue(
            stores,
            server,
            req,
            user_id=user_id,
            authentication=authentication,
            peer=peer,
        )
    if "none" in req.prompt:
        return error_redirect(server, req.redirect_uri, req.state, ConsentRequired())
    return None


async def approve(
    stores: "Stores",
    server: Server,
    req: AuthorizationRequest,
    *,
    user_id: str,
    authentication: Authentication | None,
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
    return await _issue(
        stores,
        server,
        req,
        user_id=user_id,
        authentication=authentication,
        peer=peer,
    )


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
