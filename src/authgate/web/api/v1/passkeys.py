"""Passkeys: a person's own under ``/api/v1/me/passkeys``, and the
password-less sign-in under ``/api/v1/auth/passkey``.

A ceremony takes two calls: the options (the JSON for
``navigator.credentials.create/get``) with a ``ticket``, then the browser's
answer with that ticket, which works once, for five minutes
(``domain.passkeys``)."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Response, status
from pydantic import Field

from authgate.domain import passkeys
from authgate.domain.passkeys import Passkey
from authgate.errors import InvalidCredentials
from authgate.server import passkeys as webauthn
from authgate.server import signin
from authgate.util.useragent import device_label
from authgate.web.api.v1.auth import RequestedOrg, SignInTokens, session_response
from authgate.web.deps import ChangesSignIn, PeerDep, ServicesDep, rate_limit
from authgate.web.schemas import Page, RequestBody, ResponseBody, failures

router = APIRouter(prefix="/me/passkeys", tags=["passkeys"])
signin_router = APIRouter(prefix="/auth/passkey", tags=["auth"])

Ticket = Annotated[str, Field(min_length=1, max_length=2048)]
Name = Annotated[str, Field(min_length=1, max_length=passkeys.NAME_MAX)]
PasskeyId = Annotated[str, Field(max_length=64)]


class CeremonyOut(ResponseBody):
    #: PublicKeyCredentialCreationOptionsJSON or PublicKeyCredentialRequestOptionsJSON
    options: dict[str, Any]
    ticket: str


class PasskeyIn(RequestBody):
    ticket: Ticket
    #: The browser's RegistrationResponseJSON (``PublicKeyCredential.toJSON()``).
    credential: dict[str, Any]
    #: Default: the browser and system the passkey was made on.
    name: Annotated[str | None, Field(max_length=passkeys.NAME_MAX)] = None


class RenameIn(RequestBody):
    name: Name


class SignInIn(RequestBody):
    ticket: Ticket
    #: The browser's AuthenticationResponseJSON.
    credential: dict[str, Any]


class PasskeyOut(ResponseBody):
    id: str
    name: str
    #: ``true``: a synced passkey (may leave its device); ``false``: bound to it.
    synced: bool
    created_at: datetime
    last_used_at: datetime | None


class AddedOut(PasskeyOut):
    #: A first second factor comes with ten recovery codes, shown this once;
    #: ``null`` otherwise (the existing codes stay).
    recovery_codes: list[str] | None


def passkey_out(passkey: Passkey) -> PasskeyOut:
    return PasskeyOut(
        id=passkey.id,
        name=passkey.name,
        synced=passkey.backed_up,
        created_at=passkey.created_at,
        last_used_at=passkey.last_used_at,
    )


def _ceremony(ceremony: passkeys.Ceremony) -> CeremonyOut:
    return CeremonyOut(options=ceremony.options, ticket=ceremony.ticket)


@router.get("", summary="List your passkeys")
async def list_passkeys(
    caller: ChangesSignIn, services: ServicesDep
) -> Page[PasskeyOut]:
    async with services.db.read() as tx:
        found = await passkeys.listed(tx, caller.user_id or "")
    return Page(items=[passkey_out(p) for p in found])


@router.post("/options", summary="Start adding a passkey", responses=failures(400))
async def registration_options(
    caller: ChangesSignIn, services: ServicesDep
) -> CeremonyOut:
    """Options for one more passkey (the person's existing ones excluded)."""
    user = await services.user(caller.user_id or "")
    return _ceremony(
        await webauthn.begin_registration(
            services,
            user_id=caller.user_id or "",
            username=user.username if user else "",
        )
    )


@router.post("", status_code=status.HTTP_201_CREATED, summary="Add a passkey")
async def register_passkey(
    body: PasskeyIn, caller: ChangesSignIn, services: ServicesDep, peer: PeerDep
) -> AddedOut:
    """The new passkey; as the person's first second factor, with their
    recovery codes."""
    added = await webauthn.add(
        services,
        user_id=caller.user_id or "",
        ticket=body.ticket,
        credential=body.credential,
        name=body.name or device_label(peer.user_agent),
        peer=peer,
    )
    shown = passkey_out(added.passkey)
    return AddedOut(**shown.model_dump(), recovery_codes=added.recovery_codes)


@router.patch("/{passkey_id}", summary="Rename a passkey", responses=failures(404))
async def rename_passkey(
    passkey_id: PasskeyId,
    body: RenameIn,
    caller: ChangesSignIn,
    services: ServicesDep,
    peer: PeerDep,
) -> PasskeyOut:
    user_id = caller.user_id or ""
    async with services.db.transaction() as tx:
        await passkeys.rename(tx, user_id, passkey_id, body.name, peer=peer)
        found = await passkeys.listed(tx, user_id)
    return passkey_out(next(p for p in found if p.id == passkey_id))


@router.delete(
    "/{passkey_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a passkey",
    responses=failures(404),
)
async def remove_passkey(
    passkey_id: PasskeyId, caller: ChangesSignIn, services: ServicesDep, peer: PeerDep
) -> Response:
    """The last second factor takes the recovery codes with it."""
    await webauthn.remove(
        services, user_id=caller.user_id or "", passkey_id=passkey_id, peer=peer
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@signin_router.post(
    "/options",
    dependencies=[rate_limit("login")],
    summary="Start a sign-in with a passkey",
    responses=failures(400),
)
async def sign_in_options(services: ServicesDep) -> CeremonyOut:
    """Options for signing in with any passkey of this site: no username."""
    rp = webauthn.required_relying_party(services)
    return _ceremony(passkeys.begin_sign_in(webauthn.sealer(services), rp))


@signin_router.post(
    "",
    dependencies=[rate_limit("login")],
    summary="Sign in with a passkey",
    responses=failures(401, 404),
)
async def sign_in_with_passkey(
    body: SignInIn,
    services: ServicesDep,
    peer: PeerDep,
    response: Response,
    org: RequestedOrg = None,
) -> SignInTokens:
    """Answers as ``/auth/login`` does: tokens in the body, session cookies."""
    opened = await signin.with_passkey(
        services, peer, ticket=body.ticket, credential=body.credential, org=org
    )
    if opened is None:
        raise InvalidCredentials(passkeys.NOT_RECOGNISED)
    services.metrics.token_issued("passkey")
    return session_response(services, opened, response)
