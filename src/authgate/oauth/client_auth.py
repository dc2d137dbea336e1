"""Client authentication at the token, device, revocation and introspection
endpoints (RFC 6749 §2.3, OAuth 2.1 §2.4, RFC 7591 §2 method names).

- ``client_secret_basic``: HTTP Basic, id and secret each form-urlencoded first
  (RFC 6749 §2.3.1);
- ``client_secret_post``: ``client_id`` and ``client_secret`` in the body;
- ``none``: a public client names itself with ``client_id``; PKCE, the
  redirect URI and the refresh token's binding stand in for a secret.

Secrets are 256-bit minted values, so comparing their SHA-256 digests in
constant time is enough (a slow KDF protects what can be guessed, and 256
random bits cannot). A confidential client may use either secret method; a
client with a secret must present it.
"""

import base64
import binascii
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote_plus

from authgate.domain import clients
from authgate.domain.clients import AuthMethod, Client
from authgate.oauth.client_metadata import Documents, is_document_url
from authgate.oauth.errors import InvalidClient, InvalidRequest
from authgate.oauth.requests import OAuthRequest
from authgate.oauth.server import CLIENT_TTL, Server
from authgate.util import clock

if TYPE_CHECKING:
    from authgate.domain.stores import Stores


@dataclass(frozen=True, slots=True)
class Presented:
    client_id: str | None
    secret: str | None
    method: AuthMethod


def presented(request: OAuthRequest) -> Presented:
    """The credentials a request carries, refusing requests that mix methods
    (RFC 6749 §2.3: a client MUST NOT use more than one)."""
    form_id = request.get("client_id")
    form_secret = request.get("client_secret")
    header = request.authorization or ""
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
            raw_id, sep, raw_secret = decoded.partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise InvalidClient.basic("The Basic credentials are malformed.") from None
        client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)
        if not sep or not client_id:
            raise InvalidClient.basic("The Basic credentials are malformed.")
        if form_secret is not None:
            raise InvalidRequest("Send the client secret one way only.")
        if form_id is not None and form_id != client_id:
            raise InvalidRequest("client_id differs from the Basic credentials.")
        return Presented(client_id, secret, "client_secret_basic")
    if form_secret is not None:
        return Presented(form_id, form_secret, "client_secret_post")
    return Presented(form_id, None, "none")


def claimed_client_id(request: OAuthRequest) -> str | None:
    """The client id a request names, without judging it (to prefetch a
    metadata document before the transaction)."""
    try:
        return presented(request).client_id
    except InvalidRequest:
        return None
    except InvalidClient:
        return None


async def lookup(
    stores: "Stores", server: Server, documents: Documents, client_id: str
) -> Client | None:
    """A URL names a metadata document (fetched before the transaction);
    anything else is found by :func:`authgate.domain.clients.find`, or in
    ``server.clients`` when this process found it before."""
    if is_document_url(client_id):
        return documents.client(client_id)
    known = server.clients
    found = known.get(client_id)
    if found is not None:
        return found
    since = known.generation
    found = await clients.find(stores, client_id)
    if found is not None:
        until = clock.now().timestamp() + CLIENT_TTL
        known.put(client_id, found, valid_until=until, tags=(client_id,), since=since)
    return found


async def authenticate(
    stores: "Stores",
    server: Server,
    request: OAuthRequest,
    documents: Documents,
    *,
    confidential: bool = False,
) -> Client:
    """The client making the request, or ``invalid_client``. ``confidential``
    refuses public clients (introspection)."""
    creds = presented(request)
    fail = (
        InvalidClient.basic if creds.method == "client_secret_basic" else InvalidClient
    )
    if creds.client_id is None:
        raise fail("Authenticate the client (client_id, and its secret if it has one).")
    client = await lookup(stores, server, documents, creds.client_id)
    if creds.secret is not None:
        # secret_matches does the same work for an unknown client, so the
        # answer and its timing are the same for both.
        if not clients.secret_matches(client, creds.secret) or client is None:
            raise fail("Unknown client or wrong client secret.")
    elif client is None:
        raise fail("Unknown client.")
    elif not client.public:
        raise fail("This client has a secret: send it (Basic or client_secret).")
    if confidential and client.public:
        raise fail("This endpoint is for confidential clients.")
    return client
