"""Upstream sign-in: whose account an identity is, links made only on
verified addresses, just-in-time accounts under registration's rules, and
usernames made from what a provider says."""

import pytest

from authgate.domain import audit, identities, invites
from authgate.domain.allowlist import OPEN, Allowlist
from authgate.domain.identities import UpstreamIdentity, username_base
from authgate.domain.passwords import Hasher
from authgate.domain.users import normalize_username
from authgate.errors import SignInRefused
from tests.support.memory import MemoryStores
from tests.unit.domain.conftest import PEER, register

OPEN_POLICY = identities.Policy(allowlist=OPEN, allow_registration=True)
CLOSED_POLICY = identities.Policy(allowlist=OPEN, allow_registration=False)


def upstream(
    subject: str = "sub-1",
    email: str | None = "ada@example.com",
    *,
    verified: bool = True,
    username: str | None = None,
    org: str | None = None,
) -> UpstreamIdentity:
    """``org``: the provider's organization, named after its id."""
    return UpstreamIdentity(
        provider="oidc",
        subject=subject,
        email=email,
        email_verified=verified,
        username=username,
        org_id=f"org_01_{org}" if org else None,
        org_name=org,
    )


async def sign_in(
    stores: MemoryStores,
    identity: UpstreamIdentity,
    policy: identities.Policy = OPEN_POLICY,
    invite_code: str | None = None,
) -> identities.SignedIn:
    return await identities.sign_in(
        stores, identity, policy, invite_code=invite_code, peer=PEER
    )


async def reason(
    stores: MemoryStores,
    identity: UpstreamIdentity,
    policy: identities.Policy = OPEN_POLICY,
    invite_code: str | None = None,
) -> str:
    with pytest.raises(SignInRefused) as refused:
        await sign_in(stores, identity, policy, invite_code)
    return refused.value.reason


@pytest.mark.parametrize(
    ("hint", "expected"),
    [
        ("alice", "alice"),
        ("Ada.Lovelace", "ada.lovelace"),
        ("Zoë Müller", "zoe-muller"),
        ("  -_bob_-  ", "bob"),
        ("jo@example.com", "jo-example.com"),
        ("x" * 100, "x" * 60),
        ("李", None),
        ("a", None),
        ("", None),
        (None, None),
    ],
)
def test_username_base(hint: str | None, expected: str | None) -> None:
    base = username_base(hint)
    assert base == expected
    if base is not None:
        assert normalize_username(base) == base  # a valid username as it is


@pytest.mark.anyio
async def test_the_first_identity_makes_the_administrator_and_links(
    stores: MemoryStores,
) -> None:
    first = await sign_in(stores, upstream(username="Ada Lovelace"))
    assert (first.created, first.linked) == (True, True)
    assert (first.user.username, first.user.is_admin) == ("ada-lovelace", True)
    assert first.user.password_hash is None
    assert first.user.email_verified  # the provider verified it
    again = await sign_in(stores, upstream())
    assert again == identities.SignedIn(user=first.user)


@pytest.mark.anyio
async def test_a_verified_address_links_an_existing_account(
    stores: MemoryStores, hasher: Hasher
) -> None:
    ada = await register(
        stores, hasher, "ada", email="Ada@example.com", email_verified=True
    )
    result = await sign_in(stores, upstream(email="ada@EXAMPLE.com"))
    assert (result.user, result.created, result.linked) == (ada, False, True)
    assert audit.Action.IDENTITY_LINKED in stores.audit.actions()


@pytest.mark.anyio
async def test_an_account_that_never_verified_its_address_is_never_linked(
    stores: MemoryStores, hasher: Hasher
) -> None:
    """Account pre-hijacking: someone registers with another person's address
    (never proving it); that person's verified upstream sign-in must not land
    in the account the squatter holds the password of."""
    await register(stores, hasher, "squatter", email="ada@example.com")
    assert await reason(stores, upstream()) == "account_email_unverified"
    assert stores.identities.rows == {}


