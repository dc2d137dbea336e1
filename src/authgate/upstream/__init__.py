"""Web sign-in through an upstream identity provider: WorkOS or any OIDC issuer.

``base`` declares what a provider is; ``oidc`` and ``workos`` are the two;
``state`` seals one attempt's secrets into a cookie; ``dev_login`` decides
when the password-less development sign-in exists; ``stub`` is a local
stand-in for WorkOS's API. Nothing here knows a web framework or the
database: ``web.pages.upstream`` drives the flow and ``domain.identities``
decides whose account it is.
"""

from typing import Literal
from urllib.parse import urlsplit

from authgate.config import Settings
from authgate.upstream.base import Provider

Selected = Literal["workos", "oidc", "none"]

CALLBACK_PATH = "/auth/callback"


def select(settings: Settings) -> Selected:
    """Which provider serves web sign-in: ``AUTHGATE_AUTH_PROVIDER``, else WorkOS
    when its client id and API key are both set, else OIDC when an issuer is,
    else none (Settings refuses half-configured providers)."""
    if settings.auth_provider is not None:
        return settings.auth_provider
    if settings.workos_client_id and settings.workos_api_key:
        return "workos"
    if settings.oidc_issuer_url:
        return "oidc"
    return "none"


def redirect_uri(settings: Settings) -> str:
    """Where the provider sends the browser back to."""
    configured = (
        settings.workos_redirect_uri
        if select(settings) == "workos"
        else settings.oidc_redirect_uri
    )
    return configured or settings.issuer + CALLBACK_PATH


def create(settings: Settings) -> Provider | None:
    """The provider :func:`select` names, ready to use; ``None`` for none."""
    chosen = select(settings)
    if chosen == "workos":
        from authgate.upstream.workos import WorkOSProvider

        if not settings.workos_client_id or settings.workos_api_key is None:
            raise ValueError(
                "WorkOS sign-in needs AUTHGATE_WORKOS_CLIENT_ID and "
                "AUTHGATE_WORKOS_API_KEY"
            )
        return WorkOSProvider(
            client_id=settings.workos_client_id,
            api_key=settings.workos_api_key.get_secret_value(),
            api_base_url=settings.workos_api_base_url,
        )
    if chosen == "oidc":
        from authgate.upstream.oidc import OidcProvider

        if not settings.oidc_issuer_url or not settings.oidc_client_id:
            raise ValueError(
                "OIDC sign-in needs AUTHGATE_OIDC_ISSUER_URL and "
                "AUTHGATE_OIDC_CLIENT_ID"
            )
        secret = settings.oidc_client_secret
        return OidcProvider(
            issuer=settings.oidc_issuer_url,
            client_id=settings.oidc_client_id,
            client_secret=secret.get_secret_value() if secret else None,
            scopes=settings.oidc_scopes,
            label=settings.oidc_display_name
            or urlsplit(settings.oidc_issuer_url).hostname
            or "OpenID Connect",
        )
    return None
