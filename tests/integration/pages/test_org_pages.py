"""``/settings/orgs`` without a browser: every form's CSRF and origin checks,
the permission table applied to forged posts, the last-owner rule shown
inline, and the invite link's refusals (wrong account, reuse, expiry)."""

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest

from authgate.util import clock
from tests.support.actions import Actions, Login, random_email
from tests.support.live import LiveServer
from tests.support.pages import CSRF, OpenPages, Pages
from tests.support.tamper import mangle
from tests.support.totp import enrol


@pytest.fixture
def as_user(open_pages: OpenPages) -> Callable[[Login], Pages]:
    return lambda login: open_pages(login, "/settings/orgs")


def user_id(actions: Actions, login: Login) -> str:
    return str(actions.client.get("/api/v1/me", headers=login.bearer).json()["id"])


def members(actions: Actions, login: Login, org: str) -> dict[str, str]:
    response = actions.client.get(f"/api/v1/orgs/{org}/members", headers=login.bearer)
    assert response.status_code == 200, response.text
    return {m["username"]: m["role"] for m in response.json()["items"]}


def invites_for(
    actions: Actions, team: dict[str, Any], email: str
) -> list[dict[str, Any]]:
    response = actions.client.get(
        f"/api/v1/orgs/{team['org']['slug']}/invites", headers=team["owner"].bearer
    )
    assert response.status_code == 200, response.text
    return [i for i in response.json()["items"] if i["email"] == email]


def audit_actions(actions: Actions, login: Login, org: str) -> list[str]:
    response = actions.client.get(f"/api/v1/orgs/{org}/audit", headers=login.bearer)
    assert response.status_code == 200, response.text
    return [e["action"] for e in response.json()["items"]]


@pytest.fixture
def team(actions: Actions) -> dict[str, Any]:
    """An org with an owner, an admin and a member."""
    owner = actions.person()
    org = actions.make_org(owner)
    return {
        "org": org,
        "owner": owner,
        "admin": actions.org_member(owner, org["slug"], "admin"),
        "member": actions.org_member(owner, org["slug"], "member"),
    }


# -- signed out


@pytest.mark.parametrize(
    "path", ["/settings/orgs", "/settings/orgs/acme", "/settings/orgs/accept?code=x"]
)
def test_signed_out_goes_to_sign_in_and_back(server: LiveServer, path: str) -> None:
    with server.client() as http:
        response = http.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?" + urlencode({"next": path})


def test_a_bearer_token_does_not_make_a_page_user(
    server: LiveServer, actions: Actions
) -> None:
    owner = actions.person()
    with server.client() as http:
        response = http.get("/settings/orgs", headers=owner.bearer)
    assert response.status_code == 303


# -- the list page


def test_create_an_org_and_choose_the_default(
    actions: Actions, as_user: Callable[[Login], Pages]
) -> None:
    owner = actions.person()
    pages = as_user(owner)
    listed = pages.get("/settings/orgs")
    assert listed.status_code == 200
    assert "<script" not in listed.text
    assert '<label for="org-name">Name</label>' in listed.text

    created = pages.post("/settings/orgs", {"name": "Acme Labs", "slug": ""})
    assert created.status_code == 303
    assert created.headers["location"] == "/settings/orgs/acme-labs"
    second = pages.post("/settings/orgs", {"name": "Beta", "slug": "beta-team"})
    assert second.headers["location"] == "/settings/orgs/beta-team"

    # The first org became the default; the form moves it.
    me = actions.client.get("/api/v1/me", headers=owner.bearer).json()
    orgs = {
        o["slug"]: o["id"]
        for o in actions.client.get("/api/v1/orgs", headers=owner.bearer).json()[
            "items"
        ]
    }
    assert me["org_id"] == orgs["acme-labs"]
    moved = pages.post("/settings/orgs/default", {"org": orgs["beta-team"]})
    assert moved.status_code == 303
    me = actions.client.get("/api/v1/me", headers=owner.bearer).json()
    assert me["org_id"] == orgs["beta-team"]
    page = pages.get("/settings/orgs").text
    assert f'value="{orgs["beta-team"]}" checked' in page

    cleared = pages.post("/settings/orgs/default", {"org": ""})
    assert cleared.status_code == 303
    assert (
        actions.client.get("/api/v1/me", headers=owner.bearer).json()["org_id"] is None
    )


