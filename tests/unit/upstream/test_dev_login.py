"""When dev login exists: enabled, a loopback bind, and a loopback client that
did not come through a proxy."""

from typing import Any

import pytest

from authgate.config import Settings
from authgate.upstream import dev_login


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


ON = settings(dev_login_enabled=True)


def test_available_only_when_enabled_on_a_loopback_bind() -> None:
    assert dev_login.available(ON)
    assert dev_login.available(settings(dev_login_enabled=True, host="::1"))
    assert dev_login.available(settings(dev_login_enabled=True, host="localhost"))
    assert not dev_login.available(settings())
    assert not dev_login.available(
        settings(dev_login_enabled=True, host="0.0.0.0")  # noqa: S104
    )
    assert not dev_login.available(settings(dev_login_enabled=True, host="10.0.0.2"))


@pytest.mark.parametrize("ip", ["127.0.0.1", "127.8.9.10", "::1"])
def test_loopback_clients_may(ip: str) -> None:
    assert dev_login.allows(ON, ip, {})


@pytest.mark.parametrize("ip", ["10.1.2.3", "192.0.2.7", "::ffff:8.8.8.8", "", None])
def test_other_clients_may_not(ip: str | None) -> None:
    assert not dev_login.allows(ON, ip, {})


@pytest.mark.parametrize("header", ["x-forwarded-for", "forwarded", "x-real-ip"])
def test_a_request_through_a_proxy_may_not(header: str) -> None:
    assert not dev_login.allows(ON, "127.0.0.1", {header: "203.0.113.9"})


def test_nobody_may_when_it_is_off() -> None:
    assert not dev_login.allows(settings(), "127.0.0.1", {})
