"""``create_app(settings)``: engine, services, routers, middleware, lifespan.

Wiring only: no behaviour lives here."""

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI

from authgate import __version__
from authgate.config import Settings
from authgate.domain.passwords import Hasher
from authgate.domain.signing_keys import KeyCipher
from authgate.guard import GuardMiddleware, VerificationCache
from authgate.storage.db import Database
from authgate.storage.migrate import upgrade_async
from authgate.util import hkdf, redact
from authgate.web import bo, errors, oauth, ops
from authgate.web.api.v1 import (
    access_tokens,
    admin_audit,
    admin_invites,
    api_keys,
    auth,
    me,
    orgs,
    recovery,
    sessions,
)
from authgate.web.geo import GeoLocator
from authgate.web.org_context import OrgContext
from authgate.web.principals import (
    CredentialVerifier,
    LocalOwner,
    ServerJwtVerifier,
    SessionVerifier,
)
from authgate.web.security import SESSION_COOKIE, SecurityMiddleware
from authgate.web.services import Keys, Services

log = logging.getLogger("authgate")

#: Retired signing keys stay published this long past the longest token they signed.
KEY_RETENTION_MARGIN = timedelta(minutes=5)


def server_secret(settings: Settings) -> bytes:
    """The configured secret, or in development one generated into the data dir
    (mode 0600) with a warning, so a first start needs no setup."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    path = Path(settings.data_dir) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
        log.warning(
            "AUTHGATE_SECRET_KEY is not set: generated one into %s. Set it explicitly "
            "in production (and keep it: signing keys are encrypted with it).",
            path,
        )
    return path.read_text().strip().encode()


def build_services(settings: Settings) -> Services:
    secret = server_secret(settings)
    cache = VerificationCache(settings.token_cache_size)
    db = Database(settings.sqlalchemy_url)
    cipher = KeyCipher(hkdf.derive(secret, "signing-keys"))
    keys = Keys(db, cipher, retention=settings.jwt_expiry + KEY_RETENTION_MARGIN)
    services = Services(
        settings=settings,
        db=db,
        hasher=Hasher(settings.argon2_time_cost, settings.argon2_memory_kib),
        keys=keys,
        secret=secret,
        cache=cache,
        geo=GeoLocator(settings.geoip_db),
        orgs=OrgContext(db),
    )
    db.on_invalidate = services.invalidate
    return services


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> FastAPI:
    """The ASGI application. ``migrate=False`` when migrations already ran
    (``authgate serve`` applies them before starting workers)."""
    settings = settings or Settings()
    services = build_services(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if migrate:
            await upgrade_async(settings.sqlalchemy_url)
        await services.keys.load()
        yield
        services.geo.close()
        await services.db.close()

    app = FastAPI(
        title="Authgate",
        version=__version__,
        lifespan=lifespan,
        description="Self-hosted authentication: sessions, JWTs, tokens, API keys, "
        "OAuth 2.1.",
    )
    app.state.services = services
    redact.install("uvicorn.access", "uvicorn.error", "authgate")
    errors.install(app)
    for router in (
        auth.router,
        me.router,
        access_tokens.router,
        api_keys.router,
        sessions.router,
        recovery.router,
        orgs.router,
        admin_invites.router,
        admin_audit.router,
    ):
        app.include_router(router, prefix="/api/v1")
    if settings.backoffice_api_key is not None:
        app.include_router(bo.router)
    app.include_router(oauth.router)
    app.include_router(ops.router)

    # Added innermost first: SecurityMiddleware wraps the guard, so oversized
    # bodies are refused before anything else runs.
    app.add_middleware(
        GuardMiddleware,
        verifiers=[
            SessionVerifier(services),
            CredentialVerifier(services),
            ServerJwtVerifier(services),
        ],
        allow_query_api_key=settings.allow_query_api_keys,
        cookie_name=SESSION_COOKIE,
        cache=services.cache,
        fallback=None if settings.auth_enabled else LocalOwner(services),
    )
    app.add_middleware(SecurityMiddleware, max_body_bytes=settings.max_body_bytes)
    return app