@pytest.mark.anyio
async def test_an_unverified_address_never_links(
    stores: MemoryStores, hasher: Hasher
) -> None:
    await register(stores, hasher, "ada", email="ada@example.com")
    assert await reason(stores, upstream(verified=False)) == "email_unverified"
    assert stores.identities.rows == {}


@pytest.mark.anyio
async def test_a_new_account_keeps_only_a_verified_address(
    stores: MemoryStores,
) -> None:
    result = await sign_in(stores, upstream(verified=False))
    assert result.user.email is None


@pytest.mark.anyio
async def test_invite_only_instances_want_an_invite(
    stores: MemoryStores, hasher: Hasher
) -> None:
    root = await register(stores, hasher, "root", is_admin=True)
    assert await reason(stores, upstream(), CLOSED_POLICY) == "invite_required"
    assert await reason(stores, upstream(), CLOSED_POLICY, "ag_inv_x") == (
        "invite_invalid"
    )
    _, code = await invites.create(
        stores, prefix="ag", created_by=root.id, expires_in_days=1, peer=PEER
    )
    result = await sign_in(stores, upstream(), CLOSED_POLICY, code)
    assert result.created
    # An invite for an address is for a verified identity with that address.
    _, for_bob = await invites.create(
        stores,
        prefix="ag",
        created_by=root.id,
        expires_in_days=1,
        peer=PEER,
        email="bob@example.com",
    )
    for mismatch in (
        upstream("sub-3", "eve@example.com"),
        upstream("sub-3", "bob@example.com", verified=False),
    ):
        assert await reason(stores, mismatch, CLOSED_POLICY, for_bob) == (
            "invite_email_mismatch"
        )
    bob = await sign_in(
        stores, upstream("sub-3", "Bob@Example.com"), CLOSED_POLICY, for_bob
    )
    assert bob.created
    bearer = identities.Policy(
        allowlist=OPEN, allow_registration=True, create_accounts=False
    )
    assert await reason(stores, upstream("sub-2", "b@example.com"), bearer) == (
        "account_unknown"
    )


@pytest.mark.anyio
async def test_the_allowlist_needs_a_verified_listed_address(
    stores: MemoryStores,
) -> None:
    policy = identities.Policy(
        allowlist=Allowlist.parse(["@example.com"]), allow_registration=True
    )
    assert await reason(stores, upstream(verified=False), policy) == "email_unverified"
    assert await reason(stores, upstream(email="a@example.org"), policy) == (
        "email_not_allowed"
    )
    assert (await sign_in(stores, upstream(), policy)).created


@pytest.mark.anyio
async def test_a_disabled_account_is_refused(
    stores: MemoryStores, hasher: Hasher
) -> None:
    ada = await register(
        stores, hasher, "ada", email="ada@example.com", email_verified=True
    )
    await stores.users.set_disabled(ada.id, ada.created_at)
    assert await reason(stores, upstream()) == "account_disabled"


@pytest.mark.anyio
async def test_a_provider_org_is_made_once_and_joined_as_member(
    stores: MemoryStores,
) -> None:
    ada = await sign_in(stores, upstream(org="Acme"))
    bob = await sign_in(stores, upstream("sub-2", "bob@example.com", org="Acme"))
    assert ada.membership is not None
    assert bob.membership is not None
    assert ada.membership.org == bob.membership.org
    assert (ada.membership.org.slug, bob.membership.role) == ("acme", "member")
    again = await sign_in(stores, upstream(org="Acme"))
    assert again.membership is not None
    assert again.membership.created_at == ada.membership.created_at
    assert len(stores.orgs.rows) == 1


@pytest.mark.anyio
async def test_usernames_are_made_unique(stores: MemoryStores, hasher: Hasher) -> None:
    await register(stores, hasher, "ada")
    assert await identities.unique_username(stores, [None, "Ada"]) == "ada-2"
    assert await identities.unique_username(stores, ["李", None]) == "user"
