"""``create_app(settings)``: engine, services, routers, middleware, lifespan.

Wiring only: no behaviour lives here."""

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp

from authgate import __version__, upstream
from authgate.config import Settings
from authgate.domain import derived_keys, signing_keys
from authgate.domain.passwords import Hasher
from authgate.domain.refresh_tokens import Lifetime as RefreshLifetime
from authgate.domain.sealing import Sealer
from authgate.domain.sessions import Policy as SessionPolicy
from authgate.domain.signing_keys import KeyCipher
from authgate.guard import GuardMiddleware
from authgate.oauth.client_metadata import ClientMetadataResolver
from authgate.oauth.resources import Resources
from authgate.oauth.server import Server
from authgate.server import heap, workers
from authgate.server.external_tokens import ExternalJwtVerifier
from authgate.server.fanout import InvalidationFeed
from authgate.server.forwarded import ForwardedMiddleware
from authgate.server.geo import GeoLocator
from authgate.server.housekeeping import Housekeeper
from authgate.server.housekeeping import policy as housekeeping_policy
from authgate.server.mail_sender import MailSender, composer, transport
from authgate.server.metrics import CountingCache, Metrics, MetricsMiddleware
from authgate.server.org_context import OrgContext
from authgate.server.principals import (
    CredentialVerifier,
    LocalOwner,
    ServerJwtVerifier,
    SessionVerifier,
)
from authgate.server.ratelimit import RateLimiter
from authgate.server.request_id import RequestIdMiddleware
from authgate.server.revocation_filter import RevocationFilter
from authgate.server.services import Keys, Services
from authgate.server.session_cache import SessionCache
from authgate.server.ttlmap import TtlMap
from authgate.server.workers import Siblings
from authgate.storage.db import Database
from authgate.storage.migrate import upgrade_async
from authgate.upstream import dev_login
from authgate.util.addresses import parse_networks
from authgate.web import api_docs, backoffice, errors, openapi, ops
from authgate.web.api.v1 import (
    admin_audit,
    admin_clients,
    admin_invites,
    admin_users,
    api_keys,
    auth,
    authorized_apps,
    email,
    factors,
    me,
    orgs,
    passkeys,
    password_reset,
    personal_tokens,
    recovery,
    sessions,
)
from authgate.web.api.v1 import dev_login as dev_login_api
from authgate.web.authorization_server import consent, device, end_session, endpoints
from authgate.web.pages import admin as admin_pages
from authgate.web.pages import (
    forgot,
    login,
    logout,
    reauth,
    register,
    reset,
    second_step,
    verify_email,
)
from authgate.web.pages import orgs as org_pages
from authgate.web.pages import settings as settings_pages
from authgate.web.pages import upstream as upstream_pages
from authgate.web.routing import PathIndex
from authgate.web.security import SESSION_COOKIE, SecurityMiddleware, cookie_name

log = logging.getLogger("authgate")


class Authgate(FastAPI):
    """FastAPI, with the request id outside everything, Starlette's own
    ``ServerErrorMiddleware`` included: the 500 answer to an unexpected error
    and the line that logs it carry the id too."""

    def build_middleware_stack(self) -> ASGIApp:
        return RequestIdMiddleware(super().build_middleware_stack())


STATIC = Path(__file__).resolve().parent / "web" / "static"
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


def server_secrets(settings: Settings) -> tuple[bytes, ...]:
    """The server secret, then during a rotation the one it replaced: values
    are sealed under the first and open under either (``domain.sealing``)."""
    previous = settings.secret_key_previous
    current = server_secret(settings)
    return (
        (current,)
        if previous is None
        else (current, previous.get_secret_value().encode())
    )


async def prepare(settings: Settings) -> None:
    """What runs once before any worker serves: the migrations, then the first
    signing keys (workers each generating them at once would each sign with
    their own, which the others don't know yet)."""
    await upgrade_async(settings.sqlalchemy_url)
    db = Database(settings.sqlalchemy_url)
    try:
        async with db.transaction() as tx:
            await signing_keys.ensure(tx, key_cipher(server_secrets(settings)))
    finally:
        await db.close()


