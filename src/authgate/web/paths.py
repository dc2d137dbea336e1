"""Where each page lives: the one place page paths are written, as
``oauth.server`` names the OAuth endpoints. Routes are declared at these
paths, redirects go to them, and templates link to them (``paths`` is in
every template's context: ``href="{{ paths.LOGIN }}"``).

Paths are public (bookmarks, links in invite emails): changing one is a
breaking change.
"""

from urllib.parse import urlsplit

from authgate.config import Settings
from authgate.domain import invite_mail, password_reset, verification

# Signing in and out (``web.pages.login``, ``second_step``, ``register``,
# ``forgot``, ``reset``, ``upstream``, ``logout``).
LOGIN = "/login"
#: The "Sign in with …" button: off to the upstream provider.
LOGIN_PROVIDER = "/login/provider"
#: The second step of a sign-in, for an account with a second factor.
LOGIN_MFA = "/login/mfa"
#: The dev-login button's form (loopback only).
LOGIN_DEV = "/login/dev"
#: "Sign in with a passkey": the browser's assertion, posted by ``passkeys.js``.
LOGIN_PASSKEY = "/login/passkey"
LOGOUT = "/logout"
#: Confirming who you are again, for a sensitive action or a client that asks
#: for a fresh or stronger sign-in (``web.pages.reauth``).
REAUTH = "/reauth"
#: Also where an instance invite's mailed link leads (the domain writes it).
REGISTER = invite_mail.REGISTER_PAGE
FORGOT = "/forgot"
#: The "Email me a link" form of the forgot page.
FORGOT_EMAIL = "/forgot/email"
#: Where a mailed reset link leads (``web.pages.reset``); the domain writes it
#: into the mail.
RESET = password_reset.PAGE
#: Where a mailed verification link leads (``web.pages.verify_email``); the
#: domain writes it into the mail.
VERIFY_EMAIL = verification.PAGE

# A person's own account (``web.pages.settings``, ``web.pages.orgs``).
SETTINGS = "/settings"
SETTINGS_PROFILE = "/settings/profile"
SETTINGS_SESSIONS = "/settings/sessions"
SETTINGS_APPS = "/settings/apps"
SETTINGS_TOKENS = "/settings/tokens"
SETTINGS_KEYS = "/settings/keys"
SETTINGS_SECURITY = "/settings/security"
SETTINGS_PASSKEYS = "/settings/passkeys"
SETTINGS_ORGS = "/settings/orgs"
#: Where an org invite's link leads (``invite_url``).
ORG_INVITE_ACCEPT = invite_mail.ACCEPT_PAGE

# The instance administrators' console (``web.pages.admin``).
ADMIN = "/admin"
ADMIN_USERS = "/admin/users"
ADMIN_INVITES = "/admin/invites"
ADMIN_CLIENTS = "/admin/clients"
ADMIN_AUDIT = "/admin/audit"
ADMIN_KEYS = "/admin/keys"

#: Where a sign-in without ``next`` lands: the person's Settings, where their
#: sessions and authorized apps are one click away.
HOME = SETTINGS
#: Where a new account lands: its own profile.
WELCOME = SETTINGS_PROFILE


def invite_url(settings: Settings, code: str) -> str:
    """The link an org invite is shared as (the API returns it, the org page
    shows it)."""
    return invite_mail.accept_link(settings.issuer, code)


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site; ``None`` for anything that
    could leave it (absolute URLs, ``//host``, ``/\\host``, control characters)."""
    if not target or len(target) > 4096 or not target.startswith("/"):
        return None
    if target.startswith(("//", "/\\")) or any(c in target for c in "\\\r\n\t"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
