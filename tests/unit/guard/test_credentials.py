import pytest

from authgate.guard import Credential, extract

JWT = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln"
KEY = "ag_key_" + "k" * 49
SESSION = "ag_ses_" + "s" * 49
QUERY = "ag_key_" + "q" * 49


def run(
    headers: dict[str, str],
    query: str = "",
    *,
    cookie_name: str | None = "ag_session",
    allow_query: bool = False,
) -> Credential | None:
    raw = [(k.lower().encode(), v.encode("latin-1")) for k, v in headers.items()]
    return extract(
        raw, query.encode(), cookie_name=cookie_name, allow_query=allow_query
    )


ALL = {
    "Authorization": f"Bearer {JWT}",
    "X-API-Key": KEY,
    "Cookie": f"other=1; ag_session={SESSION}",
}


def test_bearer_comes_first() -> None:
    assert run(ALL, f"api_key={QUERY}", allow_query=True) == Credential(JWT, "bearer")


def test_then_the_api_key_header() -> None:
    headers = {k: v for k, v in ALL.items() if k != "Authorization"}
    assert run(headers, f"api_key={QUERY}", allow_query=True) == Credential(
        KEY, "header"
    )


def test_then_the_cookie() -> None:
    headers = {"Cookie": ALL["Cookie"]}
    assert run(headers, f"api_key={QUERY}", allow_query=True) == Credential(
        SESSION, "cookie"
    )


def test_then_the_query_when_allowed() -> None:
    assert run({}, f"x=1&api_key={QUERY}", allow_query=True) == Credential(
        QUERY, "query"
    )


def test_query_ignored_unless_allowed() -> None:
    assert run({}, f"api_key={QUERY}") is None


def test_nothing() -> None:
    assert run({}) is None


def test_header_names_are_case_insensitive() -> None:
    raw = [(b"AUTHORIZATION", f"Bearer {JWT}".encode())]
    found = extract(raw, b"", cookie_name=None, allow_query=False)
    assert found == Credential(JWT, "bearer")
    raw = [(b"X-Api-Key", KEY.encode())]
    found = extract(raw, b"", cookie_name=None, allow_query=False)
    assert found == Credential(KEY, "header")


def test_bearer_scheme_is_case_insensitive_and_trimmed() -> None:
    assert run({"Authorization": f"bearer   {JWT}  "}) == Credential(JWT, "bearer")


@pytest.mark.parametrize(
    "authorization", ["Basic dXNlcjpwdw==", "Bearer", "Bearer    ", f"Token {JWT}"]
)
def test_other_authorization_falls_through(authorization: str) -> None:
    found = run({"Authorization": authorization, "X-API-Key": KEY})
    assert found == Credential(KEY, "header")


def test_blank_api_key_header_falls_through() -> None:
    found = run({"X-API-Key": "   ", "Cookie": f"ag_session={SESSION}"})
    assert found == Credential(SESSION, "cookie")


def test_cookie_needs_the_configured_name() -> None:
    assert run({"Cookie": f"ag_session={SESSION}"}, cookie_name=None) is None
    assert run({"Cookie": f"ag_sessionx={SESSION}"}) is None
    assert run({"Cookie": "ag_session="}) is None
    assert run({"Cookie": f'ag_session="{SESSION}"'}) == Credential(SESSION, "cookie")


def test_query_needs_a_value_and_the_exact_name() -> None:
    assert run({}, "api_key=", allow_query=True) is None
    assert run({}, f"apikey={QUERY}", allow_query=True) is None


def test_is_jwt() -> None:
    assert Credential(JWT, "bearer").is_jwt
    assert not Credential(KEY, "bearer").is_jwt
