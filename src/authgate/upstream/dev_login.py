"""Dev login: sign in as anyone, by name, with no identity provider at all.

For a developer's own machine only, so it exists only when both ends are
on it: the server binds to loopback (``AUTHGATE_HOST``), and the request
comes from a loopback address without having passed through a proxy (a
reverse proxy on the same machine would make every visitor look local).
Anywhere else the endpoint does not exist (404), so a setting copied into
production cannot open it.
"""

import ipaddress
from collections.abc import Mapping

from authgate.config import Settings, is_loopback

#: Headers a proxy adds; their presence means the peer address is the proxy's.
PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")

WARNING = (
    "AUTHGATE_DEV_LOGIN_ENABLED is on: anyone on this machine can sign in as "
    "any user, without a password, at POST /api/v1/auth/dev/login. Never enable "
    "it outside development."
)


def available(settings: Settings) -> bool:
    """Dev login is switched on and the server binds to loopback only."""
    return settings.dev_login_enabled and is_loopback(settings.host)


def allows(
    settings: Settings, client_ip: str | None, headers: Mapping[str, str]
) -> bool:
    """This request may use dev login."""
    if not available(settings) or client_ip is None:
        return False
    if any(name in headers for name in PROXY_HEADERS):
        return False
    try:
        return ipaddress.ip_address(client_ip).is_loopback
    except ValueError:
        return False
