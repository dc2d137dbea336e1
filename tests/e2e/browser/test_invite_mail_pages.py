"""Invites by email in a real browser (Debian's headless Chromium): the link
an org invite's message carries, followed with JavaScript off (the pages need
none), registers an account with the invited address already verified and
makes it a member; an instance invite's link opens the register page with its
code filled in; another account opening an org invite is told which address
it is for. Every page goes through axe (a script, so in a browser with
scripts on) and, on demand, a screenshot.

The rules in detail (the proof, the code alone, no address, no mail) are
covered cheaper without a browser in tests/integration/pages/test_invite_mail.py.
"""

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.support import mailbox
from tests.support.actions import PASSWORD, Actions, random_email, random_name
from tests.support.browser import MARKS, check_page, open_signed_in
from tests.support.live import LiveServer

pytestmark = MARKS


@pytest.fixture
def server(start_server: Callable[..., LiveServer]) -> LiveServer:
    """Org invites may create accounts here."""
    return start_server(org_invites_create_accounts=True)


@pytest.fixture
def actions(server: LiveServer) -> Iterator[Actions]:
    with server.client() as http:
        yield Actions(http)


def test_an_org_invites_link_registers_a_verified_member_without_javascript(
    server: LiveServer,
    actions: Actions,
    contexts: Callable[..., BrowserContext],
) -> None:
    owner = actions.user()
    org = actions.make_org(owner)
    email = random_email()
    actions.org_invite(owner, org["slug"], email, "viewer")
    message = mailbox.last(server, email, "org_invite")

    reader = contexts(java_script_enabled=False).new_page()
    reader.goto(message.values["register_link"])
    expect(reader.get_by_role("heading", name="Create an account")).to_be_visible()
    name = random_name()
    reader.get_by_label("Username").fill(name)
    reader.get_by_label("Password").fill(PASSWORD)
    reader.get_by_role("button", name="Create account").click()
    reader.wait_for_url(f"{server.url}/settings/profile")
    expect(reader.get_by_text(email, exact=True)).to_be_visible()
    expect(reader.get_by_text("(verified)")).to_be_visible()
    reader.goto(f"{server.url}/settings/orgs")
    expect(reader.get_by_role("link", name=org["name"])).to_be_visible()


def test_the_pages_are_accessible(
    server: LiveServer,
    actions: Actions,
    contexts: Callable[..., BrowserContext],
) -> None:
    email = random_email()
    created = actions.client.post(
        "/api/v1/admin/invites", headers=actions.admin().bearer, json={"email": email}
    )
    assert created.status_code == 201, created.text
    link = mailbox.last(server, email, "invite").values["link"]
    page = contexts().new_page()
    page.goto(link)
    expect(page.get_by_label("Invite code")).to_have_value(created.json()["code"])
    check_page(page, "register-invited")

    owner = actions.user()
    org = actions.make_org(owner)
    address = random_email()
    actions.org_invite(owner, org["slug"], address)
    other = actions.person()
    invited = mailbox.last(server, address, "org_invite")
    page = open_signed_in(contexts, server, other.username, "/settings/orgs")
    page.goto(invited.values["link"])
    expect(page.get_by_role("alert")).to_contain_text(
        f"This invite was sent to {invited.to[0]}•••@"
    )
    check_page(page, "settings-org-invite-other-address")
