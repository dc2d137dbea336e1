"""OAuth client registrations (RFC 6749 §2, RFC 7591, RFC 8252).

A client is confidential (it holds a secret: a 256-bit minted token of which
only the SHA-256 is stored, compared in constant time) or public (a native app,
CLI or browser app that cannot keep one, authenticated by PKCE alone).

Redirect URIs (OAuth 2.1 §2.3.1, RFC 9700 §2.1, RFC 8252 §7-8):

- matched exactly, character for character: no wildcards, no prefix match, no
  normalisation;
- except that a loopback ``http`` URI (``127.0.0.1``, ``[::1]``, ``localhost``)
  matches on any port, because a native app binds whatever port is free
  (RFC 8252 §7.3);
- ``http`` only on loopback; ``https`` anywhere; a private-use scheme only in
  reverse-domain form (``com.example.app:/cb``, RFC 8252 §7.1);
- never a fragment (RFC 6749 §3.1.2), user info or wildcard.
"""

import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol
from urllib.parse import urlsplit

from authgate.domain import audit, revocations
from authgate.domain.context import Peer
from authgate.domain.grants import ConsentStore
from authgate.domain.personal_tokens import SCOPES as API_SCOPES
from authgate.domain.refresh_families import RefreshTokenStore
from authgate.errors import (
    Conflict,
    InvalidClientMetadata,
    InvalidRedirectUri,
    NotFound,
)
from authgate.util import clock, loopback, tokens
from authgate.util.ids import new_id

AUTHORIZATION_CODE = "authorization_code"
REFRESH_TOKEN = "refresh_token"  # noqa: S105 - a grant type name
CLIENT_CREDENTIALS = "client_credentials"
DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"  #: RFC 8628 §3.4
GRANT_TYPES = (AUTHORIZATION_CODE, REFRESH_TOKEN, CLIENT_CREDENTIALS, DEVICE_CODE)
#: Short names the CLI and admin API accept for grant types.
GRANT_ALIASES = {"device_code": DEVICE_CODE, "device": DEVICE_CODE}

#: OpenID Connect scopes (OIDC Core §5.4); the rest are the API's own.
OIDC_SCOPES = ("openid", "profile", "email")
SUPPORTED_SCOPES = (*OIDC_SCOPES, *API_SCOPES)
#: Administration, for a client an administrator registered, granted only by
#: an administrator (``authority``).
ADMIN_SCOPE = "admin"
ADMIN_SCOPE_REFUSED = "The admin scope is only for clients an administrator registers."

AuthMethod = Literal["client_secret_basic", "client_secret_post", "none"]
AUTH_METHODS: tuple[AuthMethod, ...] = (
    "client_secret_basic",
    "client_secret_post",
    "none",
)
#: How a client came to exist: shipped with the server, made by an
#: administrator, registered by anyone (RFC 7591), or known by the document it
#: hosts. Only the first two are vouched for by someone this server trusts.
Registration = Literal["builtin", "admin", "dynamic", "metadata_document"]
TRUSTED_REGISTRATIONS: frozenset[Registration] = frozenset({"builtin", "admin"})
RedirectKind = Literal["loopback", "https", "private_use"]

#: The Authgate CLI's own OAuth client: a public client built into every
#: server (loopback redirects, the device grant, refresh), never stored, and
#: never obtainable by registration. ``authgate auth login`` uses it.
CLI_CLIENT_ID = "authgate-cli"
#: The ``client_id`` of the tokens a first-party sign-in gives (``/api/v1/auth``).
FIRST_PARTY_CLIENT_ID = "authgate"
#: Tokens of these clients act with the person's full rights; every other
#: client's tokens carry only what the person consented to.
FIRST_PARTY_CLIENTS = frozenset({FIRST_PARTY_CLIENT_ID, CLI_CLIENT_ID})

