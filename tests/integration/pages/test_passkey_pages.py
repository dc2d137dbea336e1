"""The passkey pages over plain HTTP, with a software authenticator standing in
for the browser's ceremony (``passkeys.js``; the browser suite runs the real
one): ``/settings/passkeys`` and "Sign in with a passkey" on ``/login``."""

import html
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from authgate.util import clock
from tests.integration.api.test_passkeys import add_passkey, both_factors
from tests.support.actions import PASSWORD, Actions, Login
from tests.support.live import LiveServer
from tests.support.oauth import hidden_fields
from tests.support.pages import (
    MFA_TOKEN,
    OpenPages,
    Pages,
    form_token,
    mfa_form,
    post,
    second_step,
    shown_codes,
    signed_in,
)
from tests.support.webauthn import SoftAuthenticator

pytestmark = pytest.mark.e2e

PATH = "/settings/passkeys"
OPTIONS = re.compile(r'data-options="([^"]+)"')
TICKET = re.compile(r'name="ticket" value="([^"]+)"')


@pytest.fixture
def server(start_server: Callable[..., LiveServer]) -> LiveServer:
    return start_server(url_host="localhost")


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as http:
        yield http


def ceremony(page: httpx.Response) -> tuple[dict[str, Any], str]:
    """The options and ticket a page's WebAuthn form carries."""
    options, ticket = OPTIONS.search(page.text), TICKET.search(page.text)
    assert options, page.text
    assert ticket, page.text
    return json.loads(html.unescape(options[1])), ticket[1]


def add(pages: Pages, device: SoftAuthenticator, name: str = "") -> httpx.Response:
    options, ticket = ceremony(pages.get(PATH))
    credential = device.create(options, origin=pages.server.url)
    return pages.post(
        PATH,
        {"ticket": ticket, "credential": json.dumps(credential), "name": name},
        token=pages.token(PATH),
    )


def sign_in_form(
    http: httpx.Client, device: SoftAuthenticator, origin: str, next_url: str = ""
) -> httpx.Response:
    page = http.get("/login", params={"next": next_url} if next_url else None)
    options, ticket = ceremony(page)
    return post(
        http,
        "/login/passkey",
        form_token(http, "/login"),
        ticket=ticket,
        next=next_url,
        credential=json.dumps(device.get(options, origin=origin)),
    )


def test_the_sign_in_page_offers_a_passkey_with_its_own_script_only(
    server: LiveServer,
) -> None:
    with server.client() as http:
        page = http.get("/login")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert '<script src="/static/passkeys.js" defer></script>' in page.text
    assert page.text.count("<script") == 1  # never inline
    assert 'data-webauthn="get"' in page.text
    assert ">Sign in with a passkey</button>" in page.text
    options, _ticket = ceremony(page)
    assert options["rpId"] == "localhost"
    assert options["allowCredentials"] == []  # any passkey: no username typed


def test_the_script_is_served_from_the_package(server: LiveServer) -> None:
    with server.client() as http:
        script = http.get("/static/passkeys.js")
    assert script.status_code == 200
    assert "navigator.credentials.create" in script.text


def test_add_rename_and_remove_a_passkey(
    actions: Actions, open_pages: OpenPages, server: LiveServer
) -> None:
    login = actions.user()
    pages = open_pages(login, PATH)
    page = pages.get(PATH)
    assert "You have no passkeys yet." in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]

    device = SoftAuthenticator()
    added = add(pages, device, name="Work laptop")
    # The first second factor comes with recovery codes, shown this once.
    assert added.status_code == 200, added.text
    assert "Save these recovery codes now" in added.text
    assert len(shown_codes(added)) == 10
    page = pages.get(PATH)
    assert 'value="Work laptop"' in page.text
    assert "Save these recovery codes now" not in page.text
    [passkey_id] = re.findall(r"/settings/passkeys/(pk_\w+)/rename", page.text)
    # Signed in again with both factors, as a step-up asks once there is one.
    pages = open_pages(both_factors(actions, login, device, server.url), PATH)
    # A second one comes with none: the codes already given stay.
    second = add(pages, SoftAuthenticator(), name="Phone key")
    assert second.status_code == 303, second.text
    assert second.headers["location"] == PATH

    renamed = pages.post(
        f"{PATH}/{passkey_id}/rename", {"name": "Phone"}, token=pages.token(PATH)
    )
    assert renamed.status_code == 303
    assert 'value="Phone"' in pages.get(PATH).text
    for listed in re.findall(
        r"/settings/passkeys/(pk_\w+)/rename", pages.get(PATH).text
    ):
        removed = pages.post(f"{PATH}/{listed}/remove", token=pages.token(PATH))
        assert removed.status_code == 303
    assert "You have no passkeys yet." in pages.get(PATH).text