def test_the_default_must_be_one_of_ones_own_orgs(
    actions: Actions, as_user: Callable[[Login], Pages]
) -> None:
    stranger_org = actions.make_org(actions.person())
    pages = as_user(actions.person())
    response = pages.post("/settings/orgs/default", {"org": stranger_org["id"]})
    assert response.status_code == 404
    assert "No such organization." in response.text


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "   "}, "Organization name must be 1-100 printable characters."),
        ({"name": "Ok", "slug": "Not A Slug"}, "Slug must be 1-48 lowercase"),
        # /settings/orgs/accept is the invite page, so no org may be at it.
        ({"name": "Ok", "slug": "accept"}, "The slug &#39;accept&#39; is reserved"),
    ],
)
def test_a_bad_name_or_slug_is_refused_inline(
    actions: Actions,
    as_user: Callable[[Login], Pages],
    form: dict[str, str],
    message: str,
) -> None:
    owner = actions.person()
    pages = as_user(owner)
    response = pages.post("/settings/orgs", form)
    assert response.status_code == 400
    assert 'role="alert"' in response.text
    assert message in response.text
    assert actions.client.get("/api/v1/orgs", headers=owner.bearer).json() == {
        "items": [],
        "next_cursor": None,
    }


def test_a_name_never_makes_a_reserved_slug(
    actions: Actions, as_user: Callable[[Login], Pages]
) -> None:
    created = as_user(actions.person()).post("/settings/orgs", {"name": "Accept"})
    assert created.status_code == 303
    assert created.headers["location"] == "/settings/orgs/accept-2"


def test_a_taken_slug_is_refused_inline(
    actions: Actions, as_user: Callable[[Login], Pages]
) -> None:
    taken = actions.make_org(actions.person())
    pages = as_user(actions.person())
    response = pages.post("/settings/orgs", {"name": "Mine", "slug": taken["slug"]})
    assert response.status_code == 409
    assert 'role="alert"' in response.text
    # The form keeps what was typed.
    assert 'value="Mine"' in response.text


# -- CSRF and origin, on every form


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/settings/orgs", {"name": "Forged"}),
        ("/settings/orgs/default", {"org": ""}),
        ("/settings/orgs/{slug}/invites", {"email": "x@example.com", "role": "admin"}),
        ("/settings/orgs/{slug}/invites/inv_x/revoke", {}),
        ("/settings/orgs/{slug}/members/{owner_id}/role", {"role": "admin"}),
        ("/settings/orgs/{slug}/members/{member_id}/remove", {}),
        ("/settings/orgs/{slug}/leave", {}),
        ("/settings/orgs/accept", {"code": "x", "decision": "accept"}),
    ],
)
def test_every_form_needs_the_token_and_this_origin(
    actions: Actions,
    as_user: Callable[[Login], Pages],
    team: dict[str, Any],
    path: str,
    data: dict[str, str],
) -> None:
    path = path.format(
        slug=team["org"]["slug"],
        owner_id=user_id(actions, team["owner"]),
        member_id=user_id(actions, team["member"]),
    )
    pages = as_user(team["owner"])
    before = audit_actions(actions, team["owner"], team["org"]["slug"])
    missing = pages.post(path, data, token="")
    assert missing.status_code == 403
    assert "The form has expired or was not sent from this site." in missing.text
    wrong = pages.post(path, data, token=mangle(pages.token()))
    assert wrong.status_code == 403
    cross_site = pages.post(path, data, origin="https://evil.example")
    assert cross_site.status_code == 403
    assert "Cross-site request refused" in cross_site.text
    # Another person's token is no good either.
    other = as_user(actions.person()).token()
    assert pages.post(path, data, token=other).status_code == 403
    assert audit_actions(actions, team["owner"], team["org"]["slug"]) == before
    assert len(members(actions, team["owner"], team["org"]["slug"])) == 3


# -- what each role sees and may do


