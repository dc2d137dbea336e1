"""Settings: one typed object, built once by ``main()``/``create_app()``, passed down.

Every field reads ``AUTHGATE_<NAME>`` from the environment or a ``.env`` file, and
its description and :class:`Group` are what ``docs/configuration.md`` says about
it (``tests/unit/test_configuration_doc.py`` generates the page and keeps the two
in step). Groups are kept flat, as the environment names are, and ordered by
concern.
"""

import enum
import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field, PlainSerializer, SecretStr, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from authgate.util import extras
from authgate.util.addresses import parse_networks
from authgate.util.durations import format_duration, parse_duration
from authgate.util.loopback import NAMES as LOOPBACK_NAMES
from authgate.util.loopback import is_loopback
from authgate.util.smtp_relay import Relay


def _duration(value: Any) -> Any:
    return parse_duration(str(value)) if isinstance(value, (str, int)) else value


def _text_list(value: Any) -> Any:
    """A list from the environment: comma- or space-separated (or a JSON list)."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part for part in text.replace(",", " ").split() if part]
    return value


def _empty_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


#: Python's logging levels, by name.
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


Duration = Annotated[
    timedelta,
    BeforeValidator(_duration),
    PlainSerializer(format_duration, return_type=str),
]

#: the kinds of ``AUTHGATE_MAIL_NOTICES``: ``domain.notices.Kind``'s values
MailNotice = Literal[
    "new_sign_in",
    "password_changed",
    "email_changed",
    "factor_added",
    "factor_removed",
    "recovery_used",
    "token_expiring",
    "account_deleted",
]

TextList = Annotated[list[str], NoDecode, BeforeValidator(_text_list)]


class Group(enum.StrEnum):
    """The headings of ``docs/configuration.md``, in its order. Each field
    carries its group as ``Annotated`` metadata: the environment names stay
    flat, so the grouping is documentation, not nesting."""

    SERVER = "Server"
    ACCOUNTS = "Accounts"
    SESSIONS_AND_TOKENS = "Sessions and tokens"
    OAUTH = "OAuth authorization server"
    OTHER_ISSUER = "Tokens from another issuer on the API"
    SCALE_OUT = "Scale-out"
    UPSTREAM = "Upstream sign-in"
    MAIL = "Mail"
    INTEGRATIONS = "Integrations"


class FromFile:
    """Marks a setting that holds a secret: besides ``AUTHGATE_<NAME>`` it is
    read from the file ``AUTHGATE_<NAME>_FILE`` names (the Docker and
    systemd-credentials convention), so the value need not sit in the
    environment, which ``/proc``, ``docker inspect`` and crash reports show."""


#: The marker in a secret setting's ``Annotated`` metadata.
FROM_FILE = FromFile()


class SettingFileError(ValueError):
    """An ``AUTHGATE_<NAME>_FILE`` that cannot be used; the message names the
    variable and the file, never the file's content."""


class _FileSource(PydanticBaseSettingsSource):
    """``AUTHGATE_<NAME>_FILE`` for each :data:`FROM_FILE` setting: the file's
    text without its final line break. Set beside ``AUTHGATE_<NAME>`` it is
    refused, as is a file that cannot be read or is empty: a secret silently
    missing would start the server without it."""

    def get_field_value(
        self, field: FieldInfo, field_name: str
    ) -> tuple[Any, str, bool]:
        raise NotImplementedError  # __call__ reads every field at once

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name in file_settings():
            variable = f"AUTHGATE_{name.upper()}"
            path = os.environ.get(f"{variable}_FILE")
            if path is None:
                continue
            if variable in os.environ:
                raise SettingFileError(
                    f"{variable} and {variable}_FILE are both set: keep one"
                )
            values[name] = read_setting_file(f"{variable}_FILE", Path(path))
        return values


