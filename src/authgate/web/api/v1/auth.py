"""Local sign-in: register, login, refresh, logout."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import Field

from authgate.domain import factors, orgs, recovery, refresh_tokens, sessions, users
from authgate.domain.assurance import Authentication
from authgate.domain.orgs import Membership
from authgate.errors import (
    InvalidCredentials,
    InvalidMfaToken,
    InvalidRequest,
    InvalidToken,
)
from authgate.server import signin
from authgate.server.services import Services
from authgate.server.signup import register_account
from authgate.web import session_cookies
from authgate.web.api.v1.factors import TotpEnrolmentOut
from authgate.web.deps import PeerDep, ServicesDep, rate_limit
from authgate.web.schemas import Error, RequestBody, ResponseBody, failures
from authgate.web.security import REFRESH_COOKIE, SESSION_COOKIE, read_cookie

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
    #: the ``proof`` of an invite's mailed link: its address counts as verified
    invite_proof: Annotated[str | None, Field(max_length=1024)] = None


class LoginIn(RequestBody):
    username: Username
    password: Password


class MfaIn(RequestBody):
    mfa_token: Annotated[str, Field(min_length=1, max_length=2048)]
    #: ``totp``, ``webauthn`` or ``recovery_code`` (``domain.factors.METHODS``)
    method: Annotated[str, Field(min_length=1, max_length=32)]
    #: for ``totp`` and ``recovery_code``
    code: Annotated[str | None, Field(min_length=1, max_length=64)] = None
    #: for ``webauthn``: the browser's AuthenticationResponseJSON, made with
    #: the ``webauthn`` options of the ``mfa_required`` answer
    assertion: dict[str, Any] | None = None


class MfaRequiredOut(ResponseBody):
    error: str = "mfa_required"
    error_description: str = (
        "The password is right; finish signing in with a second factor."
    )
    mfa_token: str
    methods: list[str]
    #: PublicKeyCredentialRequestOptionsJSON for ``navigator.credentials.get``
    #: when ``webauthn`` is one of the methods, else ``null``
    webauthn: dict[str, Any] | None = None


class MfaEnrollmentOut(ResponseBody):
    error: str = "mfa_enrollment_required"
    error_description: str = (
        "The password is right, and this server requires a second factor: "
        "set up the authenticator app given here, then finish signing in "
        "with its first code."
    )
    mfa_token: str
    methods: list[str]
    #: the app to set up; its first code goes to ``/auth/login/mfa``
    totp: TotpEnrolmentOut


class RefreshIn(RequestBody):
    # Room for any token someone may send by mistake (an access token is a
    # ~500-character JWT), so that it is refused as invalid_token, not as a
    # malformed request.
    refresh_token: Annotated[str | None, Field(max_length=4096)] = None


class RecoverIn(RequestBody):
    username: Username
    recovery_key: Annotated[str, Field(min_length=1, max_length=256)]
    new_password: Password


class RegisteredUser(ResponseBody):
    id: str
    username: str
    email: str | None
    is_admin: bool
    created_at: datetime


class SignInTokens(ResponseBody):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the RFC 6750 scheme name
    expires_in: int
    refresh_token: str
    csrf_token: str | None = None


class EnrolledOut(SignInTokens):
    #: the first factor's recovery codes, shown this once
    recovery_codes: list[str]


def user_out(user: users.User) -> RegisteredUser:
    return RegisteredUser(
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
    authentication: Authentication | None,
) -> SignInTokens:
    return SignInTokens(
        access_token=signin.access_token(
            services,
            user_id=user_id,
            session_id=session_id,
            org=org,
            authentication=authentication,
        ),
        expires_in=int(services.settings.jwt_expiry.total_seconds()),
        refresh_token=refresh,
    )


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    dependencies=[rate_limit("register")],
    summary="Create an account",
    responses=failures(403, 409),
)
async def register(
    body: RegisterIn, services: ServicesDep, peer: PeerDep
) -> RegisteredUser:
    user = await register_account(
        services,
        peer,
        username=body.username,
        password=body.password,
        email=body.email,
        invite_code=body.invite_code,
        invite_proof=body.invite_proof,
    )
    return user_out(user)


@router.post(
    "/login",
    dependencies=[rate_limit("login")],
    response_model=SignInTokens,
    responses={
        **failures(403, 404),
        401: {
            "model": MfaRequiredOut | MfaEnrollmentOut | Error,
            "description": "Wrong username or password, or a second factor to "
            "give (`mfa_required`) or to set up (`mfa_enrollment_required`).",
        },
    },
    summary="Sign in with a password",
)
async def login(
    body: LoginIn,
    services: ServicesDep,
    peer: PeerDep,
    response: Response,
    org: RequestedOrg = None,
) -> SignInTokens | JSONResponse:
    """Sign in with a password. For an account with a second factor the
    answer is ``401 mfa_required`` with an ``mfa_token`` to finish at
    ``/auth/login/mfa`` within five minutes; where every account must have
    one (``AUTHGATE_REQUIRE_MFA``), an account without answers ``401
    mfa_enrollment_required`` with an authenticator app to set up, whose first
    code finishes there within fifteen."""
    opened = await signin.with_password(
        services, peer, body.username, body.password, org=org
    )
    if opened is None:
        raise InvalidCredentials
    if isinstance(opened, factors.SecondStep):
        return JSONResponse(_second_step(opened).model_dump(), status_code=401)
    services.metrics.token_issued("password")
    return session_response(services, opened, response)


def _second_step(step: factors.SecondStep) -> MfaRequiredOut | MfaEnrollmentOut:
    methods = list(step.methods)
    if step.enrolment is not None:
        app = TotpEnrolmentOut(
            secret=step.enrolment.secret, otpauth_uri=step.enrolment.uri
        )
        return MfaEnrollmentOut(mfa_token=step.mfa_token, methods=methods, totp=app)
    return MfaRequiredOut(
        mfa_token=step.mfa_token, methods=methods, webauthn=step.webauthn
    )


@router.post(
    "/login/mfa",
    dependencies=[rate_limit("login")],
    summary="Finish a sign-in with a second factor",
    responses=failures(401, 404),
)
async def login_mfa(
    body: MfaIn,
    services: ServicesDep,
    peer: PeerDep,
    response: Response,
    org: RequestedOrg = None,
) -> SignInTokens | EnrolledOut:
    """The second step of a sign-in: answers as ``/auth/login`` does. Send
    the ``code`` or, for a passkey, the ``assertion``: exactly one. The
    step of an enrolment answers with the new ``recovery_codes`` too."""
    proof = body.code if body.assertion is None else body.assertion
    if proof is None or (body.code is not None and body.assertion is not None):
        raise InvalidRequest(
            "Send either a code or a passkey's assertion: one of them."
        )
    opened = await signin.second_step(
        services, peer, body.mfa_token, body.method, proof, org=org
    )
    if opened is None:
        raise InvalidCredentials(signin.refused(body.method))
    if not isinstance(opened, signin.Opened):  # a step-up's: refused already
        raise InvalidMfaToken
    services.metrics.token_issued("password")
    out = session_response(services, opened, response)
    if opened.recovery_codes is None:
        return out
    return EnrolledOut(**out.model_dump(), recovery_codes=opened.recovery_codes)


def session_response(
    services: Services, opened: signin.Opened, response: Response
) -> SignInTokens:
    """The API's answer to a sign-in, after the commit: an access token (acting
    in the org the sign-in asked for), the refresh token and the CSRF token in
    the body, the session cookies on ``response``."""
    session = opened.started.session
    out = _tokens(
        services,
        user_id=session.user_id,
        session_id=session.id,
        refresh=opened.refresh_token,
        org=opened.org,
        authentication=session.authentication,
    )
    out.csrf_token = session_cookies.send(response, services, opened)
    return out


@router.post(
    "/refresh",
    dependencies=[rate_limit("refresh")],
    summary="Exchange a refresh token for new tokens",
    responses=failures(401, 404),
)
async def refresh(
    request: Request,
    services: ServicesDep,
    peer: PeerDep,
    response: Response,
    body: RefreshIn | None = None,
    org: RequestedOrg = None,
) -> SignInTokens:
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
                peer=peer,
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
    session_cookies.send_refresh(response, settings, successor.secret)
    services.metrics.token_issued("refresh_token")
    return _tokens(
        services,
        user_id=successor.token.user_id,
        session_id=successor.token.session_id,
        refresh=successor.secret,
        org=membership,
        authentication=outcome.session.authentication if outcome.session else None,
    )


@router.post(
    "/recover",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[rate_limit("recover")],
    summary="Reset a password with a recovery key",
    responses=failures(401),
)
async def recover(body: RecoverIn, services: ServicesDep, peer: PeerDep) -> Response:
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
            peer=peer,
            notify=services.notices,
        )
    if not done:
        raise InvalidCredentials(recovery.REFUSED)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, summary="Sign out")
async def logout(
    request: Request,
    services: ServicesDep,
    peer: PeerDep,
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
            peer=peer,
        )
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    session_cookies.clear(response, services.settings)
    return response
