"""The end-session endpoint: OpenID Connect RP-Initiated Logout 1.0.

A client sends the person's browser here to sign out (§2): GET or a form
POST, with ``id_token_hint`` (an ID token this server issued to it; an
expired one is accepted, §2, since a client logs out long after the token
it kept has expired, but its signature and issuer must hold),
``client_id``, ``post_logout_redirect_uri``, ``state`` and ``logout_hint``.

:func:`validate` checks what may send the browser anywhere: the redirect URI
must exactly match one the client registered (§3.1 ``post_logout_redirect_uris``)
and the client must be named, by ``client_id`` or by the hint's audience, and
both agree when both are given. Anything else is refused to the person, never
redirected: an unverified URI would make Authgate an open redirector (§6).
Signing out itself asks the person first (§2: a request anyone can craft
must not end a session unseen); the web layer shows that page.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from authgate.domain.clients import Client
from authgate.domain.signing_keys import ID_TOKEN_ALG, KeyRing
from authgate.oauth import access_tokens, client_auth
from authgate.oauth.authorize import redirect_with
from authgate.oauth.client_metadata import Documents
from authgate.oauth.errors import InvalidRequest
from authgate.oauth.requests import OAuthRequest
from authgate.oauth.server import Server

if TYPE_CHECKING:
    from authgate.domain.stores import Stores

#: What the confirmation form posts back, so that the answer re-validates it.
FORWARDED = (
    "id_token_hint",
    "client_id",
    "post_logout_redirect_uri",
    "state",
    "logout_hint",
)
BAD_HINT = "The id_token_hint is not an ID token this server issued."


@dataclass(frozen=True, slots=True)
class LogoutRequest:
    client: Client | None  #: the client asking, when it said who it is
    redirect_uri: str | None  #: registered, checked; ``None``: stay here
    state: str | None = None
    #: the ``sub`` of the hint: whom the client believes is signed in
    subject: str | None = None

    def after(self) -> str | None:
        """Where the browser goes once signed out (§3: with ``state``)."""
        if self.redirect_uri is None:
            return None
        return redirect_with(self.redirect_uri, {"state": self.state})

    def form_fields(self, request: OAuthRequest) -> list[tuple[str, str]]:
        """The request as hidden fields for the confirmation form."""
        return [
            (name, value)
            for name in FORWARDED
            if (value := request.get(name)) is not None
        ]


def read_hint(ring: KeyRing, token: str, *, issuer: str) -> dict[str, Any] | None:
    """The claims of an ID token this server signed (expired or not), or
    ``None``."""
    claims = access_tokens.own_claims(
        ring, token, issuer=issuer, alg=ID_TOKEN_ALG, require=["iss", "sub", "aud"]
    )
    if claims is None:
        return None
    # An access token is signed with another key (ES256), so it never gets
    # here; an ID token's audience is exactly its client.
    if not isinstance(claims.get("aud"), str) or not isinstance(claims["sub"], str):
        return None
    return claims


async def validate(
    stores: "Stores", server: Server, request: OAuthRequest, documents: Documents
) -> LogoutRequest:
    """The checked request, or ``InvalidRequest`` to show the person."""
    hint = request.get("id_token_hint")
    claims = read_hint(server.ring(), hint, issuer=server.issuer) if hint else None
    if hint and claims is None:
        raise InvalidRequest(BAD_HINT)
    client_id = request.get("client_id")
    hinted = str(claims["aud"]) if claims else None
    if client_id and hinted and client_id != hinted:
        raise InvalidRequest("The client_id is not the id_token_hint's client.")
    named = client_id or hinted
    client = (
        await client_auth.lookup(stores, server, documents, named) if named else None
    )
    if named and client is None:
        raise InvalidRequest("The client is not known here.")
    redirect_uri = request.get("post_logout_redirect_uri")
    if redirect_uri is not None:
        if client is None:
            raise InvalidRequest(
                "Name the client (client_id or id_token_hint) with a "
                "post_logout_redirect_uri."
            )
        if not client.accepts_post_logout_redirect(redirect_uri):
            raise InvalidRequest(
                "The post_logout_redirect_uri is not registered for this client "
                "(it must match exactly)."
            )
    return LogoutRequest(
        client=client,
        redirect_uri=redirect_uri,
        state=request.get("state"),
        subject=str(claims["sub"]) if claims else None,
    )