NAME_MAX = 100
URI_MAX = 2048
CLIENT_ID_MAX = 255
MAX_REDIRECT_URIS = 20
#: The loopback names as a URI writes them (IPv6 in brackets).
LOOPBACK_HOSTS = frozenset(f"[{n}]" if ":" in n else n for n in loopback.NAMES)
#: Compared against when the client id is unknown, so the answer takes as long.
_DUMMY_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class Client:
    id: str
    name: str
    redirect_uris: tuple[str, ...]
    grant_types: tuple[str, ...]
    auth_method: AuthMethod
    created_at: datetime
    #: Scopes the client may ask for; ``None``: every supported scope.
    scope: str | None = None
    #: SHA-256 (hex) of the secret of a confidential client.
    secret_hash: str | None = None
    registration: Registration = "admin"
    created_by: str | None = None
    client_uri: str | None = None
    #: The address a dynamic registration came from (RFC 7591 registrations
    #: are anonymous, so this is all the consent page can say about them).
    registered_from: str | None = None
    #: OpenID Connect RP-Initiated Logout 1.0 §3.1: where the browser may be
    #: sent after signing out, each matched exactly.
    post_logout_redirect_uris: tuple[str, ...] = ()

    @property
    def public(self) -> bool:
        return self.auth_method == "none"

    @property
    def built_in(self) -> bool:
        return self.registration == "builtin"

    @property
    def verified(self) -> bool:
        """Whether someone this server trusts vouches for the client; consent
        and ``/device`` pages warn about every other one (RFC 8628 §5.4,
        RFC 9700 §4.14)."""
        return self.registration in TRUSTED_REGISTRATIONS

    @property
    def remembers_consent(self) -> bool:
        """A built-in client's tokens carry the person's full rights, so each
        of its sign-ins is approved on the page: a login someone else started
        (a phished device code, a crafted link) is then always seen."""
        return not self.built_in

    def allows(self, grant_type: str) -> bool:
        return grant_type in self.grant_types

    def allowed_scopes(self) -> tuple[str, ...]:
        """What the client may ask for: ``admin`` only when an administrator
        registered it (``check_scope`` refuses it to the others already; this
        holds for clients registered before that rule, too)."""
        found = tuple(self.scope.split()) if self.scope else SUPPORTED_SCOPES
        if self.registration == "admin":
            return found
        return tuple(s for s in found if s != ADMIN_SCOPE)

    def accepts_redirect(self, uri: str) -> bool:
        return any(redirect_uri_matches(r, uri) for r in self.redirect_uris)

    def accepts_post_logout_redirect(self, uri: str) -> bool:
        """RP-Initiated Logout §3: a simple string comparison with one the
        client registered (no loopback port leeway: nothing is being sent
        to a native app's listener)."""
        return uri in self.post_logout_redirect_uris


#: ``authgate auth login``'s client: on every loopback host, any port
#: (RFC 8252 §7.3), and the device grant for machines without a browser.
CLI_CLIENT = Client(
    id=CLI_CLIENT_ID,
    name="Authgate CLI",
    redirect_uris=tuple(f"http://{host}/callback" for host in sorted(LOOPBACK_HOSTS)),
    grant_types=(AUTHORIZATION_CODE, REFRESH_TOKEN, DEVICE_CODE),
    auth_method="none",
    created_at=datetime(2026, 1, 1, tzinfo=UTC),
    scope="openid profile email read write",
    registration="builtin",
)
#: Clients every server has without storing them. Their ids can never be
#: minted (registered ids are ``cl_…``, metadata-document ids are URLs), and
#: :func:`find` answers with them before looking in the store.
BUILT_IN: dict[str, Client] = {CLI_CLIENT_ID: CLI_CLIENT}


class ClientStore(Protocol):
    async def add(self, client: Client) -> None:
        """Insert; the id is new (minted by :func:`create`)."""

    async def get(self, client_id: str) -> Client | None: ...

    async def all(self) -> list[Client]:
        """Every registered client, newest first."""

    async def delete(self, client_id: str) -> bool:
        """``False`` when there was no such client."""

    async def prune_abandoned(
        self, registered_before: datetime, limit: int
    ) -> list[str]:
        """Delete up to ``limit`` dynamically registered clients made before
        ``registered_before`` that no consent and no unrevoked refresh token
        names; their ids."""


class Tx(audit.Tx, revocations.Tx, Protocol):
    @property
    def clients(self) -> ClientStore: ...
    @property
    def consents(self) -> ConsentStore: ...
    @property
    def refresh_tokens(self) -> RefreshTokenStore: ...


async def find(stores: Tx, client_id: str) -> Client | None:
    """The client with this id: built in, else registered. Every lookup by id
    goes through here, so a built-in client is known everywhere and no stored
    row can stand in for one."""
    built_in = BUILT_IN.get(client_id)
    if built_in is not None:
        return built_in
    if len(client_id) > CLIENT_ID_MAX:
        return None
    return await stores.clients.get(client_id)


async def listed(stores: Tx) -> list[Client]:
    """Every client, built-in ones first, then registered ones newest first."""
    return [*BUILT_IN.values(), *await stores.clients.all()]


# -- Redirect URIs --------------------------------------------------------------