def read_setting_file(variable: str, path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise SettingFileError(f"{variable}: cannot read {path}: {reason}") from None
    value = text.removesuffix("\n").removesuffix("\r")
    if not value.strip():
        raise SettingFileError(f"{variable}: {path} is empty")
    return value


def file_settings() -> list[str]:
    """The settings also read from ``AUTHGATE_<NAME>_FILE``."""
    return [
        name
        for name, field in Settings.model_fields.items()
        if any(isinstance(meta, FromFile) for meta in field.metadata)
    ]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="AUTHGATE_", env_file=".env", extra="ignore", frozen=True
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            _FileSource(settings_cls),
            dotenv_settings,
            file_secret_settings,
        )

    host: Annotated[str, Group.SERVER] = Field(
        "127.0.0.1", description="Address `authgate serve` binds to."
    )
    port: Annotated[int, Group.SERVER] = Field(
        8000, ge=0, le=65535, description="Port `authgate serve` binds to."
    )
    workers: Annotated[int | None, BeforeValidator(_empty_is_none), Group.SERVER] = (
        Field(
            None,
            ge=1,
            le=256,
            description="Processes `authgate serve` runs on its port. Default: one "
            "per core on PostgreSQL, one on SQLite (whose writes are one at a time "
            "whatever the processes). Their caches stay coherent as separate "
            "instances' do; without `AUTHGATE_REDIS_URL` each counts rate limits "
            "on its own.",
        )
    )
    public_url: Annotated[str | None, Group.SERVER] = Field(
        None,
        description="The issuer and the base of every URL the server prints; "
        "its host is the passkeys' relying party, so passkeys need a name here "
        "(`localhost`, `id.example.com`), not an IP address. "
        "Default: `http://{host}:{port}`.",
    )
    trusted_proxies: Annotated[TextList, Group.SERVER] = Field(
        default_factory=list,
        description="Reverse proxies (addresses or CIDR blocks, comma-separated) "
        "whose `X-Forwarded-For` names the client; from any other peer the "
        "header is ignored. Empty: the peer is the client.",
    )
    api_docs_enabled: Annotated[bool, Group.SERVER] = Field(
        True,
        description="`false` removes the API's interactive documentation "
        "(`/docs`, `/redoc`); `/openapi.json` stays.",
    )
    allowed_hosts: Annotated[TextList, Group.SERVER] = Field(
        default_factory=list,
        description="More host names a request may name in `Host` "
        "(comma-separated, no port), beside the public URL's host and, when "
        "the server binds to loopback, `localhost`, `127.0.0.1` and `[::1]`. "
        "Any other host is refused (421), so a site whose name an attacker "
        "points at this server (DNS rebinding) gets nothing.",
    )
    data_dir: Annotated[Path, Group.SERVER] = Field(
        Path(".authgate"),
        description="Where the embedded SQLite database and the generated dev "
        "secret live.",
    )
    database_url: Annotated[str | None, Group.SERVER, FROM_FILE] = Field(
        None,
        description="SQLAlchemy async URL, e.g. "
        "`postgresql+asyncpg://user:pw@host/db` (the `postgres` extra). "
        "Default: SQLite file `authgate.db` in the data dir.",
    )
    secret_key: Annotated[SecretStr | None, Group.SERVER, FROM_FILE] = Field(
        None,
        description="At least 32 characters; every key Authgate needs (signing-key "
        "encryption, cookies, CSRF) is derived from it with HKDF. Unset: one is "
        "generated into the data dir (development only).",
    )
    secret_key_previous: Annotated[SecretStr | None, Group.SERVER, FROM_FILE] = Field(
        None,
        description="The secret `AUTHGATE_SECRET_KEY` replaced, while a "
        "rotation is under way: what was sealed or signed under it still "
        "opens (signing keys, authenticator-app secrets, queued mail, "
        "sign-in tickets, CSRF tokens, recovery codes); new values use the "
        "new secret. `authgate admin rotate-secret` re-seals what is stored, "
        "after which this can be unset (docs/deployment.md).",
    )
    max_body_bytes: Annotated[int, Group.SERVER] = Field(
        1_048_576, ge=1024, description="Largest request body accepted (bytes)."
    )
    log_level: Annotated[LogLevel, BeforeValidator(_upper), Group.SERVER] = Field(
        "INFO",
        description="Least severe log lines written (any case), for Authgate and "
        "uvicorn alike.",
    )
    log_format: Annotated[Literal["text", "json"], Group.SERVER] = Field(
        "text",
        description="How log lines are written to standard error: `text` (one "
        "line each: UTC time, level, logger, request id, message) or `json` (one "
        "object per line with `timestamp`, `level`, `logger`, `request_id` and "
        "`message`, for a log collector). The request id is the caller's "
        "`X-Request-ID` when it is up to 128 letters, digits or `._:+/=-`, else "
        "a new one; the answer's `X-Request-ID` says which.",
    )
    housekeeping_interval: Annotated[Duration, Group.SERVER] = Field(
        timedelta(hours=1),
        gt=timedelta(0),
        description="How often the server deletes expired sessions, refresh "
        "tokens, codes and other rows that no longer matter (one instance at a "
        "time); `authgate admin prune` does it on demand.",
    )
    audit_retention: Annotated[
        Duration | None, BeforeValidator(_empty_is_none), Group.SERVER
    ] = Field(
        None,
        gt=timedelta(0),
        description="Audit events older than this are deleted, e.g. `365d`. "
        "Default: kept forever.",
    )

    auth_enabled: Annotated[bool, Group.ACCOUNTS] = Field(
        True,
        description="`false` makes every request the local owner (single-user mode); "
        "refused unless the server binds to loopback.",
    )
    allow_registration: Annotated[bool, Group.ACCOUNTS] = Field(
        False, description="`true` lets anyone register without an invite code."
    )
    require_mfa: Annotated[bool, Group.ACCOUNTS] = Field(
        False,
        description="`true` makes every account set up a second factor: an "
        "account without one sets up an authenticator app at its next sign-in "
        "(a sign-in through an upstream provider that did MFA itself passes). "
        "Sessions opened before stay.",
    )
    org_invites_create_accounts: Annotated[bool, Group.ACCOUNTS] = Field(
        False,
        description="`true` lets an organization invite create an account for "
        "the invited address on an invite-only instance; by default it only adds "
        "an existing account (accepted signed in), so members who may invite "
        "cannot bring in people no administrator admitted.",
    )
    password_min_length: Annotated[int, Group.ACCOUNTS] = Field(
        12, ge=8, le=64, description="Shortest password accepted (OWASP ASVS 2.1.1)."
    )
    max_login_attempts: Annotated[int, Group.ACCOUNTS] = Field(
        5,
        ge=1,
        description="Failed logins within the lockout window that lock an account; "
        "as many failed password re-checks (password change, recovery key) lock "
        "those re-checks for the signed-in account.",
    )
    lockout_duration_minutes: Annotated[int, Group.ACCOUNTS] = Field(
        15, ge=1, description="How long a locked account stays locked."
    )
    rate_limit_enabled: Annotated[bool, Group.ACCOUNTS] = Field(
        True,
        description="Request-rate limits (per address, per OAuth client, per person "
        "entering device codes); `false` for test rigs. Account lockout (sign-in and "
        "password re-checks) stays on regardless.",
    )
    login_rate_limit_per_minute: Annotated[int, Group.ACCOUNTS] = Field(
        30,
        ge=1,
        description="Sign-in, registration, recovery and password re-check "
        "requests per minute from one address (an IPv6 /64), and failed OAuth "
        "client authentications from one address.",
    )
    oauth_register_rate_limit_per_minute: Annotated[int, Group.ACCOUNTS] = Field(
        20,
        ge=1,
        description="Dynamic client registrations (`/oauth/register`) per minute "
        "from one address.",
    )
    oauth_token_rate_limit_per_minute: Annotated[int, Group.ACCOUNTS] = Field(
        600,
        ge=1,
        description="`/oauth/token` requests per minute per confidential client "
        "(a public client's, which anyone can name, per client and address).",
    )
    device_authorization_rate_limit_per_minute: Annotated[int, Group.ACCOUNTS] = Field(
        30,
        ge=1,
        description="`/oauth/device_authorization` requests per minute per "
        "confidential client (a public client's per client and address).",
    )
    user_code_rate_limit_per_minute: Annotated[int, Group.ACCOUNTS] = Field(
        20,
        ge=1,
        description="Device user codes looked up on `/device` per minute, from one "
        "address and, separately, by one person (RFC 8628 §5.1).",
    )
    argon2_time_cost: Annotated[int, Group.ACCOUNTS] = Field(
        2, ge=1, description="Argon2id iterations (OWASP: 2)."
    )
    argon2_memory_kib: Annotated[int, Group.ACCOUNTS] = Field(
        19456, ge=1024, description="Argon2id memory in KiB (OWASP: 19 MiB)."
    )

    token_prefix: Annotated[str, Group.SESSIONS_AND_TOKENS] = Field(
        "ag",
        pattern=r"^[a-z][a-z0-9]{0,15}$",
        description="First part of every opaque token (`ag_pat_…`).",
    )
    jwt_expiry: Annotated[Duration, Group.SESSIONS_AND_TOKENS] = Field(
        timedelta(minutes=15), description="Access token (JWT) lifetime, e.g. `15m`."
    )
    refresh_token_expiry: Annotated[Duration, Group.SESSIONS_AND_TOKENS] = Field(
        timedelta(days=7),
        description="A refresh token unused this long expires; each use gives a "
        "new one, e.g. `7d`.",
    )
    refresh_token_max_lifetime: Annotated[Duration, Group.SESSIONS_AND_TOKENS] = Field(
        timedelta(days=90),
        description="No refresh token outlives its sign-in (or OAuth grant) by "
        "more than this, however often it is used; then the person signs in "
        "again.",
    )
    session_idle_timeout: Annotated[Duration, Group.SESSIONS_AND_TOKENS] = Field(
        timedelta(days=7),
        description="A session unused this long ends; every use slides it forward.",
    )
    session_max_lifetime: Annotated[Duration, Group.SESSIONS_AND_TOKENS] = Field(
        timedelta(days=30),
        description="A session ends this long after sign-in, used or not.",
    )
    step_up_max_age: Annotated[Duration, Group.SESSIONS_AND_TOKENS] = Field(
        timedelta(minutes=10),
        gt=timedelta(0),
        description="Sensitive actions (a new token or key, a new password or "
        "email, a recovery key, second factors, administration) need a sign-in "
        "this recent, with the second factor when the person has one; older, "
        "the person confirms who they are again (RFC 9470), e.g. `10m`.",
    )
    cookie_secure: Annotated[bool | None, Group.SESSIONS_AND_TOKENS] = Field(
        None,
        description="Mark cookies `Secure`. Default: when the public URL is https.",
    )
    pat_max_days: Annotated[int, Group.SESSIONS_AND_TOKENS] = Field(
        365,
        ge=1,
        le=3650,
        description="Longest lifetime a personal access token may have.",
    )
    allow_query_api_keys: Annotated[bool, Group.SESSIONS_AND_TOKENS] = Field(
        False,
        description="Accept API keys as `?api_key=` (for clients that cannot set "
        "headers); the value is redacted from every log line.",
    )
    token_cache_size: Annotated[int, Group.SESSIONS_AND_TOKENS] = Field(
        10_000,
        ge=0,
        description="Verified credentials kept in memory so repeat requests skip the "
        "signature check and the database; `0` disables the cache.",
    )

    mcp_resource_uri: Annotated[str | None, Group.OAUTH] = Field(
        None,
        description="An MCP server's resource URI (RFC 8707): OAuth clients may ask "
        "for tokens whose audience it is, and its protected-resource metadata "
        "(RFC 9728) is published at "
        "`/.well-known/oauth-protected-resource/<its path>`.",
    )
    extra_resources: Annotated[TextList, Group.OAUTH] = Field(
        default_factory=list,
        description="More resource URIs OAuth clients may ask tokens for "
        "(comma-separated); the API itself (`{public_url}`) always is one.",
    )
    open_client_registration: Annotated[
        Literal["none", "loopback", "https"], Group.OAUTH
    ] = Field(
        "loopback",
        description="Who may register OAuth clients at `/oauth/register` without an "
        "administrator's token: `loopback` public native clients whose redirect "
        "URIs are all loopback (RFC 8252), `https` those plus claimed https "
        "redirect URIs, `none` nobody.",
    )
    client_metadata_domains: Annotated[TextList, Group.OAUTH] = Field(
        default_factory=list,
        description="Hosts (and their subdomains) whose Client ID Metadata Documents "
        "are trusted, comma-separated; empty: any public https host.",
    )
    client_metadata_allow_insecure_loopback: Annotated[bool, Group.OAUTH] = Field(
        False,
        description="Accept `http://127.0.0.1…` Client ID Metadata Document URLs. "
        "For test rigs only: never in production.",
    )
    device_code_expiry: Annotated[Duration, Group.OAUTH] = Field(
        timedelta(minutes=10),
        description="How long a device authorization (RFC 8628) waits for approval.",
    )

    api_oauth_issuer: Annotated[str | None, Group.OTHER_ISSUER] = Field(
        None,
        description="Another OAuth/OpenID issuer whose JWTs `/api/v1/*` also "
        "accepts as bearer tokens (native and mobile apps that sign in with the "
        "upstream provider directly), written exactly as its tokens' `iss`. "
        "Checked against its discovery document and JWKS: signature, `iss`, "
        "`exp`, `nbf`, audience. The token's subject must be linked to an account "
        "(as upstream sign-in links them); an unknown one gets an account only "
        "when `AUTHGATE_ALLOW_REGISTRATION` is true. https, or http on loopback.",
    )
    api_oauth_audiences: Annotated[TextList, Group.OTHER_ISSUER] = Field(
        default_factory=list,
        description="Audiences accepted from `AUTHGATE_API_OAUTH_ISSUER` "
        "(comma-separated; a token naming any one passes). Empty: any audience "
        "except `AUTHGATE_MCP_RESOURCE_URI`, so tokens minted for the MCP server "
        "stay there.",
    )

    redis_url: Annotated[str | None, Group.SCALE_OUT, FROM_FILE] = Field(
        None,
        description="Redis for instant revocation fan-out between instances and "
        "one shared rate-limit budget (e.g. `redis://localhost:6379/0`). Without "
        "it, PostgreSQL NOTIFY wakes the instances (on SQLite a one-second poll "
        "does) and each instance limits rates on its own. Needs the `redis` extra.",
    )

    auth_provider: Annotated[
        Literal["workos", "oidc"] | None,
        BeforeValidator(_empty_is_none),
        Group.UPSTREAM,
    ] = Field(
        None,
        description="Web sign-in through an identity provider: `workos`, `oidc`, or "
        "empty to detect it: WorkOS when `AUTHGATE_WORKOS_CLIENT_ID` and "
        "`AUTHGATE_WORKOS_API_KEY` are set, else OIDC when "
        "`AUTHGATE_OIDC_ISSUER_URL` is, else none (local accounts and dev login "
        "only). `/readyz` names the one in use.",
    )
    oidc_issuer_url: Annotated[str | None, Group.UPSTREAM] = Field(
        None,
        description="The OpenID Connect issuer (Keycloak realm, Authentik, Zitadel, "
        "Dex, Auth0, Google, another Authgate…); its discovery document is read "
        "from `{issuer}/.well-known/openid-configuration`. https, or http on "
        "loopback.",
    )
    oidc_client_id: Annotated[str | None, Group.UPSTREAM] = Field(
        None, description="Authgate's client id at the OIDC issuer."
    )
    oidc_client_secret: Annotated[SecretStr | None, Group.UPSTREAM, FROM_FILE] = Field(
        None,
        description="Authgate's client secret at the OIDC issuer; unset for a "
        "public client (PKCE only).",
    )
    oidc_redirect_uri: Annotated[str | None, Group.UPSTREAM] = Field(
        None,
        description="The redirect URI registered at the issuer. Default: "
        "`{public_url}/auth/callback`.",
    )
    oidc_scopes: Annotated[str, Group.UPSTREAM] = Field(
        "openid email profile",
        description="Scopes asked of the OIDC issuer (space-separated; `openid` "
        "is required).",
    )
    oidc_display_name: Annotated[str | None, Group.UPSTREAM] = Field(
        None,
        description="What the button on `/login` says after “Sign in with”. "
        "Default: the issuer's host name.",
    )
    workos_client_id: Annotated[str | None, Group.UPSTREAM] = Field(
        None, description="The WorkOS client id (`client_…`)."
    )
    workos_api_key: Annotated[SecretStr | None, Group.UPSTREAM, FROM_FILE] = Field(
        None,
        description="The WorkOS API key (`sk_…`), sent as the client secret when "
        "exchanging codes.",
    )
    workos_api_base_url: Annotated[str, Group.UPSTREAM] = Field(
        "https://api.workos.com",
        description="Where the WorkOS API is; point it at another host such as the "
        "local stand-in (`authgate.upstream.stub`). https, or http on loopback.",
    )
    workos_redirect_uri: Annotated[str | None, Group.UPSTREAM] = Field(
        None,
        description="The redirect URI configured in WorkOS. Default: "
        "`{public_url}/auth/callback`.",
    )
    signin_allowed_emails: Annotated[TextList, Group.UPSTREAM] = Field(
        default_factory=list,
        description="Who may sign in through a provider or register: addresses "
        "and `@domain` entries, comma-separated (a provider's address counts "
        "only when it verified it). Empty: anyone.",
    )
    dev_login_enabled: Annotated[bool, Group.UPSTREAM] = Field(
        False,
        description="`true` enables `POST /api/v1/auth/dev/login` (sign in as any "
        "username, no password) and its button on `/login`, only while the "
        "server binds to loopback and for requests from loopback. Development "
        "only.",
    )

    smtp_url: Annotated[
        SecretStr | None, BeforeValidator(_empty_is_none), Group.MAIL, FROM_FILE
    ] = Field(
        None,
        description="The SMTP relay mail goes through: `smtps://user:pass@host:465` "
        "(TLS from the start, preferred) or `smtp://user:pass@host:587` (STARTTLS, "
        "required unless the host is loopback); credentials percent-encoded "
        "(`p%40ss` for `p@ss`), certificates always checked. Unset: each message "
        "is written as an `.eml` file under `{data_dir}/mail/` and its path logged "
        "(development).",
    )
    mail_from: Annotated[str | None, BeforeValidator(_empty_is_none), Group.MAIL] = (
        Field(
            None,
            description="The `From` of every message, e.g. "
            "`Authgate <auth@example.com>`; required with `AUTHGATE_SMTP_URL`. "
            "Default (files only): `Authgate <authgate@{public host}>`.",
        )
    )
    mail_notices: Annotated[
        list[MailNotice], NoDecode, BeforeValidator(_text_list), Group.MAIL
    ] = Field(
        default_factory=lambda: list(get_args(MailNotice)),
        description="The notices mailed to a person's verified address when "
        "something happens to their account, comma-separated: `new_sign_in` (a "
        "device or place none of their sessions came from), `password_changed`, "
        "`email_changed` (to the old address), `factor_added`, `factor_removed` "
        "(an authenticator app, a passkey, new recovery codes, an administrator's "
        "reset), `recovery_used` (a recovery key or code), `token_expiring` (a "
        "personal access token, 7 days before), `account_deleted` (by an "
        "administrator or by the person). Default: all; empty: none.",
    )

    geoip_db: Annotated[Path | None, Group.INTEGRATIONS] = Field(
        None,
        description="MaxMind-format (`.mmdb`) city or country database; session "
        "lists then show a location for each IP. Needs the `geoip` extra.",
    )
    backoffice_api_key: Annotated[SecretStr | None, Group.INTEGRATIONS, FROM_FILE] = (
        Field(
            None,
            description="Enables `/bo/*` (the operators' back office), opened only by "
            "`Authorization: Bearer <this key>`. Unset: `/bo/*` does not exist.",
        )
    )
    metrics_token: Annotated[SecretStr | None, Group.INTEGRATIONS, FROM_FILE] = Field(
        None,
        description="At least 32 characters; `/metrics` (Prometheus) then needs "
        "`Authorization: Bearer <this token>`. Unset: `/metrics` answers only on a "
        "loopback bind (`AUTHGATE_HOST`), to loopback callers not behind a proxy.",
    )

    @model_validator(mode="after")
    def _check(self) -> "Settings":
        if self.secret_key is not None and len(self.secret_key.get_secret_value()) < 32:
            raise ValueError("AUTHGATE_SECRET_KEY must be at least 32 characters")
        previous = self.secret_key_previous
        if previous is not None:
            if self.secret_key is None:
                raise ValueError(
                    "AUTHGATE_SECRET_KEY_PREVIOUS needs AUTHGATE_SECRET_KEY (the new "
                    "secret)"
                )
            if len(previous.get_secret_value()) < 32:
                raise ValueError(
                    "AUTHGATE_SECRET_KEY_PREVIOUS must be at least 32 characters"
                )
            if previous == self.secret_key:
                raise ValueError(
                    "AUTHGATE_SECRET_KEY_PREVIOUS is the same as AUTHGATE_SECRET_KEY"
                )
        key = self.backoffice_api_key
        if key is not None and len(key.get_secret_value()) < 32:
            raise ValueError(
                "AUTHGATE_BACKOFFICE_API_KEY must be at least 32 characters"
            )
        token = self.metrics_token
        if token is not None and len(token.get_secret_value()) < 32:
            raise ValueError("AUTHGATE_METRICS_TOKEN must be at least 32 characters")
        for uri in [self.mcp_resource_uri or self.issuer, *self.extra_resources]:
            if not is_absolute_uri(uri):
                raise ValueError(
                    f"{uri!r} is not a resource URI (RFC 8707 §2: an absolute URI "
                    "without a fragment)"
                )
        try:
            parse_networks(self.trusted_proxies)
        except ValueError as exc:
            raise ValueError(f"AUTHGATE_TRUSTED_PROXIES: {exc}") from None
        for name in self.allowed_hosts:
            parsed = urlsplit("//" + name).hostname
            if parsed is None or _host_name(name) != _host_name(parsed):
                raise ValueError(
                    f"AUTHGATE_ALLOWED_HOSTS: {name!r} is not a host name "
                    "(no scheme, port or path)"
                )
        _check_extras(self)
        _check_upstream(self)
        _check_api_issuer(self)
        _check_mail(self)
        if not self.auth_enabled and not is_loopback(self.host):
            raise ValueError(
                "AUTHGATE_AUTH_ENABLED=false is only allowed when the server binds "
                f"to loopback (AUTHGATE_HOST is {self.host})"
            )
        return self

    @property
    def issuer(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def public_host(self) -> str:
        """The host name people reach this server by (the issuer's)."""
        return (urlsplit(self.issuer).hostname or self.host).lower()

    @property
    def accepted_hosts(self) -> frozenset[str]:
        """The names ``Host`` may give (any port): the public URL's, the
        allowed ones, and loopback names on a loopback bind, where a browser
        on this machine reaches the server by them."""
        names = {self.public_host, *self.allowed_hosts}
        if is_loopback(self.host):
            names |= {*LOOPBACK_NAMES, self.host}
        return frozenset(_host_name(name) for name in names)

    @property
    def api_resource(self) -> str:
        """The audience of tokens for Authgate's own API (RFC 8707 / RFC 9728)."""
        return self.issuer

    @property
    def resources(self) -> list[str]:
        """Every audience OAuth clients may ask for (RFC 8707), the API's first."""
        found = [self.api_resource]
        for uri in [self.mcp_resource_uri, *self.extra_resources]:
            if uri and uri not in found:
                found.append(uri)
        return found

    @property
    def worker_count(self) -> int:
        if self.workers is not None:
            return self.workers
        if self.sqlalchemy_url.startswith("sqlite"):
            return 1
        # The cores this process may run on (a cpuset, taskset), not the host's.
        return (
            len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity")
            else (os.cpu_count() or 1)
        )

    @property
    def sqlalchemy_url(self) -> str:
        return (
            self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'authgate.db'}"
        )

    @property
    def mail_sender(self) -> str:
        """The ``From`` of every message."""
        return self.mail_from or f"Authgate <authgate@{self.public_host}>"

    @property
    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.issuer.startswith("https://")