def test_another_persons_passkey_cannot_be_touched(
    actions: Actions, open_pages: OpenPages
) -> None:
    alice = open_pages(actions.user(), PATH)
    add(alice, SoftAuthenticator(), name="Alice's")
    [passkey_id] = re.findall(
        r"/settings/passkeys/(pk_\w+)/rename", alice.get(PATH).text
    )
    bob = open_pages(actions.user(), PATH)
    for action, data in (("rename", {"name": "Bob's"}), ("remove", {})):
        refused = bob.post(f"{PATH}/{passkey_id}/{action}", data, token=bob.token(PATH))
        assert refused.status_code == 404
        assert "No such passkey." in refused.text
    assert 'value="Alice&#39;s"' in alice.get(PATH).text


def test_adding_without_the_script_says_what_is_needed(
    actions: Actions, open_pages: OpenPages
) -> None:
    pages = open_pages(actions.user(), PATH)
    _options, ticket = ceremony(pages.get(PATH))
    refused = pages.post(
        PATH, {"ticket": ticket, "credential": ""}, token=pages.token(PATH)
    )
    assert refused.status_code == 400
    assert "needs JavaScript" in refused.text


def test_a_bad_answer_is_refused_on_the_page(
    actions: Actions, open_pages: OpenPages
) -> None:
    pages = open_pages(actions.user(), PATH)
    _options, ticket = ceremony(pages.get(PATH))
    refused = pages.post(
        PATH, {"ticket": ticket, "credential": "{not json"}, token=pages.token(PATH)
    )
    assert refused.status_code == 400
    assert 'role="alert"' in refused.text
    assert "Traceback" not in refused.text


def test_the_forms_need_their_token(actions: Actions, open_pages: OpenPages) -> None:
    pages = open_pages(actions.user(), PATH)
    assert pages.post(PATH, {"credential": "{}"}, token="forged").status_code == 403


def test_sign_in_with_a_passkey_and_go_next(
    actions: Actions, open_pages: OpenPages, server: LiveServer
) -> None:
    login = actions.user()
    device = SoftAuthenticator()
    assert add(open_pages(login, PATH), device).status_code == 200  # its codes
    with server.client() as http:
        response = sign_in_form(http, device, server.url, next_url="/settings/sessions")
        assert response.status_code == 303, response.text
        assert response.headers["location"] == "/settings/sessions"
        page = http.get("/settings/sessions")
        assert f"Signed in as <strong>{login.username}</strong>" in page.text


def test_an_unknown_passkey_is_refused_on_the_sign_in_page(server: LiveServer) -> None:
    with server.client() as http:
        response = sign_in_form(http, SoftAuthenticator(), server.url)
    assert response.status_code == 401
    assert "That passkey was not accepted." in response.text
    assert "ag_session" not in response.cookies