def redirect_kind(uri: str) -> RedirectKind:
    """What sort of redirect URI this is, or ``InvalidRedirectUri`` when it is
    not one Authgate accepts at all."""
    if not uri or len(uri) > URI_MAX or not uri.isprintable() or " " in uri:
        raise InvalidRedirectUri(f"Redirect URIs are 1-{URI_MAX} printable characters.")
    if "#" in uri:
        raise InvalidRedirectUri("A redirect URI must not have a fragment.")
    if "*" in uri:
        raise InvalidRedirectUri("Redirect URIs are matched exactly: no wildcards.")
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        raise InvalidRedirectUri(f"{uri} is not a valid URI.") from None
    scheme = parts.scheme  # urlsplit lower-cases it; the URI itself must be
    if not scheme or not uri.startswith(scheme + ":"):
        raise InvalidRedirectUri(f"{uri} is not an absolute URI (lower-case scheme).")
    if "@" in parts.netloc:
        raise InvalidRedirectUri("A redirect URI must not carry user information.")
    host = parts.netloc.rsplit(":", 1)[0] if port is not None else parts.netloc
    if scheme == "http":
        if host not in LOOPBACK_HOSTS:
            raise InvalidRedirectUri(
                "Plain http redirect URIs are allowed only on loopback "
                "(http://127.0.0.1, http://[::1] or http://localhost)."
            )
        return "loopback"
    if scheme == "https":
        if not parts.hostname:
            raise InvalidRedirectUri(f"{uri} has no host.")
        return "https"
    if "." not in scheme or parts.netloc:
        # RFC 8252 §7.1: private-use schemes are reverse domain names, and take
        # one slash (com.example.app:/cb); javascript:, data:, file: never pass.
        raise InvalidRedirectUri(
            f"{uri}: use https, loopback http, or a reverse-domain private-use "
            "scheme such as com.example.app:/callback."
        )
    return "private_use"


def redirect_uri_matches(registered: str, presented: str) -> bool:
    """Exact match, except that a loopback http URI matches on any port
    (RFC 8252 §7.3). Scheme, host, path and query must still be identical."""
    if hmac.compare_digest(registered.encode(), presented.encode()):
        return True
    if not registered.startswith("http://") or not presented.startswith("http://"):
        return False
    if "#" in presented or "*" in presented:
        return False
    try:
        a, b = urlsplit(registered), urlsplit(presented)
        a_port, b_port = a.port, b.port
    except ValueError:
        return False
    a_host = a.netloc.rsplit(":", 1)[0] if a_port is not None else a.netloc
    b_host = b.netloc.rsplit(":", 1)[0] if b_port is not None else b.netloc
    return (
        a_host in LOOPBACK_HOSTS
        and a_host == b_host
        and (a.path or "/") == (b.path or "/")
        and a.query == b.query
        and not b.fragment
    )


def check_redirect_uris(uris: Iterable[str]) -> tuple[str, ...]:
    found = tuple(dict.fromkeys(uris))
    if len(found) > MAX_REDIRECT_URIS:
        raise InvalidRedirectUri(f"At most {MAX_REDIRECT_URIS} redirect URIs.")
    for uri in found:
        redirect_kind(uri)
    return found


# -- Registration ---------------------------------------------------------------


def check_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned or len(cleaned) > NAME_MAX or not cleaned.isprintable():
        raise InvalidClientMetadata(
            f"A client name is 1-{NAME_MAX} printable characters."
        )
    return cleaned


def check_grant_types(grant_types: Iterable[str], *, public: bool) -> tuple[str, ...]:
    found = tuple(dict.fromkeys(GRANT_ALIASES.get(g, g) for g in grant_types))
    unknown = [g for g in found if g not in GRANT_TYPES]
    if unknown:
        raise InvalidClientMetadata(
            f"Unsupported grant type: {', '.join(unknown)}. "
            f"Choose from: {', '.join(GRANT_TYPES)}."
        )
    if not found:
        raise InvalidClientMetadata("A client needs at least one grant type.")
    if public and CLIENT_CREDENTIALS in found:
        raise InvalidClientMetadata(
            "client_credentials needs a confidential client (one with a secret)."
        )
    if found == (REFRESH_TOKEN,):
        raise InvalidClientMetadata(
            "refresh_token goes with authorization_code or the device grant."
        )
    return found


def check_scope(scope: str | None, registration: Registration) -> str | None:
    if scope is None or not scope.strip():
        return None
    asked = scope.split()
    unknown = [s for s in asked if s not in SUPPORTED_SCOPES]
    if unknown:
        raise InvalidClientMetadata(
            f"Unknown scope: {', '.join(unknown)}. "
            f"Choose from: {', '.join(SUPPORTED_SCOPES)}."
        )
    if ADMIN_SCOPE in asked and registration != "admin":
        raise InvalidClientMetadata(ADMIN_SCOPE_REFUSED)
    return " ".join(dict.fromkeys(asked))