def _check_extras(settings: "Settings") -> None:
    """What a setting turns on is installed: a PostgreSQL URL without asyncpg,
    Redis without redis-py or a location file without maxminddb would fail
    later, inside a worker, with a traceback; here it names the extra."""
    driver = urlsplit(settings.sqlalchemy_url).scheme.partition("+")[2]
    needs = {
        "AUTHGATE_DATABASE_URL": driver,
        "AUTHGATE_REDIS_URL": "redis" if settings.redis_url else "",
        "AUTHGATE_GEOIP_DB": "maxminddb" if settings.geoip_db else "",
    }
    for name, module in needs.items():
        extra = extras.extra_for(module) if module else None
        if extra is not None and not extras.is_installed(module):
            raise ValueError(
                f"{name} needs the {extra} extra, which is not installed: "
                f"{extras.install_hint(extra)}"
            )


def _check_upstream(settings: "Settings") -> None:
    """A provider is configured completely or not at all, and the one chosen
    by ``AUTHGATE_AUTH_PROVIDER`` is configured: a half-configured provider
    refuses to start, naming what is missing."""
    groups: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
        "workos": (
            "WorkOS",
            {
                "AUTHGATE_WORKOS_CLIENT_ID": settings.workos_client_id,
                "AUTHGATE_WORKOS_API_KEY": settings.workos_api_key,
            },
            {},
        ),
        "oidc": (
            "OIDC",
            {
                "AUTHGATE_OIDC_ISSUER_URL": settings.oidc_issuer_url,
                "AUTHGATE_OIDC_CLIENT_ID": settings.oidc_client_id,
            },
            {"AUTHGATE_OIDC_CLIENT_SECRET": settings.oidc_client_secret},
        ),
    }
    for name, (label, required, optional) in groups.items():
        missing = [k for k, v in required.items() if not v]
        present = [k for k, v in {**required, **optional}.items() if v]
        if not missing:
            continue
        if settings.auth_provider == name:
            raise ValueError(
                f"AUTHGATE_AUTH_PROVIDER={name} needs {' and '.join(required)}; "
                f"not set: {', '.join(missing)}"
            )
        if present:
            raise ValueError(
                f"The {label} provider is half-configured: {', '.join(present)} "
                f"set, but not {', '.join(missing)}"
            )
    urls = {
        "AUTHGATE_OIDC_ISSUER_URL": settings.oidc_issuer_url,
        "AUTHGATE_WORKOS_API_BASE_URL": settings.workos_api_base_url,
    }
    for env, url in urls.items():
        if url and not _secure_or_loopback(url):
            raise ValueError(f"{env} must be an https URL (or http on loopback)")
    for env, url in {
        "AUTHGATE_OIDC_REDIRECT_URI": settings.oidc_redirect_uri,
        "AUTHGATE_WORKOS_REDIRECT_URI": settings.workos_redirect_uri,
    }.items():
        if url and not (is_absolute_uri(url) and url.startswith(("https:", "http:"))):
            raise ValueError(f"{env} must be an absolute http(s) URL")
    if settings.oidc_issuer_url and "openid" not in settings.oidc_scopes.split():
        raise ValueError("AUTHGATE_OIDC_SCOPES must include openid")
    from authgate.domain.allowlist import Allowlist
    from authgate.errors import InvalidRequest

    try:
        Allowlist.parse(settings.signin_allowed_emails)
    except InvalidRequest as exc:
        raise ValueError(f"AUTHGATE_SIGNIN_ALLOWED_EMAILS: {exc.description}") from None