def test_a_member_sees_no_controls_and_forged_posts_are_refused(
    actions: Actions, as_user: Callable[[Login], Pages], team: dict[str, Any]
) -> None:
    slug = team["org"]["slug"]
    owner_view = as_user(team["owner"]).get(f"/settings/orgs/{slug}").text
    assert "Create invite" in owner_view
    assert ">Remove</button>" in owner_view
    assert "Change role" in owner_view

    pages = as_user(team["member"])
    page = pages.get(f"/settings/orgs/{slug}")
    assert page.status_code == 200
    assert team["admin"].username in page.text  # members are listed
    for control in ("Create invite", ">Remove</button>", "Change role", "Revoke"):
        assert control not in page.text
    assert "Leave organization" in page.text

    by_name = {
        m["username"]: m["user_id"]
        for m in actions.client.get(
            f"/api/v1/orgs/{slug}/members", headers=team["owner"].bearer
        ).json()["items"]
    }
    admin_id = by_name[team["admin"].username]
    invite = actions.org_invite(team["owner"], slug, random_email())
    forged = [
        (f"/settings/orgs/{slug}/invites", {"email": random_email(), "role": "member"}),
        (f"/settings/orgs/{slug}/members/{admin_id}/role", {"role": "viewer"}),
        (f"/settings/orgs/{slug}/members/{admin_id}/remove", {}),
        (f"/settings/orgs/{slug}/invites/{invite['id']}/revoke", {}),
    ]
    before = audit_actions(actions, team["owner"], slug)
    for path, data in forged:
        response = pages.post(path, data)
        assert response.status_code == 403, path
        assert "Access refused" in response.text
        assert "does not allow" in response.text
    assert members(actions, team["owner"], slug)[team["admin"].username] == "admin"
    assert audit_actions(actions, team["owner"], slug) == before


def test_an_admin_cannot_touch_an_owner(
    actions: Actions, as_user: Callable[[Login], Pages], team: dict[str, Any]
) -> None:
    slug = team["org"]["slug"]
    pages = as_user(team["admin"])
    page = pages.get(f"/settings/orgs/{slug}").text
    assert "Create invite" in page
    # The owner's row offers nothing, and no "owner" option is on offer.
    assert '<option value="owner"' not in page
    owner_id = user_id(actions, team["owner"])
    refused = pages.post(
        f"/settings/orgs/{slug}/members/{owner_id}/role", {"role": "viewer"}
    )
    assert refused.status_code == 403
    assert "Only an owner" in refused.text
    assert (
        pages.post(f"/settings/orgs/{slug}/members/{owner_id}/remove").status_code
        == 403
    )
    grant = pages.post(
        f"/settings/orgs/{slug}/invites", {"email": random_email(), "role": "owner"}
    )
    assert grant.status_code == 403
    assert members(actions, team["owner"], slug)[team["owner"].username] == "owner"


def test_a_stranger_is_told_the_org_does_not_exist(
    actions: Actions, as_user: Callable[[Login], Pages], team: dict[str, Any]
) -> None:
    slug = team["org"]["slug"]
    pages = as_user(actions.person())
    assert pages.get(f"/settings/orgs/{slug}").status_code == 404
    assert pages.get("/settings/orgs/no-such-org").status_code == 404
    response = pages.post(f"/settings/orgs/{slug}/leave")
    assert response.status_code == 404


# -- membership changes, and the last owner


def test_change_a_role_and_remove_a_member(
    actions: Actions, as_user: Callable[[Login], Pages], team: dict[str, Any]
) -> None:
    slug = team["org"]["slug"]
    pages = as_user(team["owner"])
    member_id = user_id(actions, team["member"])
    changed = pages.post(
        f"/settings/orgs/{slug}/members/{member_id}/role", {"role": "admin"}
    )
    assert changed.status_code == 303
    assert changed.headers["location"] == f"/settings/orgs/{slug}"
    assert members(actions, team["owner"], slug)[team["member"].username] == "admin"
    bad = pages.post(
        f"/settings/orgs/{slug}/members/{member_id}/role", {"role": "emperor"}
    )
    assert bad.status_code == 400
    assert "Role must be one of" in bad.text
    removed = pages.post(f"/settings/orgs/{slug}/members/{member_id}/remove")
    assert removed.status_code == 303
    assert team["member"].username not in members(actions, team["owner"], slug)
    assert (
        pages.post(f"/settings/orgs/{slug}/members/{member_id}/remove").status_code
        == 404
    )
    logged = audit_actions(actions, team["owner"], slug)
    assert logged[:2] == ["member.removed", "member.role_changed"]


