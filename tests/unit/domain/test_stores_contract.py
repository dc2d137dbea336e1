"""One behaviour suite for the store Protocols, run on the in-memory stores the
domain unit tests use and on the real SQLite storage, so the stand-in cannot
drift from what it stands in for. (The full conformance suites, concurrency
and PostgreSQL included, are ``tests/integration/storage``.)"""

import shutil
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from authgate.domain.assurance import Authentication
from authgate.domain.audit import AuditEvent, AuditQuery
from authgate.domain.clients import Client, Registration
from authgate.domain.credentials import Credential, CredentialKind
from authgate.domain.email_tokens import EmailToken, Purpose
from authgate.domain.grants import AuthorizationCode, Consent, DeviceCode, DeviceStatus
from authgate.domain.identities import ExternalIdentity
from authgate.domain.mail import Queued
from authgate.domain.orgs import Member, Org
from authgate.domain.recovery_codes import RecoveryCode
from authgate.domain.signing_keys import SigningKey
from authgate.domain.stores import Stores
from authgate.domain.totp import TotpFactor
from authgate.domain.users import User
from authgate.errors import Conflict
from authgate.storage.db import Database
from authgate.util import tokens
from authgate.util.ids import new_id
from tests.integration.storage.factories import (
    T0,
    invite,
    passkey,
    refresh_token,
    session,
)
from tests.integration.storage.factories import user as make_user
from tests.support.memory import MemoryStores

pytestmark = pytest.mark.anyio

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


#: how the person approved (codes and refresh tokens keep it)
SIGNED_IN = Authentication(T0, ("mfa", "otp", "pwd"))


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "authgate.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(params=["memory", "sqlite"])
async def stores(
    request: pytest.FixtureRequest, sqlite_url: str
) -> AsyncIterator[Stores]:
    """The stores of one transaction; each test runs in one. (Yielding
    ``MemoryStores`` as ``Stores`` is what makes mypy check that it is one.)"""
    if request.param == "memory":
        yield MemoryStores()
        return
    db = Database(sqlite_url)
    try:
        async with db.transaction() as tx:
            yield tx
    finally:
        await db.close()


async def add_user(stores: Stores, name: str | None = None, **fields: Any) -> User:
    value = make_user(name, **fields)
    await stores.users.add(value)
    return value


def credential(
    user_id: str, kind: CredentialKind = "pat", **fields: Any
) -> tuple[Credential, str]:
    values: dict[str, Any] = {
        "id": new_id("tok"),
        "kind": kind,
        "user_id": user_id,
        "name": "ci",
        "display_prefix": "ag_pat_abcd",
        "scopes": ("read",),
        "created_at": T0,
        "expires_at": T0 + timedelta(days=30),
    }
    values.update(fields)
    return Credential(**values), tokens.digest(tokens.mint("ag", kind))


def org(slug: str | None = None) -> Org:
    org_id = new_id("org")
    return Org(id=org_id, slug=slug or org_id[-8:].lower(), name="Acme", created_at=T0)


def code(user_id: str, **fields: Any) -> tuple[AuthorizationCode, str]:
    values: dict[str, Any] = {
        "id": new_id("gr"),
        "client_id": "cl_x",
        "user_id": user_id,
        "redirect_uri": "http://127.0.0.1:5000/cb",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "scope": "openid read",
        "resource": "https://api.example",
        "created_at": T0,
        "expires_at": T0 + timedelta(seconds=60),
        "authentication": SIGNED_IN,
    }
    values.update(fields)
    return AuthorizationCode(**values), tokens.digest(tokens.mint("ag", "ac"))


def device(**fields: Any) -> DeviceCode:
    values: dict[str, Any] = {
        "id": new_id("gr"),
        "client_id": "cl_x",
        "scope": "read",
        "resource": "",
        "created_at": T0,
        "expires_at": T0 + timedelta(minutes=10),
    }
    values.update(fields)
    return DeviceCode(**values)


# -- Users, lockout, recovery keys, identities -----------------------------------


async def test_users_are_found_by_id_name_and_address(stores: Stores) -> None:
    alice = await add_user(stores, "alice", email="Alice@example.com")
    assert await stores.users.get(alice.id) == alice
    assert await stores.users.by_username("alice") == alice
    assert await stores.users.by_email("ALICE@EXAMPLE.COM") == alice
    assert await stores.users.get("usr_missing") is None
    assert await stores.users.by_username("bob") is None
    assert await stores.users.by_email("bob@example.com") is None
    assert await stores.users.count() == 1


async def test_usernames_and_addresses_are_unique(stores: Stores) -> None:
    await add_user(stores, "alice", email="alice@example.com")
    with pytest.raises(Conflict):
        await add_user(stores, "alice")
    with pytest.raises(Conflict):
        await add_user(stores, "alice2", email="alice@example.com")
    bob = await add_user(stores, "bob")
    await add_user(stores, "carol")  # two accounts without an address
    with pytest.raises(Conflict):
        await stores.users.set_email(bob.id, "alice@example.com", None)
    await stores.users.set_email(bob.id, "bob@example.com", None)
    assert (await stores.users.get(bob.id)) == replace(bob, email="bob@example.com")


async def test_a_new_user_has_no_default_org(stores: Stores) -> None:
    alice = await add_user(stores, default_org_id="org_x")
    assert (await stores.users.get(alice.id)) == replace(alice, default_org_id=None)


async def test_default_org(stores: Stores) -> None:
    alice = await add_user(stores)
    await stores.users.set_default_org_if_unset(alice.id, "org_a")
    await stores.users.set_default_org_if_unset(alice.id, "org_b")
    assert (await stores.users.get(alice.id)) == replace(alice, default_org_id="org_a")
    await stores.users.clear_default_org(alice.id, "org_b")
    assert (await stores.users.get(alice.id)) == replace(alice, default_org_id="org_a")
    await stores.users.clear_default_org(alice.id, "org_a")
    assert (await stores.users.get(alice.id)) == alice
    await stores.users.set_default_org(alice.id, "org_c")
    assert (await stores.users.get(alice.id)) == replace(alice, default_org_id="org_c")


