"""The Organizations pages in a real browser (Debian's headless Chromium): an
org created on the page, a member invited by email, the link accepted in a
second browser signed in as that person (through ``/login`` and back), the
role changed, the member removed; what a member sees and may not do; the last
owner; invites used twice, expired or opened by the wrong account. Every page
goes through axe and, on demand, a screenshot.

Every form's token and origin checks, and each refusal in detail, are covered
cheaper without a browser in tests/integration/pages/test_org_pages.py.
"""

from collections.abc import Callable

from playwright.sync_api import BrowserContext, Locator, Page, expect

from authgate.util import clock
from tests.support.actions import Actions, random_email, random_name
from tests.support.browser import (
    MARKS,
    check_page,
    fill_sign_in,
    open_signed_in,
    settable,
)
from tests.support.live import LiveServer

pytestmark = MARKS

PHONE = {"width": 375, "height": 740}
USED = "That invite code is invalid, used or expired."


def sign_in(page: Page, username: str) -> None:
    """On the sign-in page: the form, then wherever ``next`` leads."""
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    fill_sign_in(page, username)


def row(page: Page, username: str) -> Locator:
    return page.locator("tbody tr", has_text=username)


def test_create_invite_accept_change_role_remove(
    contexts: Callable[..., BrowserContext], server: LiveServer, actions: Actions
) -> None:
    owner = actions.person()
    email = random_email()
    invitee = actions.person(email)
    name = f"Acme {random_name('')}"

    page = open_signed_in(contexts, server, owner.username, "/settings/orgs")
    expect(page.get_by_role("heading", name="Organizations")).to_be_visible()
    expect(page.get_by_role("link", name="Organizations")).to_have_attribute(
        "aria-current", "page"
    )
    check_page(page, "settings-orgs-empty")

    # Create: by keyboard, Enter in the field submits the form.
    page.get_by_label("Name").fill(name)
    page.get_by_label("Name").press("Enter")
    page.wait_for_url(f"{server.url}/settings/orgs/acme-*")
    slug = page.url.rsplit("/", 1)[1]
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(row(page, owner.username)).to_contain_text("(you)")
    check_page(page, "settings-org")

    page.get_by_label("Email").fill(email)
    page.get_by_label("Role", exact=True).select_option("admin")
    page.get_by_role("button", name="Create invite").click()
    notice = page.get_by_role("status")
    expect(notice).to_contain_text(f"Invite created for {email} as admin")
    link = page.locator("#invite-link").inner_text().strip()
    assert link.startswith(f"{server.url}/settings/orgs/accept?code=")
    expect(page.get_by_role("button", name="Copy link")).to_be_visible()
    expect(page.locator("table", has_text="Expires")).to_contain_text(email)
    check_page(page, "settings-org-invite-created")

    # The invitee opens the link signed out: to /login, and back to the invite.
    second = contexts().new_page()
    second.goto(link)
    second.wait_for_url(lambda url: url.startswith(f"{server.url}/login?next="))
    check_page(second, "settings-org-accept-sign-in")
    sign_in(second, invitee.username)
    second.wait_for_url(lambda url: url == link)
    expect(second.get_by_role("heading", name=f"Join {name}?")).to_be_visible()
    expect(second.get_by_text("as admin")).to_be_visible()
    check_page(second, "settings-org-accept")
    second.get_by_role("button", name="Accept").click()
    second.wait_for_url(f"{server.url}/settings/orgs/{slug}")
    expect(row(second, invitee.username)).to_contain_text("(you)")

    # The owner sees the new member, changes their role, then removes them.
    page.goto(f"{server.url}/settings/orgs/{slug}")
    member = row(page, invitee.username)
    expect(member).to_contain_text(email)
    expect(member.get_by_label(f"Role of {invitee.username}")).to_have_value("admin")
    expect(page.get_by_text("No pending invites.")).to_be_visible()
    member.get_by_label(f"Role of {invitee.username}").select_option("viewer")
    member.get_by_role("button", name="Change role").click()
    page.wait_for_url(f"{server.url}/settings/orgs/{slug}")
    expect(
        row(page, invitee.username).get_by_label(f"Role of {invitee.username}")
    ).to_have_value("viewer")
    row(page, invitee.username).get_by_role("button", name="Remove").click()
    page.wait_for_url(f"{server.url}/settings/orgs/{slug}")
    expect(row(page, invitee.username)).to_have_count(0)
    check_page(page, "settings-org-after-remove")

    # The removed member no longer finds the org.
    second.goto(f"{server.url}/settings/orgs/{slug}")
    expect(second.get_by_role("alert")).to_have_text("No such organization.")
    check_page(second, "settings-org-not-found")