def test_the_last_owner_can_neither_leave_nor_be_demoted(
    actions: Actions, as_user: Callable[[Login], Pages], team: dict[str, Any]
) -> None:
    slug = team["org"]["slug"]
    pages = as_user(team["owner"])
    owner_id = user_id(actions, team["owner"])
    left = pages.post(f"/settings/orgs/{slug}/leave")
    assert left.status_code == 409
    assert "An organization needs an owner: make someone else owner first." in left.text
    demoted = pages.post(
        f"/settings/orgs/{slug}/members/{owner_id}/role", {"role": "admin"}
    )
    assert demoted.status_code == 409
    assert "An organization needs an owner" in demoted.text
    assert members(actions, team["owner"], slug)[team["owner"].username] == "owner"


def test_a_member_leaves(
    actions: Actions, as_user: Callable[[Login], Pages], team: dict[str, Any]
) -> None:
    slug = team["org"]["slug"]
    response = as_user(team["member"]).post(f"/settings/orgs/{slug}/leave")
    assert response.status_code == 303
    assert response.headers["location"] == "/settings/orgs"
    assert team["member"].username not in members(actions, team["owner"], slug)
    assert audit_actions(actions, team["owner"], slug)[0] == "member.left"


# -- invites


def test_invite_shows_the_link_once_and_lists_it_until_revoked(
    actions: Actions, as_user: Callable[[Login], Pages], team: dict[str, Any]
) -> None:
    slug = team["org"]["slug"]
    pages = as_user(team["admin"])
    email = random_email()
    created = pages.post(
        f"/settings/orgs/{slug}/invites", {"email": email, "role": "viewer"}
    )
    assert created.status_code == 200
    link = re.search(r'id="invite-link"[^>]*>([^<]+)</code>', created.text)
    assert link
    assert link[1].startswith(f"{pages.server.url}/settings/orgs/accept?code=")
    [listed] = invites_for(actions, team, email)
    assert listed["email"] == email
    assert listed["role"] == "viewer"

    # Shown once: the org page lists the invite, never its link again.
    page = pages.get(f"/settings/orgs/{slug}").text
    assert email in page
    assert link[1] not in page
    revoked = pages.post(f"/settings/orgs/{slug}/invites/{listed['id']}/revoke")
    assert revoked.status_code == 303
    assert email not in pages.get(f"/settings/orgs/{slug}").text
    assert "invite.revoked" in audit_actions(actions, team["owner"], slug)


def test_a_bad_email_is_refused_inline(
    actions: Actions, as_user: Callable[[Login], Pages], team: dict[str, Any]
) -> None:
    slug = team["org"]["slug"]
    response = as_user(team["owner"]).post(
        f"/settings/orgs/{slug}/invites", {"email": "not an address", "role": "member"}
    )
    assert response.status_code == 400
    assert 'role="alert"' in response.text
    assert 'value="not an address"' in response.text


def invite_code(actions: Actions, team: dict[str, Any], email: str) -> str:
    return str(
        actions.org_invite(team["owner"], team["org"]["slug"], email, "admin")["code"]
    )


def test_accept_an_invite(
    actions: Actions, as_user: Callable[[Login], Pages], team: dict[str, Any]
) -> None:
    email = random_email()
    invitee = actions.person(email)
    code = invite_code(actions, team, email)
    pages = as_user(invitee)
    shown = pages.get("/settings/orgs/accept", code=code)
    assert shown.status_code == 200
    assert team["org"]["name"] in shown.text
    assert "<strong>admin</strong>" in shown.text
    accepted = pages.post(
        "/settings/orgs/accept",
        {"code": code, "decision": "accept"},
        token=CSRF.findall(shown.text)[-1],
    )
    assert accepted.status_code == 303
    assert accepted.headers["location"] == f"/settings/orgs/{team['org']['slug']}"
    assert members(actions, team["owner"], team["org"]["slug"])[invitee.username] == (
        "admin"
    )
    logged = audit_actions(actions, team["owner"], team["org"]["slug"])
    assert logged[:2] == ["member.joined", "invite.used"]

    # Used once: the link now says so, and so does a second answer.
    again = pages.get("/settings/orgs/accept", code=code)
    assert again.status_code == 403
    assert "That invite code is invalid, used or expired." in again.text
    replayed = pages.post("/settings/orgs/accept", {"code": code, "decision": "accept"})
    assert replayed.status_code == 403


