"""Dev login: sign in as anyone, by name, with no identity provider at all.

For a developer's own machine only, so it exists only when both ends are
on it: the server binds to loopback (``AUTHGATE_HOST``), and the request
comes from a loopback address without having passed through a proxy (a
reverse proxy on the same machine would make every visitor look local).
Anywhere else the endpoint does not exist (404), so a setting copied into
production cannot open it.
"""

from collections.abc import Mapping

from authgate.config import Settings
from authgate.util.loopback import is_loopback, local_request

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
    return available(settings) and local_request(client_ip, headers)