async def test_first_admin_and_active_admins(stores: Stores) -> None:
    assert await stores.users.first_admin() is None
    await add_user(stores, is_admin=True, created_at=T0 - 3 * HOUR, disabled_at=T0)
    first = await add_user(stores, is_admin=True, created_at=T0 - 2 * HOUR)
    second = await add_user(stores, is_admin=True, created_at=T0 - HOUR)
    await add_user(stores, created_at=T0 - 4 * HOUR)
    assert await stores.users.first_admin() == first
    assert await stores.users.lock_active_admins() == sorted([first.id, second.id])


async def test_user_flags(stores: Stores) -> None:
    alice = await add_user(stores)
    assert await stores.users.set_disabled(alice.id, T0) is True
    assert await stores.users.set_admin(alice.id, True) is True
    await stores.users.set_password_hash(alice.id, "$argon2id$new")
    assert await stores.users.get(alice.id) == replace(
        alice, disabled_at=T0, is_admin=True, password_hash="$argon2id$new"
    )
    assert await stores.users.set_disabled("usr_missing", T0) is False
    assert await stores.users.set_admin("usr_missing", True) is False


async def test_search_users(stores: Stores) -> None:
    bob = await add_user(stores, "bob", email="Bob@Example.com")
    carol = await add_user(stores, "carol", email="c@example.org")
    dave = await add_user(stores, "dave")
    await add_user(stores, "under_score")
    await add_user(stores, "underxscore")
    assert await stores.users.search("BOB@EX", limit=10, after=None) == [bob]
    assert await stores.users.search("example", limit=10, after=None) == [bob, carol]
    assert await stores.users.search(None, limit=2, after="bob") == [carol, dave]
    found = await stores.users.search("under_", limit=10, after=None)
    assert [u.username for u in found] == ["under_score"]


async def test_lockout_counts_failures_within_a_window(stores: Stores) -> None:
    window = timedelta(minutes=15)
    assert await stores.lockout.find("alice") is None
    assert await stores.lockout.add_failure("alice", T0, window) == 1
    assert await stores.lockout.add_failure("alice", T0 + HOUR / 60, window) == 2
    assert await stores.lockout.find("alice") is not None
    # The window started at T0: at T0 + 15 min it is over.
    assert await stores.lockout.add_failure("alice", T0 + window, window) == 1
    await stores.lockout.lock("alice", T0 + HOUR)
    found = await stores.lockout.find("alice")
    assert found is not None
    assert found.locked_until == T0 + HOUR
    assert await stores.lockout.add_failure("alice", T0 + window, window) == 1
    await stores.lockout.clear("alice")
    assert await stores.lockout.find("alice") is None


async def test_recovery_key_replaced_and_used_once(stores: Stores) -> None:
    alice = await add_user(stores)
    await stores.recovery_keys.put(alice.id, "old", T0)
    await stores.recovery_keys.put(alice.id, "new", T0)
    assert await stores.recovery_keys.consume(alice.id, "old") is False
    assert await stores.recovery_keys.consume(alice.id, "new") is True
    assert await stores.recovery_keys.consume(alice.id, "new") is False


async def test_identities(stores: Stores) -> None:
    alice = await add_user(stores)
    later = ExternalIdentity("workos", "w1", alice.id, None, T0 + HOUR)
    first = ExternalIdentity("oidc", "s1", alice.id, "a@example.com", T0)
    await stores.identities.add(later)
    await stores.identities.add(first)
    with pytest.raises(Conflict):
        await stores.identities.add(replace(first, created_at=T0 + 2 * HOUR))
    assert await stores.identities.get("oidc", "s1") == first
    assert await stores.identities.get("oidc", "s2") is None
    assert await stores.identities.for_user(alice.id) == [first, later]
    acme = org()
    await stores.orgs.add(acme)
    await stores.identities.add_org("workos", "org_01", acme.id, T0)
    with pytest.raises(Conflict):
        await stores.identities.add_org("workos", "org_01", acme.id, T0)
    assert await stores.identities.org("workos", "org_01") == acme.id
    assert await stores.identities.org("workos", "org_02") is None


# -- Sessions and refresh tokens ---------------------------------------------------


async def test_sessions(stores: Stores) -> None:
    alice = await add_user(stores)
    old, _ = session(alice.id, last_active_at=T0 - HOUR)
    new, _ = session(alice.id)
    gone, _ = session(alice.id)
    for value in (old, new, gone):
        await stores.sessions.add(value, tokens.digest(value.id))
    assert await stores.sessions.by_token_hash(tokens.digest(new.id)) == new
    assert await stores.sessions.by_token_hash("0" * 64) is None
    assert await stores.sessions.get("ses_missing") is None
    assert await stores.sessions.revoke(gone.id, T0, "logout") is True
    assert await stores.sessions.revoke(gone.id, T0, "logout") is False
    assert await stores.sessions.revoke("ses_missing", T0, "logout") is False
    assert await stores.sessions.get(gone.id) == replace(gone, revoked_at=T0)
    assert await stores.sessions.list_for_user(alice.id) == [new, old]
    await stores.sessions.touch(old.id, T0 + HOUR)
    assert await stores.sessions.list_for_user(alice.id) == [
        replace(old, last_active_at=T0 + HOUR),
        new,
    ]


async def test_session_history_keeps_ended_sessions_newest_first(
    stores: Stores,
) -> None:
    alice = await add_user(stores)
    bob = await add_user(stores)
    first, _ = session(alice.id, created_at=T0 - HOUR)
    second, _ = session(alice.id)
    theirs, _ = session(bob.id)
    for value in (first, second, theirs):
        await stores.sessions.add(value, tokens.digest(value.id))
    await stores.sessions.revoke(first.id, T0, "logout")
    assert await stores.sessions.history(alice.id, 10) == [
        second,
        replace(first, revoked_at=T0),
    ]
    assert await stores.sessions.history(alice.id, 1) == [second]


async def test_revoke_all_sessions_but_one(stores: Stores) -> None:
    alice = await add_user(stores)
    bob = await add_user(stores)
    mine = [session(alice.id)[0] for _ in range(3)]
    theirs, _ = session(bob.id)
    for value in [*mine, theirs]:
        await stores.sessions.add(value, tokens.digest(value.id))
    await stores.sessions.revoke(mine[0].id, T0, "logout")
    ended = await stores.sessions.revoke_all_for_user(
        alice.id, T0 + HOUR, "password_changed", keep=mine[1].id
    )
    assert ended == [mine[2].id]
    assert await stores.sessions.get(mine[2].id) == replace(
        mine[2], revoked_at=T0 + HOUR
    )
    assert await stores.sessions.get(mine[0].id) == replace(mine[0], revoked_at=T0)
    assert await stores.sessions.get(mine[1].id) == mine[1]
    assert await stores.sessions.get(theirs.id) == theirs


