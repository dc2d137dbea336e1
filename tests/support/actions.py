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

    def user(self, username: str | None = None) -> Login:
        """A signed-in ordinary user (the admin exists first and invites them)."""
        name = username or random_name()
        response = self.register(name, invite_code=self.invite())
        assert response.status_code == 201, response.text
        return self.login(name)
