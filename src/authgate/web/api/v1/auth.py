"""Local sign-in: register, login, refresh, logout."""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response, status
from pydantic import Field

from authgate.domain import (
    identities,
    orgs,
    recovery,
    refresh_tokens,
    registration,
    sessions,
    users,
)
from authgate.domain.clients import FIRST_PARTY_CLIENT_ID
from authgate.domain.context import ClientInfo
from authgate.domain.jwt import issue_access_token
from authgate.domain.orgs import Membership
from authgate.domain.stores import Stores
from authgate.errors import InvalidCredentials, InvalidToken, SignInRefused
from authgate.server.principals import USER_SCOPES
from authgate.server.services import Services
from authgate.web.deps import Client, ServicesDep, rate_limit
from authgate.web.schemas import RequestBody, ResponseBody
from authgate.web.security import (
    REFRESH_COOKIE,
    SESSION_COOKIE,
    clear_session_cookies,
    csrf_token,
    read_cookie,
    set_refresh_cookie,
    set_session_cookies,
)

router = APIRouter(prefix="/auth", tags=["auth"])

Username = Annotated[str, Field(min_length=1, max_length=256)]
Password = Annotated[str, Field(min_length=1, max_length=1024)]
#: The org the tokens act in (id or slug): they carry it and the caller's role
#: there (``org``, ``roles``) for other apps to read.
RequestedOrg = Annotated[str | None, Header(alias="X-Organization-Id", max_length=256)]


class RegisterIn(RequestBody):
    username: Username
    password: Password
    email: Annotated[str | None, Field(max_length=320)] = None
    invite_code: Annotated[str | None, Field(max_length=256)] = None


class LoginIn(RequestBody):
    username: Username
    password: Password


class RefreshIn(RequestBody):
    # Room for any token someone may send by mistake (an access token is a
    # ~500-character JWT), so that it is refused as invalid_token, not as a
    # malformed request.
    refresh_token: Annotated[str | None, Field(max_length=4096)] = None


class RecoverIn(RequestBody):
    username: Username
    recovery_key: Annotated[str, Field(min_length=1, max_length=256)]
    new_password: Password


class UserOut(ResponseBody):
    id: str
    username: str
    email: str | None
    is_admin: bool
    created_at: datetime


class TokenOut(ResponseBody):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the RFC 6750 scheme name
    expires_in: int
    refresh_token: str
    csrf_token: str | None = None


def user_out(user: users.User) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        email=user.email,
        is_admin=user.is_admin,
        created_at=user.created_at,
    )


def _tokens(
    services: Services,
    *,
    user_id: str,
    session_id: str | None,
    refresh: str,
    org: Membership | None,
) -> TokenOut:
    settings = services.settings
    access = issue_access_token(
        services.keys.ring,
        issuer=settings.issuer,
        subject=user_id,
        audience=settings.api_resource,
        client_id=FIRST_PARTY_CLIENT_ID,
        scope=" ".join(sorted(USER_SCOPES)),
        ttl=settings.jwt_expiry,
        session_id=session_id,
        org=org,
    )
    return TokenOut(
        access_token=access.token,
        expires_in=int(settings.jwt_expiry.total_seconds()),
        refresh_token=refresh,
    )


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    dependencies=[rate_limit("register")],
)
async def register(body: RegisterIn, services: ServicesDep, client: Client) -> UserOut:
    user = await register_account(
        services,
        client,
        username=body.username,
        password=body.password,
        email=body.email,
        invite_code=body.invite_code,
    )
    return user_out(user)


async def register_account(
    services: Services,
    client: ClientInfo,
    *,
    username: str,
    password: str,
    email: str | None,
    invite_code: str | None,
) -> users.User:
    """Registration as the API and the ``/register`` page both do it, with this
    instance's rules (first user, invites, open registration, allowlist). A
    refusal by the allowlist is recorded after the rollback, then raised."""
    settings = services.settings
    rules = registration.Rules(
        invite_code,
        settings.allow_registration,
        services.allowlist,
        org_invites_create_accounts=settings.org_invites_create_accounts,
    )
    try:
        # Admitted first (read-only), hashed with no transaction open, then
        # admitted again and written: no refused request costs an argon2 hash,
        # and no hash holds the database write lock.
        async with services.db.read() as tx:
            await registration.admit(tx, rules, email)
        account = await users.prepare(
            services.hasher,
            username=username,
            password=password,
            email=email,
            min_length=settings.password_min_length,
        )
        async with services.db.transaction() as tx:
            return await registration.register(tx, account, rules, client=client)
    except SignInRefused as refused:
        async with services.db.transaction() as tx:
            await identities.record_refusal(
                tx, "local", refused.reason, client, email=email
            )
        raise