async def test_refresh_token_is_used_once(stores: Stores) -> None:
    alice = await add_user(stores)
    token, token_hash = refresh_token(alice.id)
    await stores.refresh_tokens.add(token, token_hash)
    assert await stores.refresh_tokens.by_hash(token_hash) == token
    assert await stores.refresh_tokens.by_hash("0" * 64) is None
    assert await stores.refresh_tokens.mark_used(token.id, T0) is True
    assert await stores.refresh_tokens.mark_used(token.id, T0) is False
    assert await stores.refresh_tokens.by_hash(token_hash) == replace(token, used_at=T0)
    revoked, revoked_hash = refresh_token(alice.id)
    await stores.refresh_tokens.add(revoked, revoked_hash)
    assert await stores.refresh_tokens.revoke_family(revoked.family_id, T0) == 1
    assert await stores.refresh_tokens.mark_used(revoked.id, T0) is False


async def test_revoke_a_refresh_family(stores: Stores) -> None:
    alice = await add_user(stores)
    first, first_hash = refresh_token(alice.id)
    second, second_hash = refresh_token(
        alice.id, family_id=first.family_id, created_at=T0 + HOUR
    )
    other, other_hash = refresh_token(alice.id)
    for token, token_hash in [
        (first, first_hash),
        (second, second_hash),
        (other, other_hash),
    ]:
        await stores.refresh_tokens.add(token, token_hash)
    assert await stores.refresh_tokens.revoke_family(first.family_id, T0) == 2
    assert await stores.refresh_tokens.revoke_family(first.family_id, T0) == 0
    assert await stores.refresh_tokens.by_hash(second_hash) == replace(
        second, revoked_at=T0
    )
    assert await stores.refresh_tokens.by_hash(other_hash) == other


async def test_revoke_refresh_tokens_of_a_user(stores: Stores) -> None:
    alice = await add_user(stores)
    kept, _ = session(alice.id)
    await stores.sessions.add(kept, tokens.digest(kept.id))
    first_party, fp_hash = refresh_token(alice.id)
    in_kept, kept_hash = refresh_token(alice.id, session_id=kept.id)
    cli, cli_hash = refresh_token(alice.id, client_id="authgate-cli")
    app, app_hash = refresh_token(alice.id, client_id="cl_app")
    for token, token_hash in [
        (first_party, fp_hash),
        (in_kept, kept_hash),
        (cli, cli_hash),
        (app, app_hash),
    ]:
        await stores.refresh_tokens.add(token, token_hash)
    hit = await stores.refresh_tokens.revoke_for_user(alice.id, T0, client_id="cl_app")
    assert hit == [app.family_id]
    hit = await stores.refresh_tokens.revoke_for_user(
        alice.id, T0, keep_session=kept.id
    )
    assert hit == [cli.family_id]  # first-party families are not OAuth grants
    assert (await stores.refresh_tokens.by_hash(fp_hash)) == replace(
        first_party, revoked_at=T0
    )
    assert (await stores.refresh_tokens.by_hash(kept_hash)) == in_kept


async def test_revoke_refresh_tokens_of_a_client(stores: Stores) -> None:
    alice = await add_user(stores)
    app, app_hash = refresh_token(alice.id, client_id="cl_app")
    cli, cli_hash = refresh_token(alice.id, client_id="authgate-cli")
    await stores.refresh_tokens.add(app, app_hash)
    await stores.refresh_tokens.add(cli, cli_hash)
    assert await stores.refresh_tokens.revoke_for_client("cl_app", T0) == [
        app.family_id
    ]
    assert await stores.refresh_tokens.revoke_for_client("cl_app", T0) == []
    assert await stores.refresh_tokens.by_hash(cli_hash) == cli


async def test_live_heads_of_oauth_families(stores: Stores) -> None:
    alice = await add_user(stores)
    values = [
        refresh_token(alice.id, client_id="cl_a", created_at=T0),
        refresh_token(alice.id, client_id="cl_b", created_at=T0 + HOUR),
        refresh_token(alice.id),  # first-party
        refresh_token(alice.id, client_id="cl_c", expires_at=T0 + HOUR),
        refresh_token(alice.id, client_id="cl_d"),
    ]
    for token, token_hash in values:
        await stores.refresh_tokens.add(token, token_hash)
    used = values[4][0]
    await stores.refresh_tokens.mark_used(used.id, T0)
    heads = await stores.refresh_tokens.live_heads(alice.id, T0 + HOUR)
    assert heads == [values[1][0], values[0][0]]


# -- Credentials, orgs, invites ------------------------------------------------


async def test_credentials(stores: Stores) -> None:
    alice = await add_user(stores)
    old, old_hash = credential(alice.id, created_at=T0 - HOUR)
    new, _ = credential(alice.id)
    key, _ = credential(alice.id, "key", id=new_id("key"))
    # Use and revocation are the store's to record, never the caller's.
    fresh, fresh_hash = credential(alice.id, last_used_at=T0, revoked_at=T0)
    await stores.credentials.add(old, old_hash)
    for value in (new, key):
        await stores.credentials.add(value, tokens.digest(value.id))
    await stores.credentials.add(fresh, fresh_hash)
    assert await stores.credentials.by_hash(old_hash) == old
    assert await stores.credentials.by_hash(fresh_hash) == replace(
        fresh, last_used_at=None, revoked_at=None
    )
    assert await stores.credentials.by_hash("0" * 64) is None
    assert await stores.credentials.get("tok_missing") is None
    assert await stores.credentials.revoke(fresh.id, T0) is True
    assert await stores.credentials.revoke(fresh.id, T0) is False
    assert await stores.credentials.get(fresh.id) == replace(fresh, last_used_at=None)
    assert await stores.credentials.list_for_user(alice.id, "pat") == [new, old]
    assert await stores.credentials.list_for_user(alice.id, "key") == [key]


