"""What the authorization server is configured with, built once by the app:
issuer, lifetimes, resources, registration policy, and the collaborators that
outlive a request (the signing key ring, the metadata-document resolver)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from authgate.domain.clients import Client
from authgate.domain.refresh_tokens import Lifetime as RefreshLifetime
from authgate.domain.sessions import Policy as SessionPolicy
from authgate.domain.signing_keys import KeyRing
from authgate.oauth.client_metadata import ClientMetadataResolver
from authgate.oauth.resources import Resources
from authgate.util.tagged_cache import TaggedCache

#: Endpoint paths, relative to the issuer; the metadata documents and the HTTP
#: routes both read them from here.
AUTHORIZE = "/oauth/authorize"
TOKEN = "/oauth/token"  # noqa: S105 - a path
DEVICE_AUTHORIZATION = "/oauth/device_authorization"
REGISTER = "/oauth/register"
REVOKE = "/oauth/revoke"
INTROSPECT = "/oauth/introspect"
USERINFO = "/oauth/userinfo"
JWKS = "/oauth/jwks"
#: OpenID Connect RP-Initiated Logout 1.0 §2
END_SESSION = "/oauth/end_session"
DEVICE_PAGE = "/device"
AUTHORIZATION_SERVER_METADATA = "/.well-known/oauth-authorization-server"
OPENID_CONFIGURATION = "/.well-known/openid-configuration"
PROTECTED_RESOURCE_METADATA = "/.well-known/oauth-protected-resource"

RegistrationPolicy = Literal["none", "loopback", "https"]

#: Seconds a registered client is known without reading it again. A client
#: changes only by being deleted or pruned, which evicts it at once here and
#: through the invalidation feed everywhere else; this only bounds a copy
#: whose eviction was somehow missed.
CLIENT_TTL = 300.0


@dataclass(frozen=True, slots=True)
class Server:
    issuer: str
    token_prefix: str
    access_token_ttl: timedelta
    refresh_lifetime: RefreshLifetime
    device_code_ttl: timedelta
    resources: Resources
    registration: RegistrationPolicy
    session_policy: SessionPolicy
    #: The key ring in use now (it changes when keys rotate).
    ring: Callable[[], KeyRing]
    documents: ClientMetadataResolver
    #: Registered clients by id: a client's repeat request (a grant, an
    #: introspection) authenticates it without the database.
    clients: TaggedCache[Client] = field(default_factory=TaggedCache)
    #: Introspection answers for personal access tokens and API keys, by
    #: digest, tagged with the credential, user and org they depend on.
    introspected: TaggedCache[dict[str, Any]] = field(default_factory=TaggedCache)

    def url(self, path: str) -> str:
        return self.issuer + path