def key_cipher(secrets: tuple[bytes, ...]) -> KeyCipher:
    """How signing keys are sealed at rest."""
    return KeyCipher(*derived_keys.derive_all(secrets, "signing-keys"))


def mail_sealer(secrets: tuple[bytes, ...]) -> Sealer:
    """How queued mail is sealed at rest."""
    return Sealer(*derived_keys.derive_all(secrets, "mail"))


def build_oauth(settings: Settings, keys: Keys) -> Server:
    """The authorization server's configuration and long-lived collaborators."""
    return Server(
        issuer=settings.issuer,
        token_prefix=settings.token_prefix,
        access_token_ttl=settings.jwt_expiry,
        refresh_lifetime=RefreshLifetime(
            idle=settings.refresh_token_expiry,
            max=settings.refresh_token_max_lifetime,
        ),
        device_code_ttl=settings.device_code_expiry,
        resources=Resources(tuple(settings.resources)),
        registration=settings.open_client_registration,
        session_policy=SessionPolicy(
            idle_timeout=settings.session_idle_timeout,
            max_lifetime=settings.session_max_lifetime,
        ),
        ring=lambda: keys.ring,
        documents=ClientMetadataResolver(
            domains=settings.client_metadata_domains,
            allow_insecure_loopback=settings.client_metadata_allow_insecure_loopback,
        ),
    )


def build_services(settings: Settings) -> Services:
    secrets = server_secrets(settings)
    cache = CountingCache(settings.token_cache_size)
    db = Database(settings.sqlalchemy_url)
    cipher = key_cipher(secrets)
    keys = Keys(db, cipher, retention=settings.jwt_expiry + KEY_RETENTION_MARGIN)
    # What the feed keeps exact is kept no longer than an access token lives:
    # the most a feed that is down can hide, as for a verification already
    # cached (server/session_cache.py).
    kept = settings.jwt_expiry.total_seconds()
    metrics = Metrics(cache, worker=workers.current())
    services = Services(
        settings=settings,
        db=db,
        hasher=Hasher(settings.argon2_time_cost, settings.argon2_memory_kib),
        keys=keys,
        secrets=secrets,
        cache=cache,
        geo=GeoLocator(settings.geoip_db),
        orgs=OrgContext(db, ttl=kept),
        oauth=build_oauth(settings, keys),
        metrics=metrics,
        users=TtlMap(ttl=kept),
        sessions=SessionCache(db, ttl=kept),
        revocations=RevocationFilter(db),
        limiter=RateLimiter(settings.redis_url),
        mail=MailSender(
            db,
            mail_sealer(secrets),
            composer(settings),
            transport(settings),
            metrics.mailed,
        ),
    )
    services.feed = InvalidationFeed(db, services.evict, settings.redis_url)
    services.upstream = upstream.create(settings)
    services.siblings = Siblings.from_environment(services.metrics.families)
    db.on_invalidate = services.invalidated
    db.on_audited = services.metrics.audited
    db.on_mail_queued = services.mail.wake
    return services