async def test_tokens_expiring_are_found_until_told_of(stores: Stores) -> None:
    alice = await add_user(stores)
    soon, _ = credential(alice.id, expires_at=T0 + 2 * DAY, expiry_noticed_at=T0)
    sooner, _ = credential(alice.id, expires_at=T0 + DAY)
    later, _ = credential(alice.id, expires_at=T0 + 9 * DAY)
    past, _ = credential(alice.id, expires_at=T0 - DAY)
    key, _ = credential(alice.id, "key", id=new_id("key"), expires_at=T0 + DAY)
    revoked, _ = credential(alice.id, expires_at=T0 + DAY)
    for value in (soon, sooner, later, past, key, revoked):
        await stores.credentials.add(value, tokens.digest(value.id))
    await stores.credentials.revoke(revoked.id, T0)
    week = T0 + 7 * DAY
    assert await stores.credentials.expiring(T0, week, 10) == [
        sooner,
        replace(soon, expiry_noticed_at=None),
    ]
    assert await stores.credentials.expiring(T0, week, 1) == [sooner]
    assert await stores.credentials.expiry_noticed(sooner.id, T0) is True
    assert await stores.credentials.expiry_noticed(sooner.id, T0) is False
    assert await stores.credentials.get(sooner.id) == replace(
        sooner, expiry_noticed_at=T0
    )
    assert await stores.credentials.expiring(T0, week, 10) == [
        replace(soon, expiry_noticed_at=None)
    ]


async def test_revoke_all_credentials(stores: Stores) -> None:
    alice = await add_user(stores)
    bob = await add_user(stores)
    mine, _ = credential(alice.id)
    in_org, _ = credential(bob.id, "key", org_id="org_a")
    revoked, _ = credential(alice.id)
    theirs, _ = credential(bob.id)
    for value in (mine, in_org, revoked, theirs):
        await stores.credentials.add(value, tokens.digest(value.id))
    await stores.credentials.revoke(revoked.id, T0)
    assert await stores.credentials.revoke_all_for_org("org_a", T0) == [in_org.id]
    assert await stores.credentials.revoke_all_for_user(alice.id, T0) == [mine.id]
    assert await stores.credentials.get(theirs.id) == theirs


async def test_credential_use_is_written_at_most_once_a_while(stores: Stores) -> None:
    alice = await add_user(stores)
    value, _ = credential(alice.id)
    await stores.credentials.add(value, tokens.digest(value.id))
    assert await stores.credentials.mark_used(value.id, T0, unless_since=T0) is True
    assert await stores.credentials.mark_used(value.id, T0, unless_since=T0) is False
    later = T0 + HOUR
    assert await stores.credentials.mark_used(value.id, later, unless_since=later)
    assert await stores.credentials.get(value.id) == replace(value, last_used_at=later)


async def test_orgs_and_their_slugs(stores: Stores) -> None:
    acme = org("acme")
    await stores.orgs.add(acme)
    with pytest.raises(Conflict):
        await stores.orgs.add(org("acme"))
    other = org("other")
    await stores.orgs.add(other)
    assert await stores.orgs.find(acme.id) == acme
    assert await stores.orgs.find("acme") == acme
    assert await stores.orgs.find("nothing") is None
    with pytest.raises(Conflict):
        await stores.orgs.update(other.id, name="Other", slug="acme", require_mfa=False)
    await stores.orgs.update(
        acme.id, name="Acme Inc", slug="acme-inc", require_mfa=True
    )
    await stores.orgs.lock(acme.id)
    assert await stores.orgs.find("acme-inc") == replace(
        acme, name="Acme Inc", slug="acme-inc", require_mfa=True
    )


async def test_memberships(stores: Stores) -> None:
    alice = await add_user(stores, "alice", email="alice@example.com")
    bob = await add_user(stores, "bob")
    acme, beta = org(), org()
    await stores.orgs.add(acme)
    await stores.orgs.add(beta)
    assert await stores.orgs.add_member(acme.id, bob.id, "member", T0 + HOUR)
    assert await stores.orgs.add_member(acme.id, alice.id, "owner", T0)
    assert await stores.orgs.add_member(beta.id, alice.id, "viewer", T0 - HOUR)
    assert not await stores.orgs.add_member(acme.id, bob.id, "admin", T0)
    assert not await stores.orgs.add_member(acme.id, "usr_missing", "admin", T0)
    assert await stores.orgs.members(acme.id) == [
        Member(alice.id, "alice", "alice@example.com", "owner"),
        Member(bob.id, "bob", None, "member"),
    ]
    assert [m.org for m in await stores.orgs.memberships(alice.id)] == [beta, acme]
    assert await stores.orgs.membership(beta.id, bob.id) is None
    await stores.orgs.set_role(acme.id, bob.id, "owner")
    found = await stores.orgs.membership(acme.id, bob.id)
    assert found is not None
    assert (found.org, found.role, found.created_at) == (acme, "owner", T0 + HOUR)
    assert await stores.orgs.count_owners(acme.id) == 2
    await stores.orgs.remove_member(acme.id, bob.id)
    assert await stores.orgs.count_owners(acme.id) == 1
    assert await stores.orgs.member_ids(acme.id) == [alice.id]


async def test_deleting_an_org_deletes_what_belongs_to_it(stores: Stores) -> None:
    alice = await add_user(stores)
    acme = org()
    await stores.orgs.add(acme)
    await stores.orgs.add_member(acme.id, alice.id, "owner", T0)
    value, code_hash = invite(org_id=acme.id, email="b@example.com", role="member")
    await stores.invites.add(value, code_hash)
    await stores.identities.add_org("workos", "org_01", acme.id, T0)
    await stores.orgs.delete(acme.id)
    assert await stores.orgs.find(acme.id) is None
    assert await stores.orgs.memberships(alice.id) == []
    assert await stores.invites.get(value.id) is None
    assert await stores.identities.org("workos", "org_01") is None


async def test_invites(stores: Stores) -> None:
    alice = await add_user(stores)
    acme = org()
    await stores.orgs.add(acme)
    old, old_hash = invite(created_at=T0 - HOUR)
    new, _ = invite(created_by=alice.id)
    theirs, _ = invite(org_id=acme.id, email="b@example.com", role="member")
    for value, code_hash in [(old, old_hash), (new, "1" * 64), (theirs, "2" * 64)]:
        await stores.invites.add(value, code_hash)
    assert await stores.invites.by_code_hash(old_hash) == old
    assert await stores.invites.by_code_hash("0" * 64) is None
    assert await stores.invites.get("inv_missing") is None
    assert await stores.invites.all() == [new, old]
    assert await stores.invites.all(acme.id) == [theirs]
    assert await stores.invites.mark_used(old.id, alice.id, T0) is True
    assert await stores.invites.mark_used(old.id, alice.id, T0) is False
    assert await stores.invites.revoke(old.id, T0) is False
    assert await stores.invites.get(old.id) == replace(
        old, used_at=T0, used_by=alice.id
    )
    assert await stores.invites.revoke(new.id, T0) is True
    assert await stores.invites.mark_used(new.id, alice.id, T0) is False


