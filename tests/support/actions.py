"""What tests do over and over, through the public HTTP API (flask's AuthActions)."""

import secrets
from dataclasses import dataclass, field
from typing import Any

import httpx

PASSWORD = "correct horse battery staple"


def random_name(prefix: str = "user") -> str:
    return f"{prefix}{secrets.token_hex(4)}"


def random_email() -> str:
    return f"{random_name()}@example.com"


@dataclass
class Login:
    username: str
    access_token: str
    refresh_token: str
    body: dict[str, Any]
    cookies: httpx.Cookies = field(default_factory=httpx.Cookies)

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


class Actions:
    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self._admin: Login | None = None

    def register(
        self, username: str | None = None, password: str = PASSWORD, **extra: Any
    ) -> httpx.Response:
        return self.client.post(
            "/api/v1/auth/register",
            json={"username": username or random_name(), "password": password, **extra},
        )

    def login(self, username: str, password: str = PASSWORD) -> Login:
        response = self.client.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        return Login(
            username,
            body["access_token"],
            body["refresh_token"],
            body,
            response.cookies,
        )

    def admin(self) -> Login:
        """The instance's first user (admin), created on first use."""
        if self._admin is None:
            name = random_name("admin")
            assert self.register(name).status_code == 201
            self._admin = self.login(name)
        return self._admin

    def invite(self) -> str:
        response = self.client.post(
            "/api/v1/admin/invites", headers=self.admin().bearer, json={}
        )
        assert response.status_code == 201, response.text
        return str(response.json()["code"])

    def user(self, username: str | None = None, *, email: str | None = None) -> Login:
        """A signed-in ordinary user (the admin exists first and invites them)."""
        name = username or random_name()
        extra = {"email": email} if email else {}
        response = self.register(name, invite_code=self.invite(), **extra)
        assert response.status_code == 201, response.text
        return self.login(name)

    def person(self, email: str | None = None, *, username: str | None = None) -> Login:
        """A signed-in ordinary user with a verified email address (an org
        invite is answered only with one): ``email``, or
        ``{username}@example.com``. The admin makes the account, vouching for
        the address."""
        name = username or random_name()
        response = self.client.post(
            "/api/v1/admin/users",
            headers=self.admin().bearer,
            json={
                "username": name,
                "password": PASSWORD,
                "email": email or f"{name}@example.com",
                "email_verified": True,
            },
        )
        assert response.status_code == 201, response.text
        return self.login(name)

    @staticmethod
    def bearer(token: str) -> dict[str, str]:
        """``Authorization: Bearer`` headers for any token (JWT, PAT, API key)."""
        return {"Authorization": f"Bearer {token}"}

    def make_pat(self, login: Login, **body: Any) -> dict[str, Any]:
        """A new personal access token of ``login``'s user: the creation
        response, the secret (``token``) included."""
        response = self.client.post(
            "/api/v1/access-tokens",
            headers=login.bearer,
            json={"name": random_name("pat"), "expires_in_days": 30, **body},
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    def make_key(self, login: Login, **body: Any) -> dict[str, Any]:
        """A new API key of ``login``'s user (``permission`` defaults to read):
        the creation response, the secret (``token``) included."""
        response = self.client.post(
            "/api/v1/api-keys",
            headers=login.bearer,
            json={"name": random_name("key"), **body},
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    def make_org(
        self, login: Login, name: str | None = None, **body: Any
    ) -> dict[str, Any]:
        """A new organization with ``login``'s user as owner: the creation
        response (``id``, ``slug``, ``name``, ``role``)."""
        response = self.client.post(
            "/api/v1/orgs",
            headers=login.bearer,
            json={"name": name or random_name("Org "), **body},
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    def org_invite(
        self, login: Login, org: str, email: str, role: str = "member"
    ) -> dict[str, Any]:
        """An invite into ``org`` (id or slug) for ``email`` as ``role``: the
        creation response (``id``, ``code``, ``url``, ``expires_at``)."""
        response = self.client.post(
            f"/api/v1/orgs/{org}/invites",
            headers=login.bearer,
            json={"email": email, "role": role},
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    def org_member(self, inviter: Login, org: str, role: str = "member") -> Login:
        """A new signed-in account that joined ``org`` as ``role``: ``inviter``
        invites a fresh address, whose account (made by the admin with that
        address verified: an org invite makes none on an invite-only instance)
        accepts it."""
        name = random_name()
        email = f"{name}@example.com"
        invite = self.org_invite(inviter, org, email, role)
        joiner = self.person(email, username=name)
        response = self.client.post(
            "/api/v1/org-invites/accept",
            headers=joiner.bearer,
            json={"code": invite["code"]},
        )
        assert response.status_code == 200, response.text
        return self.login(joiner.username)

    def make_client(self, **body: Any) -> dict[str, Any]:
        """A new OAuth client registered by the instance admin through
        ``/api/v1/admin/clients``: the creation response (``client_id``, and
        ``client_secret`` for a confidential client)."""
        response = self.client.post(
            "/api/v1/admin/clients",
            headers=self.admin().bearer,
            json={"name": random_name("client"), **body},
        )
        assert response.status_code == 201, response.text
        return dict(response.json())