def test_the_default_org_and_a_phone_without_javascript(
    contexts: Callable[..., BrowserContext], server: LiveServer, actions: Actions
) -> None:
    owner = actions.person()
    first = actions.make_org(owner, "First")
    second = actions.make_org(owner, "Second")
    page = open_signed_in(
        contexts,
        server,
        owner.username,
        "/settings/orgs",
        java_script_enabled=False,
        viewport=PHONE,
    )
    # The first org is the default until another is chosen.
    default = page.get_by_role("group", name="Default organization")
    expect(default.get_by_label("First")).to_be_checked()
    default.get_by_label("Second").check()
    default.get_by_role("button", name="Save default").click()
    page.wait_for_url(f"{server.url}/settings/orgs")
    expect(
        page.get_by_role("group", name="Default organization").get_by_label("Second")
    ).to_be_checked()
    me = actions.client.get("/api/v1/me", headers=owner.bearer).json()
    assert me["org_id"] == second["id"] != first["id"]

    page.goto(f"{server.url}/settings/orgs/{first['slug']}")
    page.get_by_label("Email").fill(random_email())
    page.get_by_role("button", name="Create invite").click()
    # No script: no Copy button, and the link is there to select by hand.
    expect(page.locator("#invite-link")).to_contain_text("/settings/orgs/accept?code=")
    expect(page.get_by_role("button", name="Copy link")).to_be_hidden()
    pending = page.locator("table", has_text="Expires")
    expect(pending.locator("tbody tr")).to_have_count(1)
    pending.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("No pending invites.")).to_be_visible()

    # axe runs as a script, so the same session checks the same pages, still
    # phone-sized, with script on: nothing wider than the screen, nothing
    # axe calls serious.
    phone = contexts(viewport=PHONE)
    phone.add_cookies(settable(*page.context.cookies()))
    checked = phone.new_page()
    for path, name in [
        ("/settings/orgs", "settings-orgs-phone"),
        (f"/settings/orgs/{first['slug']}", "settings-org-phone"),
    ]:
        checked.goto(f"{server.url}{path}")
        expect(checked.get_by_role("button", name="Sign out")).to_be_visible()
        assert checked.evaluate(
            "document.documentElement.scrollWidth <= window.innerWidth"
        ), path
        check_page(checked, name)


def test_a_member_sees_no_controls_and_a_forged_form_is_refused(
    contexts: Callable[..., BrowserContext], server: LiveServer, actions: Actions
) -> None:
    owner = actions.person()
    org = actions.make_org(owner)
    admin = actions.org_member(owner, org["slug"], "admin")
    member = actions.org_member(owner, org["slug"], "member")
    admin_id = actions.client.get("/api/v1/me", headers=admin.bearer).json()["id"]

    page = open_signed_in(
        contexts, server, member.username, f"/settings/orgs/{org['slug']}"
    )
    expect(row(page, admin.username)).to_contain_text("admin")
    expect(page.get_by_role("button", name="Create invite")).to_have_count(0)
    expect(page.get_by_role("button", name="Remove")).to_have_count(0)
    expect(page.get_by_role("button", name="Change role")).to_have_count(0)
    expect(page.get_by_role("heading", name="Pending invites")).to_have_count(0)
    expect(page.get_by_role("button", name="Leave organization")).to_be_visible()
    check_page(page, "settings-org-as-member")

    # The member's own session and form token, the server's own origin: the
    # table still says no.
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    assert token
    forged = page.request.post(
        f"{server.url}/settings/orgs/{org['slug']}/members/{admin_id}/remove",
        form={"csrf_token": token},
        headers={"Origin": server.url},
        max_redirects=0,
    )
    assert forged.status == 403
    assert "does not allow members.remove" in forged.text()
    page.set_content(forged.text())
    expect(page.get_by_role("heading", name="Access refused")).to_be_visible()
    members = actions.client.get(
        f"/api/v1/orgs/{org['slug']}/members", headers=owner.bearer
    ).json()["items"]
    assert admin.username in {m["username"] for m in members}


def test_the_last_owner_cannot_leave(
    contexts: Callable[..., BrowserContext], server: LiveServer, actions: Actions
) -> None:
    owner = actions.person()
    org = actions.make_org(owner)
    page = open_signed_in(
        contexts, server, owner.username, f"/settings/orgs/{org['slug']}"
    )
    page.get_by_role("button", name="Leave organization").click()
    alert = page.get_by_role("alert")
    expect(alert).to_have_text(
        "An organization needs an owner: make someone else owner first."
    )
    expect(row(page, owner.username)).to_contain_text("(you)")
    check_page(page, "settings-org-last-owner")

    # Nor demote themselves.
    mine = row(page, owner.username)
    mine.get_by_label(f"Role of {owner.username}").select_option("member")
    mine.get_by_role("button", name="Change role").click()
    expect(page.get_by_role("alert")).to_contain_text("An organization needs an owner")
    mine_now = row(page, owner.username).get_by_label(f"Role of {owner.username}")
    expect(mine_now).to_have_value("owner")


def test_used_expired_and_misdirected_invites_are_refused(
    contexts: Callable[..., BrowserContext], server: LiveServer, actions: Actions
) -> None:
    owner = actions.person()
    org = actions.make_org(owner)
    email = random_email()
    invitee = actions.person(email)

    # Used: accepted once (through the API), the link is spent.
    used = actions.org_invite(owner, org["slug"], email)
    accepted = actions.client.post(
        "/api/v1/org-invites/accept",
        headers=invitee.bearer,
        json={"code": used["code"]},
    )
    assert accepted.status_code == 200, accepted.text
    page = open_signed_in(contexts, server, invitee.username, "/settings/orgs")
    page.goto(used["url"])
    expect(
        page.get_by_role("heading", name="This invite cannot be used")
    ).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text(USED)
    check_page(page, "settings-org-invite-used")

    # Misdirected: another account opens someone else's invite.
    other = actions.org_invite(owner, org["slug"], random_email())
    page.goto(other["url"])
    expect(page.get_by_role("alert")).to_contain_text(
        "Sign in with the account that has that address."
    )
    expect(page.get_by_role("button", name="Accept")).to_have_count(0)
    check_page(page, "settings-org-invite-wrong-account")

    # Expired: a week and a day later (the session is gone too: sign in again).
    later_email = random_email()
    later = actions.person(later_email)
    expiring = actions.org_invite(owner, org["slug"], later_email)
    clock.advance(8 * 24 * 3600)
    fresh = contexts().new_page()
    fresh.goto(expiring["url"])
    sign_in(fresh, later.username)
    fresh.wait_for_url(lambda url: url == expiring["url"])
    expect(fresh.get_by_role("alert")).to_have_text(USED)
    check_page(fresh, "settings-org-invite-expired")