def test_pages_say_plainly_when_the_server_has_an_ip_address(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server()
    with server.client() as http:
        login_page = http.get("/login")
        login = Actions(http).user()
        pages = Pages(server, login, PATH)
        try:
            page = pages.get(PATH)
        finally:
            pages.close()
    assert "Sign in with a passkey" not in login_page.text
    assert "script-src 'none'" in login_page.headers["content-security-policy"]
    assert "IP address" in page.text
    assert "script-src 'none'" in page.headers["content-security-policy"]
    assert "<script" not in page.text


def test_the_passkey_sign_in_form_needs_its_token(server: LiveServer) -> None:
    with server.client() as http:
        http.get("/login")
        refused = post(http, "/login/passkey", "forged", ticket="t", credential="{}")
    assert refused.status_code == 403
    assert "ag_session" not in refused.cookies


@pytest.mark.parametrize("path", ["/register", "/forgot"])
def test_other_pages_still_run_no_script(server: LiveServer, path: str) -> None:
    with server.client() as http:
        page = http.get(path)
    assert "script-src 'none'" in page.headers["content-security-policy"]


def test_other_settings_pages_still_run_no_script(
    actions: Actions, open_pages: OpenPages
) -> None:
    pages = open_pages(actions.user(), PATH)
    for path in ("/settings/profile", "/settings/security"):
        page = pages.get(path)
        assert "script-src 'none'" in page.headers["content-security-policy"]


def password_step(
    http: httpx.Client, login: Login, next_url: str = ""
) -> httpx.Response:
    """``/login`` with the right password, for an account with a factor."""
    token = form_token(http, "/login")
    page = post(
        http, "/login", token, username=login.username, password=PASSWORD, next=next_url
    )
    assert page.status_code == 200, page.text
    assert "Two-step sign-in" in page.text
    return page


def passkey_step(
    http: httpx.Client, page: httpx.Response, credential: dict[str, Any]
) -> httpx.Response:
    """The form ``passkeys.js`` posts from ``/login/mfa``."""
    return second_step(http, mfa_form(page), json.dumps(credential), "webauthn")


def mfa_options(page: httpx.Response) -> dict[str, Any]:
    found = OPTIONS.search(page.text)
    assert found, page.text
    options: dict[str, Any] = json.loads(html.unescape(found[1]))
    return options


def test_a_password_then_a_passkey_on_the_second_step_page(
    actions: Actions, server: LiveServer
) -> None:
    login = actions.user()
    device = SoftAuthenticator()
    add_passkey(actions, login, device, server.url)
    with server.client() as http:
        page = password_step(http, login, "/settings/sessions")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert '<script src="/static/passkeys.js" defer></script>' in page.text
        assert 'data-webauthn="get"' in page.text
        assert ">Use a passkey</button>" in page.text
        assert 'name="method" value="totp"' not in page.text  # no app set up
        assert 'name="method" value="recovery_code"' in page.text
        options = mfa_options(page)
        assert [c["id"] for c in options["allowCredentials"]] == [device.id]

        # A wrong answer: the page again, with the same challenge to answer.
        wrong = device.get(options, origin="http://evil.example")
        again = passkey_step(http, page, wrong)
        assert again.status_code == 401
        assert "That passkey was not accepted" in again.text
        assert mfa_options(again)["challenge"] == options["challenge"]
        assert "ag_session" not in http.cookies

        done = passkey_step(http, again, device.get(options, origin=server.url))
        assert done.status_code == 303, done.text
        assert done.headers["location"] == "/settings/sessions"
        assert http.get("/api/v1/me").json()["username"] == login.username


def test_a_broken_answer_on_the_second_step_page_is_400(
    actions: Actions, server: LiveServer
) -> None:
    login = actions.user()
    add_passkey(actions, login, SoftAuthenticator(), server.url)
    with server.client() as http:
        ticket = MFA_TOKEN.search(password_step(http, login).text)
        assert ticket
        refused = http.post(
            "/login/mfa",
            data={
                "csrf_token": form_token(http, "/login"),
                "mfa_token": ticket[1],
                "method": "webauthn",
                "credential": "{not json",
            },
            headers={"Origin": server.url},
        )
    assert refused.status_code == 400
    assert 'role="alert"' in refused.text
    assert 'data-webauthn="get"' in refused.text  # offered again
    assert "Traceback" not in refused.text


def test_a_step_up_takes_the_passkey_as_its_second_step(
    actions: Actions, server: LiveServer
) -> None:
    """A stale session of a person whose factor is a passkey: ``/reauth``
    takes the password, then offers the passkey, which re-authenticates the
    same session and carries on to the page."""
    login = actions.user()
    device = SoftAuthenticator()
    with server.client() as http:
        token = signed_in(actions, http, login)
        options, ticket = ceremony(http.get(PATH))
        added = post(
            http,
            PATH,
            token,
            ticket=ticket,
            credential=json.dumps(device.create(options, origin=server.url)),
        )
        assert added.status_code == 200, added.text  # its recovery codes
        clock.advance(10 * 60 + 1)
        stale = post(http, "/settings/security/recovery-codes", token)
        assert stale.status_code == 303
        location = stale.headers["location"]
        assert location.startswith("/reauth?")
        fields = dict(hidden_fields(http.get(location).text))
        handed = post(
            http, "/reauth", fields.pop("csrf_token"), **fields, password=PASSWORD
        )
        assert handed.status_code == 200, handed.text
        assert 'data-webauthn="get"' in handed.text
        answer = device.get(mfa_options(handed), origin=server.url)
        done = passkey_step(http, handed, answer)
        assert done.status_code == 303, done.text
        assert done.headers["location"] == fields["next"]
        again = post(http, "/settings/security/recovery-codes", token)
        assert again.status_code == 200, again.text
        assert "will not be shown again" in again.text