# -- The authorization server's stores -----------------------------------------


def client(registration: Registration = "admin", created_at: Any = T0) -> Client:
    return Client(
        id=new_id("cl"),
        name="Example",
        redirect_uris=("https://app.example/cb",),
        grant_types=("authorization_code",),
        auth_method="none",
        created_at=created_at,
        registration=registration,
    )


async def test_clients(stores: Stores) -> None:
    old, new = client(created_at=T0), client(created_at=T0 + HOUR)
    await stores.clients.add(old)
    await stores.clients.add(new)
    assert await stores.clients.get(old.id) == old
    assert await stores.clients.get("cl_missing") is None
    assert await stores.clients.all() == [new, old]
    assert await stores.clients.delete(old.id) is True
    assert await stores.clients.delete(old.id) is False


async def test_abandoned_dynamic_clients_are_pruned(stores: Stores) -> None:
    """Only dynamic registrations older than the cut that no consent and no
    unrevoked refresh token names."""
    alice = await add_user(stores)
    bare, consented, holding, revoked, recent, admin = (
        client("dynamic"),
        client("dynamic"),
        client("dynamic"),
        client("dynamic"),
        client("dynamic", T0 + 2 * HOUR),
        client("admin"),
    )
    for each in (bare, consented, holding, revoked, recent, admin):
        await stores.clients.add(each)
    await stores.consents.save(Consent(alice.id, consented.id, "read", "", T0, T0))
    live, live_hash = refresh_token(alice.id, client_id=holding.id)
    dead, dead_hash = refresh_token(alice.id, client_id=revoked.id)
    await stores.refresh_tokens.add(live, live_hash)
    await stores.refresh_tokens.add(dead, dead_hash)
    await stores.refresh_tokens.revoke_for_client(revoked.id, T0)
    first = await stores.clients.prune_abandoned(T0 + HOUR, 1)
    second = await stores.clients.prune_abandoned(T0 + HOUR, 10)
    assert sorted(first + second) == sorted([bare.id, revoked.id])
    assert await stores.clients.prune_abandoned(T0 + HOUR, 10) == []
    kept = {c.id for c in await stores.clients.all()}
    assert kept == {consented.id, holding.id, recent.id, admin.id}


async def test_authorization_codes(stores: Stores) -> None:
    alice = await add_user(stores)
    value, code_hash = code(alice.id)
    await stores.authorization_codes.add(value, code_hash)
    assert await stores.authorization_codes.by_hash(code_hash) == value
    assert await stores.authorization_codes.by_hash("0" * 64) is None
    assert await stores.authorization_codes.used_since(alice.id, T0) == []
    assert await stores.authorization_codes.mark_used(value.id, T0) is True
    assert await stores.authorization_codes.mark_used(value.id, T0) is False
    assert await stores.authorization_codes.used_since(alice.id, T0) == [value.id]
    assert (
        await stores.authorization_codes.used_since(alice.id, T0, client_id="cl_other")
        == []
    )
    assert await stores.authorization_codes.used_since(alice.id, T0 + HOUR) == []
    assert await stores.authorization_codes.prune(value.expires_at) == 0
    assert await stores.authorization_codes.prune(T0 + HOUR) == 1
    assert await stores.authorization_codes.by_hash(code_hash) is None


async def test_device_codes(stores: Stores) -> None:
    alice = await add_user(stores)
    older = device(created_at=T0 - HOUR, expires_at=T0)
    value = device()
    await stores.device_codes.add(older, "a" * 64, "u" * 64)
    await stores.device_codes.add(value, "b" * 64, "u" * 64)
    assert await stores.device_codes.by_device_code_hash("a" * 64) == older
    assert await stores.device_codes.by_device_code_hash("0" * 64) is None
    assert await stores.device_codes.by_user_code_hash("u" * 64) == value
    assert await stores.device_codes.by_user_code_hash("0" * 64) is None
    await stores.device_codes.record_poll(value.id, T0, 10)
    assert await stores.device_codes.mark_used(value.id, T0) is False  # pending
    approved = DeviceStatus.APPROVED
    assert await stores.device_codes.decide(value.id, approved, alice.id, T0, SIGNED_IN)
    assert not await stores.device_codes.decide(value.id, approved, alice.id, T0, None)
    assert await stores.device_codes.by_device_code_hash("b" * 64) == replace(
        value,
        last_polled_at=T0,
        interval=10,
        status=approved,
        user_id=alice.id,
        decided_at=T0,
        authentication=SIGNED_IN,
    )
    assert await stores.device_codes.used_since(alice.id, T0) == []
    assert await stores.device_codes.mark_used(value.id, T0) is True
    assert await stores.device_codes.mark_used(value.id, T0) is False
    assert await stores.device_codes.used_since(alice.id, T0) == [value.id]
    assert await stores.device_codes.used_since(alice.id, T0, client_id="x") == []
    assert await stores.device_codes.prune(T0 + timedelta(minutes=5)) == 1
    assert await stores.device_codes.by_device_code_hash("a" * 64) is None


async def test_consents(stores: Stores) -> None:
    alice = await add_user(stores)
    first = Consent(alice.id, "cl_a", "read", "", T0, T0)
    await stores.consents.save(first)
    await stores.consents.save(
        replace(first, scope="read write", created_at=T0 + HOUR, updated_at=T0 + HOUR)
    )
    other = Consent(alice.id, "cl_b", "read", "", T0, T0 + 2 * HOUR)
    await stores.consents.save(other)
    widened = replace(first, scope="read write", updated_at=T0 + HOUR)
    assert await stores.consents.get(alice.id, "cl_a") == widened
    assert await stores.consents.get(alice.id, "cl_c") is None
    assert await stores.consents.list_for_user(alice.id) == [other, widened]
    assert await stores.consents.delete(alice.id, "cl_a") is True
    assert await stores.consents.delete(alice.id, "cl_a") is False
    assert await stores.consents.delete_for_client("cl_b") == 1


