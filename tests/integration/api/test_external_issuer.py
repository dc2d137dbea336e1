"""``/api/v1/*`` accepting JWTs from another issuer (``AUTHGATE_API_OAUTH_ISSUER``).

The other issuer is a second Authgate, which is also this one's upstream
sign-in provider: a person who signed in here through it is linked, and the
access tokens it gives them (as it would to a mobile app that signs in with it
directly) work on this API. Its discovery document, JWKS and real signing keys
are used throughout; tokens with chosen claims are signed with its own key.
"""

import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from authgate.app import create_app
from authgate.config import Settings
from authgate.domain.jwt import issue_access_token, issue_id_token
from tests.conftest import FAST_ARGON2, SECRET
from tests.support import db
from tests.support.actions import Actions, Login
from tests.support.asserts import error
from tests.support.live import LiveServer
from tests.support.oauth import Browser
from tests.support.upstream import SignIn

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

#: This Authgate's MCP server: the other issuer may mint tokens for it too.
MCP = "https://mcp.example.com/mcp"
#: An audience the other issuer mints tokens for this API under.
API = "https://api.example.com"


@dataclass
class Issuer:
    """The second Authgate: its server, an account there, and the client this
    Authgate signs in through."""

    server: LiveServer
    actions: Actions
    person: Login
    client_id: str
    client_secret: str

    @property
    def url(self) -> str:
        return self.server.url

    def mint(self, subject: str, **overrides: Any) -> str:
        """A token signed with its real current key, with chosen claims."""
        values: dict[str, Any] = {
            "issuer": self.url,
            "subject": subject,
            "audience": self.url,
            "client_id": "mobile-app",
            "scope": "read write",
            "ttl": timedelta(minutes=5),
            **overrides,
        }
        ring = self.server.app.state.services.keys.ring
        return issue_access_token(ring, **values).token

    def settings_for_downstream(self, **extra: Any) -> dict[str, Any]:
        return {
            "oidc_issuer_url": self.url,
            "oidc_client_id": self.client_id,
            "oidc_client_secret": self.client_secret,
            "api_oauth_issuer": self.url,
            "mcp_resource_uri": MCP,
            "rate_limit_enabled": False,
            **extra,
        }


@pytest.fixture
def issuer(tmp_path: Path, sqlite_template: Path) -> Iterator[Issuer]:
    database = tmp_path / "issuer" / "authgate.db"
    database.parent.mkdir()
    shutil.copy(sqlite_template, database)

    def make_app(url: str) -> Any:
        settings = Settings(
            _env_file=None,
            data_dir=database.parent / "data",
            database_url=f"sqlite+aiosqlite:///{database}",
            secret_key=SECRET,
            public_url=url,
            extra_resources=[MCP, API],
            rate_limit_enabled=False,
            **FAST_ARGON2,
        )
        return create_app(settings, migrate=False)

    server = LiveServer(make_app).start()
    try:
        with server.client() as http:
            actions = Actions(http)
            client = actions.make_client(
                # A loopback redirect URI matches on any port (RFC 8252).
                redirect_uris=["http://127.0.0.1/auth/callback"]
            )
            yield Issuer(
                server,
                actions,
                actions.user(),
                client["client_id"],
                client["client_secret"],
            )
    finally:
        server.stop()


@pytest.fixture
def downstream(
    start_server: Callable[..., LiveServer], issuer: Issuer
) -> Callable[..., LiveServer]:
    def start(**extra: Any) -> LiveServer:
        return start_server(**issuer.settings_for_downstream(**extra))

    return start


def link(server: LiveServer, issuer: Issuer) -> dict[str, Any]:
    """The person signs in here through the issuer (its consent approved),
    which links their subject there to an account here; that account."""
    with server.client() as http, Browser(issuer.url, issuer.person) as browser:
        sign_in = SignIn(http)
        back = browser.authorize(sign_in.start())
        assert sign_in.finish(back).status_code == 303
        me = http.get("/api/v1/me")
    assert me.status_code == 200, me.text
    return dict(me.json())


def subject_of(login: Login) -> str:
    """The subject of the person's tokens at the issuer (their user id there)."""
    return str(
        jwt.decode(login.access_token, options={"verify_signature": False})["sub"]
    )


def me(server: LiveServer, token: str) -> httpx.Response:
    return httpx.get(
        f"{server.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}
    )


def refused(response: httpx.Response) -> None:
    error(response, 401, "invalid_token")


def test_the_issuers_token_acts_as_the_linked_account(
    downstream: Callable[..., LiveServer], issuer: Issuer
) -> None:
    server = downstream()
    account = link(server, issuer)
    # What the person's mobile app holds after signing in at the issuer.
    answer = me(server, issuer.person.access_token)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["id"] == account["id"]
    assert body["username"] == account["username"]
    assert body["auth"]["kind"] == "jwt"


