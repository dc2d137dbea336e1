"""What every upstream identity provider is: one Protocol, one module per
provider (the shape of Kratos' ``selfservice/strategy/oidc/provider.go`` and
its ``provider_*.go``).

A sign-in through a provider is the OAuth 2.0 authorization code flow
(RFC 6749 §4.1) with PKCE (RFC 7636)::

    browser ── GET /login/provider ──► Authgate: new Flow, sealed into a cookie
    browser ◄── 302 provider.authorization_url(flow) ──
    browser ── signs in at the provider ──► provider
    browser ◄── 302 /auth/callback?code&state ── provider
    browser ── GET /auth/callback ──► Authgate: provider.identity(code, flow)
                                      (code exchange, token checks) → account

Providers know nothing of HTTP frameworks or the database: they turn a flow
into a URL, and a code into an :class:`~authgate.domain.identities.UpstreamIdentity`.
"""

import secrets
from dataclasses import dataclass
from typing import Literal, Protocol

from authgate.domain.context import Peer
from authgate.domain.identities import UpstreamIdentity

ProviderName = Literal["workos", "oidc"]

#: RFC 7636 §4.1: a verifier of 43-128 characters; 48 random bytes give 64.
VERIFIER_BYTES = 48


@dataclass(frozen=True, slots=True)
class Flow:
    """One sign-in attempt's secrets: made by ``/login/provider``, kept only
    in the browser's sealed state cookie, used once by ``/auth/callback``."""

    state: str  #: RFC 6749 §10.12: ties the callback to this browser
    nonce: str  #: OIDC Core §3.1.2.1: ties the ID token to this attempt
    code_verifier: str  #: RFC 7636: ties the code to this attempt
    redirect_uri: str

    @classmethod
    def new(cls, redirect_uri: str) -> "Flow":
        return cls(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            code_verifier=secrets.token_urlsafe(VERIFIER_BYTES),
            redirect_uri=redirect_uri,
        )


class UpstreamError(Exception):
    """The provider could not be reached, refused, or answered with something
    that must not be trusted. ``reason`` is for the audit log,
    ``description`` for the person signing in."""

    def __init__(self, reason: str, description: str) -> None:
        super().__init__(f"{reason}: {description}")
        self.reason = reason
        self.description = description


class Provider(Protocol):
    #: ``oidc`` or ``workos``: the audit log's and ``/readyz``'s name for it
    name: ProviderName
    #: What the button on ``/login`` says after "Sign in with"
    label: str

    async def authorization_url(self, flow: Flow) -> str:
        """Where to send the browser to sign in (raise :class:`UpstreamError`)."""
        ...

    async def identity(self, code: str, flow: Flow, peer: Peer) -> UpstreamIdentity:
        """Exchange the callback's code and check what comes back; raise
        :class:`UpstreamError` when anything does not hold."""
        ...
