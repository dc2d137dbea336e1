import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any, get_args

import pytest
from pydantic import SecretStr, ValidationError

from authgate.config import SettingFileError, Settings, file_settings
from authgate.util.loopback import is_loopback

SECRET = "x" * 32


pytestmark = pytest.mark.usefixtures("clean_environment")


def make(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


def test_defaults() -> None:
    settings = make()
    assert settings.host == "127.0.0.1"
    assert settings.port == 8000
    assert settings.issuer == "http://127.0.0.1:8000"
    assert settings.jwt_expiry == timedelta(minutes=15)
    assert settings.refresh_token_expiry == timedelta(days=7)
    assert settings.token_prefix == "ag"
    # OWASP's argon2id minimum: m=19 MiB, t=2, p=1 (Password Storage Cheat Sheet)
    assert settings.argon2_memory_kib == 19456
    assert settings.argon2_time_cost == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15m", timedelta(minutes=15)),
        ("7d", timedelta(days=7)),
        ("900", timedelta(seconds=900)),
        (900, timedelta(seconds=900)),
        ("1h30m", timedelta(minutes=90)),
    ],
)
def test_durations(text: int | str, expected: timedelta) -> None:
    assert make(jwt_expiry=text).jwt_expiry == expected


def test_durations_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTHGATE_JWT_EXPIRY", "5m")
    monkeypatch.setenv("AUTHGATE_REFRESH_TOKEN_EXPIRY", "30d")
    settings = make()
    assert settings.jwt_expiry == timedelta(minutes=5)
    assert settings.refresh_token_expiry == timedelta(days=30)


def test_bad_duration_is_refused() -> None:
    with pytest.raises(ValidationError, match="not a duration"):
        make(jwt_expiry="15 minutes")


def test_durations_serialise_back_to_text() -> None:
    dumped = make(jwt_expiry="900").model_dump(mode="json")
    assert dumped["jwt_expiry"] == "15m"


def test_short_secret_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least 32 characters"):
        make(secret_key="x" * 31)
    secret_key = make(secret_key=SECRET).secret_key
    assert secret_key is not None
    assert secret_key.get_secret_value() == SECRET


def test_secret_key_is_not_shown() -> None:
    settings = make(secret_key=SECRET)
    assert SECRET not in repr(settings)
    assert SECRET not in str(settings.model_dump())


ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - only ever refused here


@pytest.mark.parametrize("host", [ALL_INTERFACES, "::", "192.168.1.10", "example.com"])
def test_single_user_mode_refused_off_loopback(host: str) -> None:
    with pytest.raises(ValidationError, match="only allowed when the server binds"):
        make(auth_enabled=False, host=host)
    assert make(auth_enabled=True, host=host).host == host


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"]
)
def test_single_user_mode_allowed_on_loopback(host: str) -> None:
    assert make(auth_enabled=False, host=host).auth_enabled is False
    assert is_loopback(host)


def test_issuer_follows_host_and_port() -> None:
    assert make(host="localhost", port=9000).issuer == "http://localhost:9000"


def test_public_url_overrides_issuer_without_trailing_slash() -> None:
    settings = make(public_url="https://auth.example.com/", port=9000)
    assert settings.issuer == "https://auth.example.com"
    assert settings.api_resource == "https://auth.example.com"
    assert make(public_url="https://example.com/auth/").issuer == (
        "https://example.com/auth"
    )


def test_secure_cookies_follow_the_scheme_unless_set() -> None:
    assert make(public_url="https://auth.example.com").secure_cookies is True
    assert make().secure_cookies is False
    assert make(cookie_secure=True).secure_cookies is True


def test_database_defaults_to_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    settings = make(data_dir=tmp_path / "data")
    assert (
        settings.sqlalchemy_url
        == f"sqlite+aiosqlite:///{tmp_path / 'data'}/authgate.db"
    )
    url = "postgresql+asyncpg://u@h/db"
    assert make(database_url=url).sqlalchemy_url == url


@pytest.mark.parametrize("prefix", ["AG", "1ag", "a_b", "", "a" * 17])
def test_token_prefix_shape(prefix: str) -> None:
    with pytest.raises(ValidationError):
        make(token_prefix=prefix)


