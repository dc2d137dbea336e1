"""Invites by email over HTTP: an invite given an address mails a link, the
link registers (or accepts) with the address verified on the spot, and an
account whose verified address is another one is refused."""

import html
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support import mailbox
from tests.support.actions import PASSWORD, Actions, random_email, random_name
from tests.support.asserts import error
from tests.support.live import LiveServer
from tests.support.pages import CSRF, form_token, post, signed_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def browser(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as http:
        yield http


def local(link: str) -> str:
    """The path and query of a mailed link (on the live server's address)."""
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def me(http: httpx.Client, headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = http.get("/api/v1/me", headers=headers or {})
    assert response.status_code == 200, response.text
    return dict(response.json())


def register_through(http: httpx.Client, link: str, **fields: str) -> httpx.Response:
    """Open a mailed register link and send its form as it comes, filled in."""
    page = http.get(local(link))
    assert page.status_code == 200, page.text
    values = dict(parse_qs(urlsplit(link).query))
    assert f'value="{values["invite"][0]}"' in page.text
    assert f'name="invite_proof" value="{values["proof"][0]}"' in page.text
    token = CSRF.search(page.text)
    assert token, page.text
    return post(
        http,
        "/register",
        token[1],
        username=fields.get("username", random_name()),
        password=PASSWORD,
        email=fields.get("email", ""),
        invite_code=values["invite"][0],
        invite_proof=values["proof"][0],
    )


def admin_invite(actions: Actions, **body: Any) -> dict[str, Any]:
    response = actions.client.post(
        "/api/v1/admin/invites", headers=actions.admin().bearer, json=body
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_an_admin_invite_mails_a_link_that_registers_verified(
    server: LiveServer, actions: Actions, browser: httpx.Client
) -> None:
    email = random_email()
    created = admin_invite(actions, email=email, expires_in_days=3)
    message = mailbox.last(server, email, "invite")
    assert message.values["inviter"] == actions.admin().username
    assert created["code"] in message.values["link"]
    assert message.values["expires"]
    listed = actions.client.get(
        "/api/v1/admin/invites", headers=actions.admin().bearer
    ).json()["items"]
    assert {i["id"]: i["email"] for i in listed}[created["id"]] == email
    done = register_through(browser, message.values["link"])
    assert done.status_code == 303, done.text
    profile = me(browser)
    assert (profile["email"], profile["email_verified"]) == (email, True)
    # Verified already: no verification link follows.
    assert [m.template for m in mailbox.messages(server, email)] == ["invite"]


def test_the_code_alone_leaves_the_address_to_verify(
    server: LiveServer, actions: Actions
) -> None:
    """Whoever made the invite holds the code too: it proves no address."""
    email = random_email()
    code = admin_invite(actions, email=email)["code"]
    name = random_name()
    stranger = actions.register(name, invite_code=code, email=random_email())
    body = error(stranger, 403, "forbidden")
    assert body["error_description"].startswith(
        f"This invite was sent to {email[0]}•••@"
    )
    assert actions.register(name, invite_code=code).status_code == 201
    profile = me(actions.client, actions.login(name).bearer)
    assert (profile["email"], profile["email_verified"]) == (email, False)
    mailbox.last(server, email, "verify_email")
    # A proof from another invite's message proves nothing for this one.
    other_email, next_email = random_email(), random_email()
    admin_invite(actions, email=other_email)
    other_link = mailbox.last(server, other_email, "invite").values["link"]
    [proof] = parse_qs(urlsplit(other_link).query)["proof"]
    next_code = admin_invite(actions, email=next_email)["code"]
    name = random_name()
    response = actions.register(name, invite_code=next_code, invite_proof=proof)
    assert response.status_code == 201, response.text
    profile = me(actions.client, actions.login(name).bearer)
    assert (profile["email"], profile["email_verified"]) == (next_email, False)


def test_an_invite_without_an_address_mails_nothing(
    server: LiveServer, actions: Actions
) -> None:
    before = len(mailbox.messages(server))
    admin_invite(actions)
    admin_invite(actions, expires_in_days=2)
    assert len(mailbox.messages(server)) == before


def test_the_admin_console_mails_an_invite(
    server: LiveServer, actions: Actions, browser: httpx.Client
) -> None:
    signed_in(actions, browser, actions.admin())
    email = random_email()
    token = form_token(browser, "/admin/invites")
    shown = post(browser, "/admin/invites", token, email=email, expires_in_days="")
    assert shown.status_code == 200, shown.text
    assert f"was mailed to <strong>{email}</strong>" in shown.text
    mailbox.last(server, email, "invite")
    bad = post(browser, "/admin/invites", token, email="not an address")
    assert bad.status_code == 400
    assert "Email address is not valid." in bad.text


def test_an_org_invite_mails_its_accept_page(
    server: LiveServer, actions: Actions, browser: httpx.Client
) -> None:
    owner = actions.user()
    org = actions.make_org(owner)
    email = random_email()
    actions.org_invite(owner, org["slug"], email, "admin")
    message = mailbox.last(server, email, "org_invite")
    assert message.values["org"] == org["name"]
    assert message.values["register_link"] == ""  # no account made here
    holder = actions.person(email)
    signed_in(actions, browser, holder)
    page = browser.get(local(message.values["link"]))
    assert page.status_code == 200, page.text
    token = CSRF.findall(page.text)[-1]
    [code] = parse_qs(urlsplit(message.values["link"]).query)["code"]
    joined = post(browser, "/settings/orgs/accept", token, code=code, decision="accept")
    assert joined.status_code == 303, joined.text
    assert joined.headers["location"] == f"/settings/orgs/{org['slug']}"


def test_an_unverified_address_is_told_to_verify_first(
    server: LiveServer, actions: Actions, browser: httpx.Client
) -> None:
    owner = actions.user()
    org = actions.make_org(owner)
    email = random_email()
    holder = actions.user(email=email)  # registered, link not followed
    actions.org_invite(owner, org["slug"], email)
    link = mailbox.last(server, email, "org_invite").values["link"]
    signed_in(actions, browser, holder)
    page = browser.get(local(link))
    assert page.status_code == 403
    shown = html.unescape(page.text)
    assert f"This invite was sent to {email[0]}•••@" in shown
    assert "verify that address first" in shown
    # Once verified, the same link works.
    mailbox.verify(server, actions.client, email)
    assert browser.get(local(link)).status_code == 200


@pytest.fixture
def accounts_server(start_server: Callable[..., LiveServer]) -> LiveServer:
    return start_server(org_invites_create_accounts=True)


def test_an_org_invite_may_register_the_address_verified(
    accounts_server: LiveServer,
) -> None:
    with accounts_server.client() as http, accounts_server.client() as browser:
        actions = Actions(http)
        owner = actions.user()
        org = actions.make_org(owner)
        email = random_email()
        actions.org_invite(owner, org["slug"], email, "viewer")
        message = mailbox.last(accounts_server, email, "org_invite")
        done = register_through(browser, message.values["register_link"])
        assert done.status_code == 303, done.text
        profile = me(browser)
        assert (profile["email"], profile["email_verified"]) == (email, True)
        orgs = browser.get("/api/v1/orgs").json()["items"]
        assert [(o["slug"], o["role"]) for o in orgs] == [(org["slug"], "viewer")]


def test_the_org_page_mails_an_invite(
    server: LiveServer, actions: Actions, browser: httpx.Client
) -> None:
    owner = actions.user()
    org = actions.make_org(owner)
    signed_in(actions, browser, owner)
    page = f"/settings/orgs/{org['slug']}"
    email = random_email()
    shown = post(
        browser,
        f"{page}/invites",
        form_token(browser, page),
        email=email,
        role="member",
    )
    assert shown.status_code == 200, shown.text
    assert "We mailed them a link" in shown.text
    message = mailbox.last(server, email, "org_invite")
    assert message.values["inviter"] == owner.username