def test_an_invite_is_for_its_address_only(
    actions: Actions, as_user: Callable[[Login], Pages], team: dict[str, Any]
) -> None:
    email = random_email()
    code = invite_code(actions, team, email)
    pages = as_user(actions.person())
    shown = pages.get("/settings/orgs/accept", code=code)
    assert shown.status_code == 403
    assert f"This invite was sent to {email[0]}•••@" in shown.text
    assert "Sign in with the account that has that address." in shown.text
    # The org is not named to the wrong account.
    assert team["org"]["name"] not in shown.text.split("</header>")[1]
    forced = pages.post("/settings/orgs/accept", {"code": code, "decision": "accept"})
    assert forced.status_code == 403
    declined = pages.post(
        "/settings/orgs/accept", {"code": code, "decision": "decline"}
    )
    assert declined.status_code == 403
    [invite] = invites_for(actions, team, email)
    assert invite["status"] == "unused"


def test_an_expired_invite_is_refused(
    actions: Actions, as_user: Callable[[Login], Pages], team: dict[str, Any]
) -> None:
    email = random_email()
    invitee = actions.person(email)
    code = invite_code(actions, team, email)
    clock.advance(8 * 24 * 3600)  # invites last seven days
    # Sessions do not last that long: both sign in again.
    pages = as_user(actions.login(invitee.username))
    owner = actions.login(team["owner"].username)
    shown = pages.get("/settings/orgs/accept", code=code)
    assert shown.status_code == 403
    assert "That invite code is invalid, used or expired." in shown.text
    forced = pages.post("/settings/orgs/accept", {"code": code, "decision": "accept"})
    assert forced.status_code == 403
    assert invitee.username not in members(actions, owner, team["org"]["slug"])
    [invite] = invites_for(actions, {**team, "owner": owner}, email)
    assert invite["status"] == "expired"


def test_decline_an_invite(
    actions: Actions, as_user: Callable[[Login], Pages], team: dict[str, Any]
) -> None:
    email = random_email()
    invitee = actions.person(email)
    code = invite_code(actions, team, email)
    pages = as_user(invitee)
    declined = pages.post(
        "/settings/orgs/accept", {"code": code, "decision": "decline"}
    )
    assert declined.status_code == 200
    assert "Invite declined" in declined.text
    assert pages.get("/settings/orgs/accept", code=code).status_code == 403
    assert invitee.username not in members(actions, team["owner"], team["org"]["slug"])
    assert "invite.revoked" in audit_actions(
        actions, team["owner"], team["org"]["slug"]
    )


def test_a_missing_or_unknown_code_is_refused(
    actions: Actions, as_user: Callable[[Login], Pages]
) -> None:
    pages = as_user(actions.person())
    for code in ("", "ag_inv_nothing"):
        response = pages.get("/settings/orgs/accept", code=code)
        assert response.status_code == 403
        assert "That invite code is invalid, used or expired." in response.text
    assert pages.post("/settings/orgs/accept", {"code": "x"}).status_code == 400


def test_only_the_owner_is_offered_and_may_require_a_second_factor(
    actions: Actions, as_user: Callable[[Login], Pages], team: dict[str, Any]
) -> None:
    slug = team["org"]["slug"]
    admin = as_user(team["admin"])
    assert "Require a second factor" not in admin.get(f"/settings/orgs/{slug}").text
    refused = admin.post(f"/settings/orgs/{slug}/require-mfa", {"require_mfa": "true"})
    assert refused.status_code == 403
    owner = as_user(team["owner"])
    assert "Require a second factor" in owner.get(f"/settings/orgs/{slug}").text
    lax = owner.post(f"/settings/orgs/{slug}/require-mfa", {"require_mfa": "true"})
    assert lax.status_code == 409
    assert "for yourself first" in lax.text
    enrol(actions.client, team["owner"])
    done = owner.post(f"/settings/orgs/{slug}/require-mfa", {"require_mfa": "true"})
    assert done.status_code == 303
    page = owner.get(f"/settings/orgs/{slug}").text
    assert "Stop requiring a second factor" in page
    assert "only with a second factor" in page
    # A member without a factor is asked to set one up before acting in it.
    asked = admin.get(f"/settings/orgs/{slug}")
    assert asked.status_code == 403
    assert "requires a second factor of its members" in asked.text
    org = actions.client.get(
        f"/api/v1/orgs/{slug}", headers=team["owner"].bearer
    ).json()
    assert org["require_mfa"] is True