async def test_revocations_extend_never_shorten(stores: Stores) -> None:
    await stores.revocations.add("gr_a", T0 + HOUR)
    await stores.revocations.add("gr_a", T0)
    assert await stores.revocations.any_revoked(["gr_x", "gr_a"], T0)
    assert not await stores.revocations.any_revoked(["gr_a"], T0 + HOUR)
    assert not await stores.revocations.any_revoked([], T0)
    await stores.revocations.add("gr_b", T0 + 2 * HOUR)
    assert sorted(await stores.revocations.in_force(T0)) == ["gr_a", "gr_b"]
    assert await stores.revocations.in_force(T0 + HOUR) == ["gr_b"]
    assert await stores.revocations.prune(T0 + HOUR) == 0
    assert await stores.revocations.prune(T0 + 2 * HOUR) == 1


async def test_replay_claims_once(stores: Stores) -> None:
    assert await stores.replay.claim("d" * 64, T0) is True
    assert await stores.replay.claim("d" * 64, T0 + HOUR) is False
    assert await stores.replay.purge(T0) == 0
    assert await stores.replay.purge(T0 + HOUR) == 1
    assert await stores.replay.claim("d" * 64, T0 + HOUR) is True


async def test_email_tokens_are_used_once_for_their_purpose(stores: Stores) -> None:
    alice = await add_user(stores, "alice")

    def token(digest: str, purpose: Purpose = Purpose.VERIFY) -> EmailToken:
        return EmailToken(
            digest=digest * 64,
            purpose=purpose,
            user_id=alice.id,
            email="alice@example.com",
            created_at=T0,
            expires_at=T0 + HOUR,
        )

    for value in (token("a"), token("b", Purpose.RESET), token("c")):
        await stores.email_tokens.add(value)
    assert await stores.email_tokens.use("a" * 64, Purpose.RESET, T0) is None
    assert await stores.email_tokens.use("a" * 64, Purpose.VERIFY, T0 + HOUR) is None
    assert await stores.email_tokens.use("a" * 64, Purpose.VERIFY, T0) == replace(
        token("a"), used_at=T0
    )
    assert await stores.email_tokens.use("a" * 64, Purpose.VERIFY, T0) is None
    # Discarding drops the unused ones of one purpose, not the used one.
    assert await stores.email_tokens.discard(alice.id, Purpose.VERIFY) == 1
    assert await stores.email_tokens.use("c" * 64, Purpose.VERIFY, T0) is None
    assert await stores.email_tokens.purge(T0 + HOUR) == 0
    assert await stores.email_tokens.purge(T0 + 2 * HOUR) == 2


async def test_a_users_address_its_verification_and_a_new_one(stores: Stores) -> None:
    alice = await add_user(stores, "alice", email="alice@example.com")
    assert not alice.email_verified
    await stores.users.set_new_email(alice.id, "new@example.com")
    await stores.users.set_email_verified(alice.id, T0)
    assert await stores.users.get(alice.id) == replace(
        alice, email_verified_at=T0, new_email="new@example.com"
    )
    await stores.users.set_email(alice.id, "new@example.com", T0 + HOUR)
    assert await stores.users.get(alice.id) == replace(
        alice, email="new@example.com", email_verified_at=T0 + HOUR
    )


async def test_passkeys(stores: Stores) -> None:
    alice, bob = await add_user(stores), await add_user(stores)
    mine = passkey(alice.id)
    await stores.passkeys.add(mine)
    with pytest.raises(Conflict):
        await stores.passkeys.add(passkey(bob.id, credential_id=mine.credential_id))
    assert await stores.passkeys.for_user(alice.id) == [mine]
    assert await stores.passkeys.rename(bob.id, mine.id, "Theirs") is False
    assert await stores.passkeys.rename(alice.id, mine.id, "Phone") is True
    await stores.passkeys.used(mine.id, 7, True, T0 + HOUR)
    assert await stores.passkeys.by_credential_id(mine.credential_id) == replace(
        mine, name="Phone", sign_count=7, backed_up=True, last_used_at=T0 + HOUR
    )
    assert await stores.passkeys.remove(bob.id, mine.id) is False
    assert await stores.passkeys.remove(alice.id, mine.id) is True
    assert await stores.passkeys.for_user(alice.id) == []


# -- Housekeeping ---------------------------------------------------------------


async def test_pruning_sessions_takes_their_refresh_tokens(stores: Stores) -> None:
    alice = await add_user(stores)
    old, old_hash = session(alice.id, expires_at=T0)
    live, live_hash = session(alice.id, expires_at=T0 + 2 * HOUR)
    await stores.sessions.add(old, old_hash)
    await stores.sessions.add(live, live_hash)
    token, token_hash = refresh_token(alice.id, session_id=old.id)
    await stores.refresh_tokens.add(token, token_hash)
    assert await stores.sessions.prune(T0, 10) == 0
    assert await stores.sessions.prune(T0 + HOUR, 10) == 1
    assert await stores.sessions.get(old.id) is None
    assert await stores.sessions.by_token_hash(old_hash) is None
    assert await stores.refresh_tokens.by_hash(token_hash) is None
    assert await stores.sessions.get(live.id) == live


async def test_pruning_refresh_tokens_goes_by_family_start(stores: Stores) -> None:
    alice = await add_user(stores)
    kept, kept_hash = refresh_token(alice.id, family_created_at=T0 + HOUR)
    await stores.refresh_tokens.add(kept, kept_hash)
    hashes = []
    for _ in range(3):
        old, old_hash = refresh_token(alice.id, revoked_at=T0)
        await stores.refresh_tokens.add(old, old_hash)
        hashes.append(old_hash)
    assert await stores.refresh_tokens.prune(T0, 10) == 0
    assert await stores.refresh_tokens.prune(T0 + HOUR, 2) == 2  # a batch
    assert await stores.refresh_tokens.prune(T0 + HOUR, 2) == 1
    assert [await stores.refresh_tokens.by_hash(h) for h in hashes] == [None] * 3
    assert await stores.refresh_tokens.by_hash(kept_hash) is not None


async def test_pruning_login_failures_keeps_windows_and_locks(stores: Stores) -> None:
    await stores.lockout.add_failure("stale", T0, HOUR)
    await stores.lockout.add_failure("locked", T0, HOUR)
    await stores.lockout.lock("locked", T0 + 2 * HOUR)
    await stores.lockout.add_failure("recent", T0 + HOUR, HOUR)
    assert await stores.lockout.prune(T0 + HOUR, 10) == 1
    assert await stores.lockout.find("stale") is None
    assert await stores.lockout.find("recent") is not None
    assert await stores.lockout.find("locked") is not None
    assert await stores.lockout.prune(T0 + 3 * HOUR, 10) == 2


