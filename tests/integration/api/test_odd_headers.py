"""Headers no client sends but an attacker can: non-ASCII bytes and huge
values in every header a credential or a context is read from. Each gets a
refusal with the error shape, never a 5xx."""

import httpx
import pytest

from tests.support.actions import Actions, Login
from tests.support.live import LiveServer

ODD = [
    "é".encode(),
    b"\xff\xfe",
    "😀".encode(),
    b"x" * 7000,
    b"ag_pat_" + "é".encode() * 40,
    b"Bearer " + "é".encode(),
    b"Bearer " + b"\xff" * 50,
    b"Bearer " + b"e" * 6000,
    b"Bearer eyJ\xc3\xa9.eyJ\xc3\xa9.sig",
]


@pytest.fixture
def admin(actions: Actions) -> Login:
    return actions.admin()


def refusal(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert set(response.json()) == {"error", "error_description"}, response.text


def test_a_non_ascii_csrf_token_is_refused(server: LiveServer, admin: Login) -> None:
    with server.client(headers={"Origin": server.url}) as http:
        http.cookies.set("ag_session", admin.cookies["ag_session"])
        for value in ODD:
            answer = http.post(
                "/api/v1/admin/invites", json={}, headers={b"X-CSRF-Token": value}
            )
            assert answer.status_code == 403, answer.text
            refusal(answer)


@pytest.mark.parametrize(
    "header", ["Authorization", "X-API-Key", "X-Organization-Id", "Cookie"]
)
def test_odd_credential_and_context_headers(
    server: LiveServer, admin: Login, header: str
) -> None:
    with server.client() as http:
        for value in ODD:
            for path in ("/api/v1/me", "/api/v1/orgs"):
                headers = {header.encode(): value}
                if header == "Cookie":
                    headers[b"Cookie"] = b"ag_session=" + value.replace(b" ", b"")
                if header == "X-Organization-Id":
                    headers[b"Authorization"] = admin.bearer["Authorization"].encode()
                refusal(http.get(path, headers=headers))
            posted = http.post(
                "/api/v1/access-tokens", json={}, headers={header.encode(): value}
            )
            refusal(posted)