def test_external_api_issuer_rules() -> None:
    mcp = "https://mcp.example.com/mcp"
    issuer = "https://issuer.example.com"
    assert make(api_oauth_issuer=issuer).api_oauth_audiences == []
    parsed = make(api_oauth_issuer=issuer, api_oauth_audiences="https://a, https://b")
    assert parsed.api_oauth_audiences == ["https://a", "https://b"]
    # Tokens minted for the MCP server must stay there.
    with pytest.raises(ValidationError, match="MCP_RESOURCE_URI"):
        make(api_oauth_issuer=issuer, api_oauth_audiences=[mcp], mcp_resource_uri=mcp)
    with pytest.raises(ValidationError, match="https"):
        make(api_oauth_issuer="http://issuer.example.com")
    with pytest.raises(ValidationError, match="Authgate itself"):
        make(api_oauth_issuer="http://127.0.0.1:8000")
    with pytest.raises(ValidationError, match="needs AUTHGATE_API_OAUTH_ISSUER"):
        make(api_oauth_audiences=["https://a"])


def test_trusted_proxies_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTHGATE_TRUSTED_PROXIES", "10.0.0.0/8, fd00::/8 127.0.0.1")
    assert make().trusted_proxies == ["10.0.0.0/8", "fd00::/8", "127.0.0.1"]
    assert make(trusted_proxies=[]).trusted_proxies == []


def test_a_malformed_trusted_proxy_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="AUTHGATE_TRUSTED_PROXIES"):
        make(trusted_proxies=["10.0.0.0/33"])


def test_workers_default_to_the_cores_on_postgresql_and_one_on_sqlite(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(6)))
    assert make().worker_count == 1
    postgres = "postgresql+asyncpg://u@db/authgate"
    assert make(database_url=postgres).worker_count == 6
    assert make(database_url=postgres, workers=2).worker_count == 2
    assert make(workers=3).worker_count == 3
    monkeypatch.setenv("AUTHGATE_WORKERS", "")
    assert make().workers is None
    for wrong in (0, -1):
        with pytest.raises(ValidationError):
            make(workers=wrong)


def test_the_smtp_url_is_secret_and_needs_a_sender() -> None:
    url = "smtps://mailer:hunter2-pw@smtp.example.com"
    settings = make(smtp_url=url, mail_from="Authgate <auth@example.com>")
    assert "hunter2-pw" not in repr(settings)
    assert "hunter2-pw" not in str(settings.model_dump())
    with pytest.raises(ValidationError) as refused:
        make(smtp_url=url)
    [error] = refused.value.errors(include_input=False)
    assert "AUTHGATE_MAIL_FROM" in error["msg"]


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://u:hunter2-pw@smtp.example.com", "must start with smtp://"),
        ("smtp://u:hunter2-pw@", "names no host"),
        ("smtp://u:hunter2-pw@smtp.example.com:x", "port that is not one"),
        ("smtp://u:hunter2-pw@smtp.example.com/path", "only credentials"),
        ("smtp://hunter2-pw@smtp.example.com", "both a user name and a password"),
    ],
)
def test_a_bad_smtp_url_is_refused_without_echoing_it(url: str, problem: str) -> None:
    with pytest.raises(ValidationError) as refused:
        make(smtp_url=url, mail_from="auth@example.com")
    [error] = refused.value.errors(include_input=False)
    assert problem in error["msg"]
    assert "hunter2-pw" not in error["msg"]


@pytest.mark.parametrize("sender", ["nobody", "a@example.com\r\nBcc: x@example.com"])
def test_mail_from_must_be_one_address(sender: str) -> None:
    with pytest.raises(ValidationError, match="AUTHGATE_MAIL_FROM must be an address"):
        make(mail_from=sender)


def test_without_a_sender_files_come_from_the_public_host() -> None:
    settings = make(public_url="https://auth.example.com")
    assert settings.mail_sender == "Authgate <authgate@auth.example.com>"
    assert make(mail_from="a@example.com").mail_sender == "a@example.com"