@router.post("/login", dependencies=[rate_limit("login")])
async def login(
    body: LoginIn,
    services: ServicesDep,
    client: Client,
    response: Response,
    org: RequestedOrg = None,
) -> TokenOut:
    # The argon2 check runs between the look-up and the write transaction, so
    # logins do not hold (on SQLite: queue on) the database write lock for it.
    async with services.db.read() as tx:
        attempt = await users.begin_sign_in(tx, body.username)
    attempt = await users.check_password(services.hasher, attempt, body.password)
    async with services.db.transaction() as tx:
        user = await users.finish_sign_in(
            tx, services.lockout_policy, attempt, client=client
        )
        if user is not None:
            membership = await orgs.access(tx, org, user.id) if org else None
            opened = await open_session(tx, services, user.id, client)
    # Raised after the commit, so the failure count and audit entry are kept.
    if user is None:
        raise InvalidCredentials
    services.metrics.token_issued("password")
    return session_response(services, opened, response, org=membership)


@dataclass(frozen=True, slots=True)
class Opened:
    """A session just started and the refresh token bound to it."""

    started: sessions.Started
    refresh_token: str


async def open_session(
    stores: Stores,
    services: Services,
    user_id: str,
    client: ClientInfo,
    *,
    method: str | None = None,
) -> Opened:
    """What every sign-in ends with (password, dev login, upstream provider),
    in the caller's transaction: a session and its refresh token."""
    settings = services.settings
    started = await sessions.start(
        stores,
        services.session_policy,
        user_id=user_id,
        prefix=settings.token_prefix,
        client=client,
        method=method,
    )
    refresh = await refresh_tokens.issue(
        stores,
        prefix=settings.token_prefix,
        lifetime=services.refresh_lifetime,
        user_id=user_id,
        session_id=started.session.id,
    )
    return Opened(started=started, refresh_token=refresh.secret)


def session_response(
    services: Services,
    opened: Opened,
    response: Response,
    *,
    org: Membership | None = None,
) -> TokenOut:
    """The sign-in's answer, after the commit: an access token (acting in
    ``org`` when one was asked for), the refresh token and the CSRF token in
    the body, the session cookies on ``response``."""
    session = opened.started
    out = _tokens(
        services,
        user_id=session.session.user_id,
        session_id=session.session.id,
        refresh=opened.refresh_token,
        org=org,
    )
    out.csrf_token = csrf_token(services.derived_key("csrf"), session.token)
    set_session_cookies(
        response,
        services.settings,
        session_token=session.token,
        csrf=out.csrf_token,
        refresh_token=opened.refresh_token,
    )
    return out


@router.post("/refresh", dependencies=[rate_limit("refresh")])
async def refresh(
    request: Request,
    services: ServicesDep,
    client: Client,
    response: Response,
    body: RefreshIn | None = None,
    org: RequestedOrg = None,
) -> TokenOut:
    settings = services.settings
    secret = (body.refresh_token if body else None) or read_cookie(
        request, settings, REFRESH_COOKIE
    )
    if not secret:
        raise InvalidToken("Send a refresh_token.")
    async with services.db.transaction() as tx:
        presented = await refresh_tokens.present(tx, secret, client_id=None)
        outcome = (
            presented
            if isinstance(presented, refresh_tokens.Refused)
            else await refresh_tokens.rotate(
                tx,
                presented,
                prefix=settings.token_prefix,
                lifetime=services.refresh_lifetime,
                session_policy=services.session_policy,
                access_ttl=settings.jwt_expiry,
                client=client,
            )
        )
        # Refused inside the transaction, so the rotation is undone and the
        # presented refresh token stays the live one.
        membership = (
            await orgs.access(tx, org, outcome.user.id)
            if org and isinstance(outcome, refresh_tokens.Rotated)
            else None
        )
    # Raised after the commit, so a reused token's family stays revoked.
    if isinstance(outcome, refresh_tokens.Refused):
        raise InvalidToken(
            "The refresh token is invalid, expired, revoked or already used."
        )
    successor = outcome.successor
    set_refresh_cookie(response, settings, successor.secret)
    services.metrics.token_issued("refresh_token")
    return _tokens(
        services,
        user_id=successor.token.user_id,
        session_id=successor.token.session_id,
        refresh=successor.secret,
        org=membership,
    )


@router.post(
    "/recover",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[rate_limit("recover")],
)
async def recover(body: RecoverIn, services: ServicesDep, client: Client) -> Response:
    """Reset a forgotten password with a recovery key; every session ends."""
    settings = services.settings
    async with services.db.transaction() as tx:
        done = await recovery.recover(
            tx,
            services.hasher,
            username=body.username,
            key=body.recovery_key,
            new_password=body.new_password,
            min_length=settings.password_min_length,
            access_ttl=settings.jwt_expiry,
            client=client,
        )
    if not done:
        raise InvalidCredentials(recovery.REFUSED)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(
    request: Request,
    services: ServicesDep,
    client: Client,
    body: RefreshIn | None = None,
) -> Response:
    """Ends the session named by the caller's credential, session cookie or
    refresh token, and clears the cookies."""
    principal = getattr(request.state, "principal", None)
    async with services.db.transaction() as tx:
        await sessions.sign_out(
            tx,
            session_id=principal.session_id if principal else None,
            session_token=read_cookie(request, services.settings, SESSION_COOKIE),
            refresh_token=(body.refresh_token if body else None)
            or read_cookie(request, services.settings, REFRESH_COOKIE),
            client=client,
        )
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookies(response, services.settings)
    return response