def test_an_unknown_subject_is_refused_and_no_account_made(
    downstream: Callable[..., LiveServer], issuer: Issuer, database_url: str
) -> None:
    server = downstream()
    stranger = issuer.actions.user()  # has an account at the issuer only
    # Not even as the first account, which a sign-in would make an admin.
    refused(me(server, stranger.access_token))
    assert db.count_users(database_url) == 0
    link(server, issuer)
    refused(me(server, stranger.access_token))
    assert db.count_users(database_url) == 1


def test_an_unknown_subject_signs_up_when_registration_is_open(
    downstream: Callable[..., LiveServer], issuer: Issuer, database_url: str
) -> None:
    server = downstream(allow_registration=True)
    users = db.count_users(database_url)
    first = me(server, issuer.person.access_token)
    assert first.status_code == 200, first.text
    assert db.count_users(database_url) == users + 1
    # The new account is linked: the next token is the same person.
    again = me(server, issuer.mint(subject_of(issuer.person)))
    assert again.status_code == 200, again.text
    assert again.json()["id"] == first.json()["id"]
    assert db.count_users(database_url) == users + 1


def test_a_token_for_the_mcp_server_is_refused(
    downstream: Callable[..., LiveServer], issuer: Issuer
) -> None:
    server = downstream()
    link(server, issuer)
    subject = subject_of(issuer.person)
    refused(me(server, issuer.mint(subject, audience=MCP)))
    refused(me(server, issuer.mint(subject, audience=[issuer.url, MCP])))
    assert me(server, issuer.mint(subject)).status_code == 200


def test_expired_and_not_yet_valid_tokens(
    downstream: Callable[..., LiveServer], issuer: Issuer
) -> None:
    server = downstream()
    link(server, issuer)
    subject = subject_of(issuer.person)
    refused(me(server, issuer.mint(subject, ttl=timedelta(seconds=-5))))
    later = int(time.time()) + 600
    refused(me(server, issuer.mint(subject, extra={"nbf": later})))


def test_a_token_signed_with_another_key_is_refused(
    downstream: Callable[..., LiveServer], issuer: Issuer
) -> None:
    server = downstream()
    link(server, issuer)
    subject = subject_of(issuer.person)
    # Claims naming the issuer, signed by this Authgate's own key instead.
    forged = issue_access_token(
        server.app.state.services.keys.ring,
        issuer=issuer.url,
        subject=subject,
        audience=issuer.url,
        client_id="mobile-app",
        scope="read",
        ttl=timedelta(minutes=5),
    ).token
    refused(me(server, forged))


def test_an_audience_list_admits_only_its_audiences(
    downstream: Callable[..., LiveServer], issuer: Issuer
) -> None:
    server = downstream(api_oauth_audiences=[API])
    link(server, issuer)
    subject = subject_of(issuer.person)
    refused(me(server, issuer.person.access_token))  # for the issuer's own API
    assert me(server, issuer.mint(subject, audience=API)).status_code == 200
    assert me(server, issuer.mint(subject, audience=[API, "x"])).status_code == 200


def id_token(issuer: Issuer, subject: str, **extra: Any) -> str:
    """An ID token the issuer would give another app that signs people in."""
    values: dict[str, Any] = {
        "issuer": issuer.url,
        "subject": subject,
        "client_id": "another-app",
        "ttl": timedelta(minutes=5),
        **extra,
    }
    ring = issuer.server.app.state.services.keys.ring
    return issue_id_token(ring, **values)


def test_id_tokens_are_refused(
    downstream: Callable[..., LiveServer], issuer: Issuer
) -> None:
    server = downstream()
    link(server, issuer)
    subject = subject_of(issuer.person)
    refused(me(server, id_token(issuer, subject, nonce="n-1")))
    # Typed JWT, not at+jwt: with no audiences set, another app's token.
    refused(me(server, id_token(issuer, subject)))
    # ID-token claims in an at+jwt token.
    for claim in ("nonce", "at_hash", "c_hash"):
        refused(me(server, issuer.mint(subject, extra={claim: "x"})))
    assert me(server, issuer.mint(subject)).status_code == 200


def test_with_audiences_a_jwt_typed_token_passes_but_no_id_token(
    downstream: Callable[..., LiveServer], issuer: Issuer
) -> None:
    server = downstream(api_oauth_audiences=[API])
    link(server, issuer)
    subject = subject_of(issuer.person)
    # An issuer that types its access tokens "JWT" (most do).
    assert me(server, id_token(issuer, subject, client_id=API)).status_code == 200
    refused(me(server, id_token(issuer, subject, client_id=API, nonce="n-1")))
    refused(me(server, id_token(issuer, subject, client_id=API, access_token="at")))
    refused(me(server, id_token(issuer, subject, claims={"c_hash": "x"})))


def test_an_external_token_is_never_an_administrators(
    downstream: Callable[..., LiveServer], issuer: Issuer
) -> None:
    server = downstream()
    account = link(server, issuer)
    assert account["is_admin"]  # the first account here
    subject = subject_of(issuer.person)
    for scope in ("read write", "read write admin"):
        answer = httpx.get(
            f"{server.url}/api/v1/admin/users",
            headers={"Authorization": f"Bearer {issuer.mint(subject, scope=scope)}"},
        )
        error(answer, 403, "forbidden")