def _check_mail(settings: "Settings") -> None:
    """A relay that can be reached as written, and a sender it can name; an
    error never repeats the URL (it holds the relay's password)."""
    from email.utils import parseaddr

    if settings.mail_from is not None:
        _name, address = parseaddr(settings.mail_from)
        if "@" not in address or any(c in settings.mail_from for c in "\r\n"):
            raise ValueError(
                "AUTHGATE_MAIL_FROM must be an address, e.g. "
                "Authgate <auth@example.com>"
            )
    if settings.smtp_url is None:
        return
    try:
        Relay.parse(settings.smtp_url.get_secret_value())
    except ValueError as exc:
        raise ValueError(f"AUTHGATE_SMTP_URL {exc}") from None
    if settings.mail_from is None:
        raise ValueError("AUTHGATE_SMTP_URL needs AUTHGATE_MAIL_FROM (the sender)")


def _check_api_issuer(settings: "Settings") -> None:
    issuer = settings.api_oauth_issuer
    if issuer is None:
        if settings.api_oauth_audiences:
            raise ValueError(
                "AUTHGATE_API_OAUTH_AUDIENCES needs AUTHGATE_API_OAUTH_ISSUER"
            )
        return
    if not _secure_or_loopback(issuer):
        raise ValueError(
            "AUTHGATE_API_OAUTH_ISSUER must be an https URL (or http on loopback)"
        )
    if issuer.rstrip("/") == settings.issuer:
        raise ValueError(
            "AUTHGATE_API_OAUTH_ISSUER names Authgate itself, whose tokens the API "
            "accepts already"
        )
    # Tokens for the MCP server must stay there (RFC 8707 audience separation).
    if settings.mcp_resource_uri in settings.api_oauth_audiences:
        raise ValueError(
            "AUTHGATE_API_OAUTH_AUDIENCES may not include AUTHGATE_MCP_RESOURCE_URI"
        )


def _secure_or_loopback(url: str) -> bool:
    parts = urlsplit(url)
    if not parts.hostname or not is_absolute_uri(url):
        return False
    return parts.scheme == "https" or (
        parts.scheme == "http" and is_loopback(parts.hostname)
    )


def _host_name(name: str) -> str:
    """A host name as ``Host`` compares it: lower case, no IPv6 brackets, no
    trailing dot."""
    return name.strip("[]").rstrip(".").lower()


def is_absolute_uri(uri: str) -> bool:
    parts = urlsplit(uri)
    return bool(parts.scheme and parts.netloc) and "#" not in uri