async def test_pruning_audit_events_oldest_first(stores: Stores) -> None:
    for at in (T0, T0 + HOUR, T0 + 2 * HOUR):
        await stores.audit.add(AuditEvent(action="login.succeeded", at=at))
    assert await stores.audit.prune(T0, 10) == 0
    assert await stores.audit.prune(T0 + 2 * HOUR, 1) == 1
    kept = await stores.audit.query(AuditQuery())
    assert [e.at for e in kept] == [T0 + 2 * HOUR, T0 + HOUR]
    assert await stores.audit.prune(T0 + 2 * HOUR, 10) == 1


# -- Mail ----------------------------------------------------------------------


def queued(created_at: datetime, **fields: Any) -> Queued:
    return Queued(
        id=new_id("msg"),
        template="test",
        sealed=b"sealed",
        created_at=created_at,
        next_attempt_at=created_at,
        **fields,
    )


async def test_mail_is_claimed_when_due_oldest_first_once_per_lease(
    stores: Stores,
) -> None:
    first, second, later = queued(T0), queued(T0 + HOUR), queued(T0 + 3 * HOUR)
    for row in (later, second, first):
        await stores.mail.add(row)
    assert not await stores.mail.pending(T0 - HOUR)
    assert await stores.mail.pending(T0)
    lease = T0 + 2 * HOUR + timedelta(minutes=5)
    claimed = await stores.mail.claim(T0 + 2 * HOUR, lease, 1)
    assert [row.id for row in claimed] == [first.id]
    assert claimed[0] == first  # as it was before the claim
    assert [row.id for row in await stores.mail.claim(T0 + 2 * HOUR, lease, 10)] == [
        second.id
    ]
    assert await stores.mail.claim(T0 + 2 * HOUR, lease, 10) == []
    assert not await stores.mail.pending(T0 + 2 * HOUR)
    # the lease ended, the message was not recorded: due again
    again = await stores.mail.claim(lease, lease + HOUR, 10)
    assert [row.id for row in again] == [first.id, second.id]


async def test_mail_outcomes(stores: Stores) -> None:
    sent, retried, failed = queued(T0), queued(T0), queued(T0)
    for row in (sent, retried, failed):
        await stores.mail.add(row)
    await stores.mail.claim(T0, T0 + HOUR, 10)
    await stores.mail.sent(sent.id, T0)
    await stores.mail.retry(retried.id, 1, T0 + 2 * HOUR, "connection refused")
    await stores.mail.failed(failed.id, 1, T0, "550 no such user")
    # sent and given up are never due again; retried is due at its new time
    assert not await stores.mail.pending(T0 + HOUR)
    assert await stores.mail.claim(T0 + HOUR, T0 + 2 * HOUR, 10) == []
    [due] = await stores.mail.claim(T0 + 2 * HOUR, T0 + 3 * HOUR, 10)
    assert (due.id, due.attempts, due.last_error) == (
        retried.id,
        1,
        "connection refused",
    )
    assert due.sealed == b"sealed"
    # a late outcome of a message already given up changes nothing
    await stores.mail.retry(failed.id, 2, T0, "again")
    assert await stores.mail.claim(T0 + 9 * HOUR, T0 + 10 * HOUR, 10) == [
        replace(due, next_attempt_at=T0 + 3 * HOUR)
    ]


async def test_pruning_mail_takes_only_what_was_sent_or_given_up(
    stores: Stores,
) -> None:
    sent, failed, waiting = queued(T0), queued(T0), queued(T0)
    for row in (sent, failed, waiting):
        await stores.mail.add(row)
    await stores.mail.sent(sent.id, T0)
    await stores.mail.failed(failed.id, 10, T0 + HOUR, "gave up")
    assert await stores.mail.prune(T0, 10) == 0
    assert await stores.mail.prune(T0 + 2 * HOUR, 1) == 1
    assert await stores.mail.prune(T0 + 2 * HOUR, 10) == 1
    assert await stores.mail.prune(T0 + 2 * HOUR, 10) == 0
    [left] = await stores.mail.claim(T0 + 2 * HOUR, T0 + 3 * HOUR, 10)
    assert left.id == waiting.id


async def test_queued_mail_is_resealed_in_place(stores: Stores) -> None:
    sent, waiting, failed = queued(T0), queued(T0), queued(T0)
    for row in (sent, waiting, failed):
        await stores.mail.add(row)
    await stores.mail.sent(sent.id, T0)
    await stores.mail.failed(failed.id, 10, T0, "gave up")
    assert await stores.mail.sealed_values() == [(waiting.id, b"sealed")]
    await stores.mail.replace_sealed(waiting.id, b"resealed")
    [due] = await stores.mail.claim(T0, T0 + HOUR, 10)
    assert due == replace(waiting, sealed=b"resealed")


# -- Keys, audit, back office --------------------------------------------------


async def test_signing_keys(stores: Stores) -> None:
    def key(alg: str, created_at: Any) -> SigningKey:
        return SigningKey(new_id("k"), alg, {"kty": "EC"}, b"sealed", created_at)

    old, new, rsa = key("ES256", T0), key("ES256", T0 + HOUR), key("RS256", T0)
    for value in (old, new, rsa):
        await stores.signing_keys.add(value)
    retired = await stores.signing_keys.retire_active("ES256", T0 + HOUR)
    assert sorted(retired) == sorted([old.kid, new.kid])
    assert await stores.signing_keys.retire_active("ES256", T0 + HOUR) == []
    listed = await stores.signing_keys.all()
    assert listed[0] == replace(new, retired_at=T0 + HOUR)
    rest = sorted(listed[1:], key=lambda k: k.kid)
    assert rest == sorted(
        [replace(old, retired_at=T0 + HOUR), rsa], key=lambda k: k.kid
    )
    await stores.signing_keys.replace_sealed(rsa.kid, b"resealed")
    by_kid = {k.kid: k for k in await stores.signing_keys.all()}
    assert by_kid[rsa.kid] == replace(rsa, private_encrypted=b"resealed")
    assert by_kid[new.kid] == replace(new, retired_at=T0 + HOUR)