def test_mail_notices_are_a_list_of_known_kinds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert "new_sign_in" in make().mail_notices
    monkeypatch.setenv("AUTHGATE_MAIL_NOTICES", "new_sign_in, token_expiring")
    assert Settings(_env_file=None).mail_notices == ["new_sign_in", "token_expiring"]
    monkeypatch.setenv("AUTHGATE_MAIL_NOTICES", "")
    assert Settings(_env_file=None).mail_notices == []
    monkeypatch.setenv("AUTHGATE_MAIL_NOTICES", "new_sign_in,sms")
    with pytest.raises(ValidationError, match="mail_notices"):
        Settings(_env_file=None)


@pytest.mark.parametrize(
    ("values", "module", "extra"),
    [
        (
            {"database_url": "postgresql+asyncpg://u:p@db/authgate"},
            "asyncpg",
            "postgres",
        ),
        ({"redis_url": "redis://localhost:6379/0"}, "redis", "redis"),
        ({"geoip_db": "/srv/GeoLite2-City.mmdb"}, "maxminddb", "geoip"),
    ],
)
def test_a_setting_whose_extra_is_not_installed_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, values: dict[str, str], module: str, extra: str
) -> None:
    make(**values)  # installed here: accepted
    monkeypatch.setitem(sys.modules, module, None)  # as if not installed
    with pytest.raises(ValidationError) as caught:
        make(**values)
    (error,) = caught.value.errors()
    assert f"needs the {extra} extra" in error["msg"]
    assert f"pip install 'authgate[{extra}]'" in error["msg"]
    make()  # a setting left unset needs nothing


def test_every_secret_setting_is_also_read_from_a_file() -> None:
    secrets = {
        name
        for name, field in Settings.model_fields.items()
        if SecretStr in (field.annotation, *get_args(field.annotation))
    }
    # the URLs carry a password
    assert secrets | {"database_url", "redis_url"} == set(file_settings())


def test_a_secret_from_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "key").write_text("k" * 40 + "\n")
    (tmp_path / "db").write_text("postgresql+asyncpg://a:p%40ss@db/authgate")
    monkeypatch.setenv("AUTHGATE_SECRET_KEY_FILE", str(tmp_path / "key"))
    monkeypatch.setenv("AUTHGATE_DATABASE_URL_FILE", str(tmp_path / "db"))
    settings = make()
    assert settings.secret_key is not None
    assert settings.secret_key.get_secret_value() == "k" * 40  # no line break
    assert settings.database_url == "postgresql+asyncpg://a:p%40ss@db/authgate"
    # and it is validated as the variable would be
    (tmp_path / "key").write_text("short")
    with pytest.raises(ValidationError, match="at least 32 characters"):
        make()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, r"AUTHGATE_SECRET_KEY_FILE: cannot read .*/key: No such file"),
        ("\n", r"AUTHGATE_SECRET_KEY_FILE: .*/key is empty"),
        (b"\xff" * 40, r"AUTHGATE_SECRET_KEY_FILE: cannot read .*: not UTF-8 text"),
    ],
)
def test_a_secret_file_that_cannot_be_used_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    content: str | bytes | None,
    message: str,
) -> None:
    path = tmp_path / "key"
    if isinstance(content, str):
        path.write_text(content)
    elif content is not None:
        path.write_bytes(content)
    monkeypatch.setenv("AUTHGATE_SECRET_KEY_FILE", str(path))
    with pytest.raises(SettingFileError, match=message):
        make()


def test_a_secret_and_its_file_together_are_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "key").write_text("k" * 40)
    monkeypatch.setenv("AUTHGATE_SECRET_KEY_FILE", str(tmp_path / "key"))
    monkeypatch.setenv("AUTHGATE_SECRET_KEY", "e" * 40)
    with pytest.raises(SettingFileError, match="both set: keep one"):
        make()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"secret_key_previous": "p" * 40}, "needs AUTHGATE_SECRET_KEY"),
        ({"secret_key": SECRET, "secret_key_previous": "p"}, "at least 32"),
        ({"secret_key": SECRET, "secret_key_previous": SECRET}, "the same as"),
    ],
)
def test_the_previous_secret_is_checked(values: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        make(**values)