def _announce_sign_in(settings: Settings) -> None:
    """Say at start which web sign-in is on, loudly for dev login."""
    log.info("Web sign-in provider: %s", upstream.select(settings))
    if dev_login.available(settings):
        log.warning(dev_login.WARNING)
    elif settings.dev_login_enabled:
        log.warning(
            "AUTHGATE_DEV_LOGIN_ENABLED is ignored: the server binds to %s, not "
            "loopback, so dev login does not exist.",
            settings.host,
        )


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> FastAPI:
    """The ASGI application. ``migrate=False`` when :func:`prepare` already ran
    (``authgate serve`` runs it before starting workers)."""
    settings = settings or Settings()
    services = build_services(settings)
    external = ExternalJwtVerifier(services) if settings.api_oauth_issuer else None
    housekeeper = Housekeeper(
        services.db,
        housekeeping_policy(settings),
        settings.housekeeping_interval,
        services.metrics.pruned,
        services.notices,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if migrate:
            await prepare(settings)
        await services.keys.load()
        feed = services.feed
        if feed is not None:
            await feed.start()
            # Only now: a revocation committed after this read comes through
            # the feed (server/revocation_filter.py).
            await services.revocations.load()
        housekeeper.start()
        services.mail.start()
        if services.siblings is not None:
            services.siblings.start()
        with heap.settled():
            yield
        if services.siblings is not None:
            await services.siblings.stop()
        await housekeeper.stop()
        await services.mail.stop()
        if feed is not None:
            await feed.stop()
        await services.limiter.aclose()
        if external is not None:
            await external.aclose()
        services.geo.close()
        await services.keys.settled()
        await services.db.close()

    app = Authgate(
        title="Authgate",
        version=__version__,
        lifespan=lifespan,
        description="Self-hosted authentication: sessions, JWTs, personal access "
        "tokens, API keys, OAuth 2.1.\n\n"
        "JSON names are snake_case, in and out; each is also accepted in "
        "camelCase (`expiresInDays` for `expires_in_days`). Every refusal is "
        '`{"error": code, "error_description": text}` with its status.',
        # web/api_docs.py serves them, with their files and a CSP.
        docs_url=None,
        redoc_url=None,
    )
    app.state.services = services
    errors.install(app)
    app.router.middleware_stack = PathIndex(app.router)
    app.include_router(ops.router)
    app.include_router(auth.router, prefix="/api/v1")
    app.include_router(me.router, prefix="/api/v1")
    app.include_router(passkeys.signin_router, prefix="/api/v1")
    app.include_router(endpoints.router)
    for router in (
        personal_tokens.router,
        api_keys.router,
        sessions.router,
        authorized_apps.router,
        factors.router,
        recovery.router,
        password_reset.router,
        email.router,
        passkeys.router,
        orgs.router,
        admin_users.router,
        admin_invites.router,
        admin_audit.router,
        admin_clients.router,
    ):
        app.include_router(router, prefix="/api/v1")
    if settings.backoffice_api_key is not None:
        app.include_router(backoffice.router)
    for page in (
        login.router,
        second_step.router,
        logout.router,
        reauth.router,
        register.router,
        forgot.router,
        reset.router,
        verify_email.router,
        settings_pages.router,
        org_pages.router,
        admin_pages.router,
        consent.router,
        device.router,
        end_session.router,
    ):
        app.include_router(page)
    openapi.install(app, settings)
    if settings.api_docs_enabled:
        api_docs.install(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(upstream_pages.router)
    if dev_login.available(settings):
        # Only mounted on a loopback bind: elsewhere these routes do not exist.
        app.include_router(dev_login_api.router, prefix="/api/v1")
        app.include_router(upstream_pages.dev_router)
    _announce_sign_in(settings)

    # Added innermost first: SecurityMiddleware wraps the guard, so oversized
    # bodies are refused before anything else runs; MetricsMiddleware wraps
    # both, so their refusals are counted too.
    app.add_middleware(
        GuardMiddleware,
        verifiers=[
            SessionVerifier(services),
            CredentialVerifier(services),
            # Before the server's own: it claims only its issuer's tokens.
            *([external] if external is not None else []),
            ServerJwtVerifier(services),
        ],
        allow_query_api_key=settings.allow_query_api_keys,
        cookie_name=cookie_name(settings, SESSION_COOKIE),
        cache=services.cache,
        fallback=None if settings.auth_enabled else LocalOwner(services),
    )
    app.add_middleware(
        SecurityMiddleware,
        max_body_bytes=settings.max_body_bytes,
        hosts=settings.accepted_hosts,
    )
    app.add_middleware(MetricsMiddleware, metrics=services.metrics)
    if settings.trusted_proxies:
        # Outermost: every layer inside reads the client's address, not the proxy's.
        app.add_middleware(
            ForwardedMiddleware, trusted=parse_networks(settings.trusted_proxies)
        )
    return app