def check_client_uri(uri: str | None) -> str | None:
    """RFC 7591 §2 ``client_uri``: a web page about the client, shown on the
    consent page, so only an absolute http(s) URL."""
    if uri is None or not uri.strip():
        return None
    parts = urlsplit(uri)
    if (
        len(uri) > URI_MAX
        or parts.scheme not in ("http", "https")
        or not parts.netloc
        or not uri.isprintable()
    ):
        raise InvalidClientMetadata("client_uri must be an http(s) URL.")
    return uri


def default_grant_types(*, public: bool, redirect_uris: tuple[str, ...]) -> list[str]:
    if redirect_uris:
        return [AUTHORIZATION_CODE, REFRESH_TOKEN]
    return [DEVICE_CODE, REFRESH_TOKEN] if public else [CLIENT_CREDENTIALS]


async def create(
    stores: Tx,
    *,
    prefix: str,
    name: str,
    redirect_uris: Iterable[str],
    grant_types: Iterable[str] | None,
    public: bool,
    scope: str | None = None,
    auth_method: AuthMethod | None = None,
    registration: Literal["admin", "dynamic"] = "admin",
    created_by: str | None,
    client_uri: str | None = None,
    post_logout_redirect_uris: Iterable[str] = (),
    peer: Peer,
) -> tuple[Client, str | None]:
    """Register a client; its secret (confidential clients only) is shown once.
    ``post_logout_redirect_uris`` follow the redirect URIs' rules."""
    uris = check_redirect_uris(redirect_uris)
    after_logout = check_redirect_uris(post_logout_redirect_uris)
    grants = check_grant_types(
        grant_types
        if grant_types is not None
        else default_grant_types(public=public, redirect_uris=uris),
        public=public,
    )
    if AUTHORIZATION_CODE in grants and not uris:
        raise InvalidRedirectUri("The authorization_code grant needs a redirect URI.")
    method: AuthMethod = "none" if public else (auth_method or "client_secret_basic")
    if (method == "none") != public:
        raise InvalidClientMetadata(
            "token_endpoint_auth_method none is for public clients only."
        )
    secret = None if public else tokens.mint(prefix, "cs")
    registered = Client(
        id=new_id("cl"),
        name=check_name(name),
        redirect_uris=uris,
        grant_types=grants,
        auth_method=method,
        created_at=clock.now(),
        scope=check_scope(scope, registration),
        secret_hash=tokens.digest(secret) if secret else None,
        registration=registration,
        created_by=created_by,
        client_uri=check_client_uri(client_uri),
        registered_from=peer.ip if registration == "dynamic" else None,
        post_logout_redirect_uris=after_logout,
    )
    await stores.clients.add(registered)
    await audit.record(
        stores,
        audit.Action.CLIENT_REGISTERED,
        peer,
        actor_id=created_by,
        target_id=registered.id,
        details={
            "name": registered.name,
            "public": public,
            "grant_types": list(grants),
            "redirect_uris": list(uris),
            "post_logout_redirect_uris": list(after_logout),
            "registration": registration,
        },
    )
    return registered, secret


def secret_matches(client: Client | None, secret: str) -> bool:
    """Constant-time: the same work whether the client exists, has a secret or
    not, so neither timing nor answer tells them apart."""
    expected = client.secret_hash if client and client.secret_hash else _DUMMY_HASH
    ok = hmac.compare_digest(tokens.digest(secret).encode(), expected.encode())
    return ok and client is not None and client.secret_hash is not None


async def delete(
    stores: Tx,
    client_id: str,
    *,
    access_ttl: timedelta,
    actor_id: str | None,
    peer: Peer,
) -> None:
    """Remove a client with everything it holds: its refresh tokens and the
    consents given to it are revoked, and its live access tokens are refused
    from now on (their client id is recorded as revoked until they expire).
    A built-in client is part of the server: refused."""
    if client_id in BUILT_IN:
        raise Conflict(f"{client_id} is built into Authgate; it cannot be deleted.")
    if not await stores.clients.delete(client_id):
        raise NotFound("No such client.")
    now = clock.now()
    families = await stores.refresh_tokens.revoke_for_client(client_id, now)
    await stores.consents.delete_for_client(client_id)
    await revocations.revoke(stores, client_id, *families, until=now + access_ttl)
    await audit.record(
        stores,
        audit.Action.CLIENT_DELETED,
        peer,
        actor_id=actor_id,
        target_id=client_id,
        details={"refresh_families_revoked": len(families)},
    )
