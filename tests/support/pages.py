"""The server-rendered forms driven over plain HTTP, as a browser would:
cookies in the client's jar, the form token read from a page, and the
``Origin`` header a browser sends with a form post (or a forged one).

:class:`Pages` is one signed-in account; the functions take any client,
signed out (``/register``, ``/forgot``) or signed in with :func:`signed_in`."""

import html
import re
from collections.abc import Callable

import httpx

from tests.support.actions import Actions, Login
from tests.support.live import LiveServer

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
MFA_TOKEN = re.compile(r'name="mfa_token" value="([^"]+)"')
_SECRET = re.compile(r'<code class="secret" id="totp-secret">([A-Z2-7]+)</code>')
_CODES = re.compile(r'<pre class="secret" id="recovery-codes">([^<]+)</pre>')


def form_token(http: httpx.Client, path: str) -> str:
    """The CSRF token in the first form of the page at ``path``."""
    page = http.get(path)
    assert page.status_code == 200, page.text
    match = CSRF.search(page.text)
    assert match, page.text
    return match[1]


def post(
    http: httpx.Client, path: str, token: str | None, **data: object
) -> httpx.Response:
    """A same-origin form post (no token field when ``token`` is ``None``)."""
    fields = {**data, **({"csrf_token": token} if token is not None else {})}
    return http.post(
        path, data=fields, headers={"Origin": str(http.base_url).rstrip("/")}
    )


def shown_secret(page: httpx.Response) -> str:
    """The authenticator-app key a page shows to set up."""
    found = _SECRET.search(page.text)
    assert found, page.text
    return found[1]


def shown_codes(page: httpx.Response) -> list[str]:
    """The recovery codes a page shows once."""
    found = _CODES.search(page.text)
    assert found, page.text
    return found[1].split()


def mfa_form(page: httpx.Response) -> dict[str, str]:
    """The hidden fields of a second-step page's form (``/login/mfa``)."""
    token, ticket = CSRF.search(page.text), MFA_TOKEN.search(page.text)
    next_url = re.search(r'name="next" value="([^"]*)"', page.text)
    assert token, page.text
    assert ticket, page.text
    assert next_url, page.text
    return {
        "csrf_token": token[1],
        "mfa_token": ticket[1],
        "next": html.unescape(next_url[1]),
    }


def second_step(
    http: httpx.Client,
    form: dict[str, str],
    proof: str,
    method: str = "totp",
) -> httpx.Response:
    """Post ``form`` (:func:`mfa_form`) with ``proof``: a code, or for
    ``webauthn`` the assertion as JSON."""
    field = "credential" if method == "webauthn" else "code"
    return post(http, "/login/mfa", None, **form, method=method, **{field: proof})


def signed_in(actions: Actions, http: httpx.Client, login: Login | None = None) -> str:
    """Sign ``http`` in (as a new ordinary user unless ``login`` is given),
    through the API like a browser's cookies would be; its page form token."""
    who = login or actions.user()
    http.cookies.update(who.cookies)
    return str(who.body["csrf_token"])


class Pages:
    def __init__(self, server: LiveServer, login: Login, home: str) -> None:
        assert "ag_session" in login.cookies
        self.server = server
        self.http = server.client(cookies=login.cookies)
        #: The page whose form token :meth:`post` sends when given none.
        self.home = home

    def get(self, path: str, **params: str) -> httpx.Response:
        return self.http.get(path, params=params or None)

    def token(self, path: str | None = None) -> str:
        return form_token(self.http, path or self.home)

    def post(
        self,
        path: str,
        data: dict[str, str] | None = None,
        *,
        token: str | None = None,
        origin: str | None = None,
    ) -> httpx.Response:
        form = {"csrf_token": self.token() if token is None else token, **(data or {})}
        return self.http.post(
            path, data=form, headers={"Origin": origin or self.server.url}
        )

    def close(self) -> None:
        self.http.close()


#: The ``open_pages`` fixture of the page suites: :class:`Pages` for a login
#: and its home page.
OpenPages = Callable[[Login, str], Pages]