async def test_audit_query(stores: Stores) -> None:
    def event(action: str, at: Any, **fields: Any) -> AuditEvent:
        return AuditEvent(action=action, at=at, **fields)

    await stores.audit.add(event("a", T0, actor_id="usr_1", details={"x": 1}))
    await stores.audit.add(event("b", T0 + HOUR, target_id="usr_1", org_id="org_1"))
    await stores.audit.add(event("a", T0 + 2 * HOUR, actor_id="usr_2"))
    every = await stores.audit.query(AuditQuery())
    assert [(e.action, e.at) for e in every] == [
        ("a", T0 + 2 * HOUR),
        ("b", T0 + HOUR),
        ("a", T0),
    ]
    assert every[2].details == {"x": 1}
    assert every[1].details == {}
    ids = [e.id or 0 for e in every]
    assert ids == sorted(ids, reverse=True)

    async def actions(**query: Any) -> list[str]:
        return [e.action for e in await stores.audit.query(AuditQuery(**query))]

    assert await actions(user_id="usr_1") == ["b", "a"]
    assert await actions(action="a", limit=1) == ["a"]
    assert await actions(org_id="org_1") == ["b"]
    assert await actions(since=T0 + HOUR) == ["a", "b"]
    assert await actions(until=T0 + HOUR) == ["a"]
    assert await actions(before_id=ids[1]) == ["a"]


async def test_back_office_counts(stores: Stores) -> None:
    alice = await add_user(stores, disabled_at=T0)
    bob = await add_user(stores)
    live, _ = session(alice.id)
    ended, _ = session(alice.id)
    for ses in (live, ended):
        await stores.sessions.add(ses, tokens.digest(ses.id))
    await stores.sessions.revoke(ended.id, T0, "logout")
    acme = org()
    await stores.orgs.add(acme)
    await stores.orgs.add_member(acme.id, alice.id, "owner", T0)
    await stores.orgs.add_member(acme.id, bob.id, "member", T0)
    pat, _ = credential(alice.id)
    key, _ = credential(bob.id, "key", id=new_id("key"), org_id=acme.id)
    revoked, _ = credential(bob.id, "key", id=new_id("key"), org_id=acme.id)
    for value in (pat, key, revoked):
        await stores.credentials.add(value, tokens.digest(value.id))
    await stores.credentials.revoke(revoked.id, T0)

    users = await stores.backoffice.users(10, None)
    counts = {s.user.id: (s.sessions, s.access_tokens, s.api_keys) for s in users}
    assert counts == {alice.id: (1, 1, 0), bob.id: (0, 0, 1)}
    assert [s.user.id for s in users] == sorted([alice.id, bob.id])
    first = users[0].user.id
    assert [s.user.id for s in await stores.backoffice.users(10, first)] == [
        users[1].user.id
    ]
    [summary] = await stores.backoffice.orgs(10, None)
    assert (summary.org, summary.members, summary.api_keys) == (acme, 2, 1)
    assert await stores.backoffice.orgs(10, acme.id) == []
    assert await stores.backoffice.stats() == {
        "users": 2,
        "orgs": 1,
        "disabled_users": 1,
        "active_sessions": 1,
        "access_tokens": 1,
        "api_keys": 1,
    }


def totp_factor(user_id: str) -> TotpFactor:
    return TotpFactor(user_id=user_id, sealed_secret=b"sealed", created_at=T0)


async def test_totp_factors(stores: Stores) -> None:
    alice = await add_user(stores)
    assert await stores.totp.get(alice.id) is None
    assert await stores.totp.put_unconfirmed(totp_factor(alice.id))
    assert await stores.totp.put_unconfirmed(
        replace(totp_factor(alice.id), sealed_secret=b"again")
    )
    assert await stores.totp.get(alice.id) == replace(
        totp_factor(alice.id), sealed_secret=b"again"
    )
    assert not await stores.totp.use_step(alice.id, 5)  # unconfirmed
    assert await stores.totp.confirm(alice.id, T0 + HOUR, 5)
    assert not await stores.totp.confirm(alice.id, T0 + HOUR, 6)
    assert not await stores.totp.put_unconfirmed(totp_factor(alice.id))
    assert not await stores.totp.use_step(alice.id, 5)
    assert await stores.totp.use_step(alice.id, 7)
    assert not await stores.totp.use_step(alice.id, 6)
    found = await stores.totp.get(alice.id)
    assert found is not None
    assert (found.sealed_secret, found.confirmed_at, found.last_step) == (
        b"again",
        T0 + HOUR,
        7,
    )
    bob = await add_user(stores, "bob")
    assert await stores.totp.put_unconfirmed(totp_factor(bob.id))
    assert sorted(await stores.totp.sealed_secrets()) == sorted(
        [(alice.id, b"again"), (bob.id, totp_factor(bob.id).sealed_secret)]
    )
    await stores.totp.replace_sealed(alice.id, b"resealed")
    assert await stores.totp.get(alice.id) == replace(found, sealed_secret=b"resealed")
    assert await stores.totp.delete(alice.id)
    assert not await stores.totp.delete(alice.id)
    assert await stores.totp.get(alice.id) is None


async def test_recovery_codes(stores: Stores) -> None:
    alice, bob = await add_user(stores), await add_user(stores)

    def codes(user_id: str, *hashes: str) -> list[RecoveryCode]:
        return [
            RecoveryCode(id=new_id("rcc"), user_id=user_id, code_hash=h, created_at=T0)
            for h in hashes
        ]

    await stores.recovery_codes.replace(alice.id, codes(alice.id, "a1", "a2"))
    await stores.recovery_codes.replace(bob.id, codes(bob.id, "b1"))
    assert not await stores.recovery_codes.use(bob.id, "a1", T0)
    assert await stores.recovery_codes.use(alice.id, "a1", T0)
    assert not await stores.recovery_codes.use(alice.id, "a1", T0)
    assert await stores.recovery_codes.remaining(alice.id) == 1
    await stores.recovery_codes.replace(alice.id, codes(alice.id, "a3"))
    assert not await stores.recovery_codes.use(alice.id, "a2", T0)
    assert await stores.recovery_codes.remaining(alice.id) == 1
    assert await stores.recovery_codes.delete_all(alice.id) == 1
    assert await stores.recovery_codes.remaining(alice.id) == 0
    assert await stores.recovery_codes.remaining(bob.id) == 1
