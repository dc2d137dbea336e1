"""Settings: one typed object, built once by ``main()``/``create_app()``, passed down.

Every field reads ``AUTHGATE_<NAME>`` from the environment or a ``.env`` file, and
its description is what ``docs/configuration.md`` says about it (a test keeps the
two in step). Groups are kept flat, as the environment names are, and ordered
by concern.
"""

import ipaddress
import logging
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainSerializer, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from authgate.util.durations import format_duration, parse_duration

log = logging.getLogger("authgate")


def _duration(value: Any) -> Any:
    return parse_duration(str(value)) if isinstance(value, (str, int)) else value


Duration = Annotated[
    timedelta,
    BeforeValidator(_duration),
    PlainSerializer(format_duration, return_type=str),
]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="AUTHGATE_", env_file=".env", extra="ignore", frozen=True
    )

    # -- Server
    host: str = Field("127.0.0.1", description="Address `authgate serve` binds to.")
    port: int = Field(
        8000, ge=0, le=65535, description="Port `authgate serve` binds to."
    )
    public_url: str | None = Field(
        None,
        description="The issuer and the base of every URL the server prints. "
        "Default: `http://{host}:{port}`.",
    )
    data_dir: Path = Field(
        Path(".authgate"),
        description="Where the embedded SQLite database and the generated dev "
        "secret live.",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy async URL, e.g. "
        "`postgresql+asyncpg://user:pw@host/db`. "
        "Default: SQLite file `authgate.db` in the data dir.",
    )
    secret_key: SecretStr | None = Field(
        None,
        description="At least 32 characters; every key Authgate needs (signing-key "
        "encryption, cookies, CSRF) is derived from it with HKDF. Unset: one is "
        "generated into the data dir (development only).",
    )
    max_body_bytes: int = Field(
        1_048_576, ge=1024, description="Largest request body accepted (bytes)."
    )
    log_level: str = Field("INFO", description="Python logging level.")

    # -- Accounts
    auth_enabled: bool = Field(
        True,
        description="`false` makes every request the local owner (single-user mode); "
        "refused unless the server binds to loopback.",
    )
    allow_registration: bool = Field(
        False, description="`true` lets anyone register without an invite code."
    )
    password_min_length: int = Field(
        12, ge=8, le=64, description="Shortest password accepted (OWASP ASVS 2.1.1)."
    )
    max_login_attempts: int = Field(
        5,
        ge=1,
        description="Failed logins within the lockout window that lock an account.",
    )
    lockout_duration_minutes: int = Field(
        15, ge=1, description="How long a locked account stays locked."
    )
    rate_limit_enabled: bool = Field(
        True,
        description="Per-IP request limits on sign-in endpoints. Account lockout "
        "stays on regardless.",
    )
    login_rate_limit_per_minute: int = Field(
        30, ge=1, description="Sign-in attempts per minute from one IP address."
    )
    argon2_time_cost: int = Field(
        2, ge=1, description="Argon2id iterations (OWASP: 2)."
    )
    argon2_memory_kib: int = Field(
        19456, ge=1024, description="Argon2id memory in KiB (OWASP: 19 MiB)."
    )

    # -- Sessions and tokens
    token_prefix: str = Field(
        "ag",
        pattern=r"^[a-z][a-z0-9]{0,15}$",
        description="First part of every opaque token (`ag_pat_…`).",
    )
    jwt_expiry: Duration = Field(
        timedelta(minutes=15), description="Access token (JWT) lifetime, e.g. `15m`."
    )
    refresh_token_expiry: Duration = Field(
        timedelta(days=7), description="Refresh token lifetime, e.g. `7d`."
    )
    session_idle_timeout: Duration = Field(
        timedelta(days=7),
        description="A session unused this long ends; every use slides it forward.",
    )
    session_max_lifetime: Duration = Field(
        timedelta(days=30),
        description="A session ends this long after sign-in, used or not.",
    )
    cookie_secure: bool | None = Field(
        None,
        description="Mark cookies `Secure`. Default: when the public URL is https.",
    )
    pat_max_days: int = Field(
        365,
        ge=1,
        le=3650,
        description="Longest lifetime a personal access token may have.",
    )
    allow_query_api_keys: bool = Field(
        False,
        description="Accept API keys as `?api_key=` (for clients that cannot set "
        "headers); the value is redacted from every log line.",
    )
    token_cache_size: int = Field(
        10_000,
        ge=0,
        description="Verified credentials kept in memory so repeat requests skip the "
        "signature check and the database; `0` disables the cache.",
    )

    # -- Integrations
    geoip_db: Path | None = Field(
        None,
        description="MaxMind-format (`.mmdb`) city or country database; session "
        "lists then show a location for each IP.",
    )
    backoffice_api_key: SecretStr | None = Field(
        None,
        description="Enables `/bo/*` (the operators' back office), opened only by "
        "`Authorization: Bearer <this key>`. Unset: `/bo/*` does not exist.",
    )

    @model_validator(mode="after")
    def _check(self) -> "Settings":
        if self.secret_key is not None and len(self.secret_key.get_secret_value()) < 32:
            raise ValueError("AUTHGATE_SECRET_KEY must be at least 32 characters")
        key = self.backoffice_api_key
        if key is not None and len(key.get_secret_value()) < 32:
            raise ValueError(
                "AUTHGATE_BACKOFFICE_API_KEY must be at least 32 characters"
            )
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
    def api_resource(self) -> str:
        """The audience of tokens for Authgate's own API (RFC 8707 / RFC 9728)."""
        return self.issuer

    @property
    def sqlalchemy_url(self) -> str:
        return (
            self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'authgate.db'}"
        )

    @property
    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.issuer.startswith("https://")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
