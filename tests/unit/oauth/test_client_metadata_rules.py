import pytest

from authgate.oauth.client_metadata import (
    DEFAULT_TTL,
    MAX_TTL,
    MetadataRefused,
    address_allowed,
    cache_seconds,
    check_url,
)


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("93.184.216.34", True),
        ("2606:4700::1111", True),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.0.1", False),
        ("127.0.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),  # noqa: S104 - an address checked, not bound
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("224.0.0.1", False),
        # IPv4 reached through IPv6: mapped, compatible, NAT64, 6to4, Teredo.
        ("::ffff:10.0.0.1", False),
        ("::ffff:169.254.169.254", False),
        ("::ffff:93.184.216.34", True),
        ("::127.0.0.1", False),
        ("::10.0.0.1", False),
        ("::a9fe:a9fe", False),
        ("64:ff9b::a00:1", False),
        ("64:ff9b::7f00:1", False),
        ("64:ff9b::a9fe:a9fe", False),
        ("64:ff9b::5db8:d822", True),
        ("64:ff9b:1::a00:1", False),
        ("64:ff9b:1::5db8:d822", False),
        ("2002:a00:1::1", False),
        ("2002:7f00:1::1", False),
        ("2002:a9fe:a9fe::1", False),
        ("2002:5db8:d822::1", True),
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", False),  # Teredo, 10.0.0.1
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", False),  # Teredo, 127.0.0.1
    ],
)
def test_only_public_addresses(address: str, allowed: bool) -> None:
    assert address_allowed(address, loopback=False) is allowed


def test_loopback_only_when_asked() -> None:
    assert address_allowed("127.0.0.1", loopback=True)
    assert not address_allowed("10.0.0.1", loopback=True)


def test_cache_control() -> None:
    assert cache_seconds(None) == DEFAULT_TTL
    assert cache_seconds("no-store") == 0
    assert cache_seconds("private, no-cache") == 0
    assert cache_seconds("public, max-age=120") == 120
    assert cache_seconds("max-age=99999999") == MAX_TTL


@pytest.mark.parametrize(
    "url",
    [
        "https://app.example.com/oauth/client.json",
        "https://app.example.com/client?version=2",
        "https://sub.example.com:8443/c.json",
    ],
)
def test_acceptable_urls(url: str) -> None:
    check_url(url, domains=(), allow_insecure_loopback=False)


def test_trusted_domains_include_subdomains() -> None:
    check_url(
        "https://a.example.com/c.json",
        domains=("example.com",),
        allow_insecure_loopback=False,
    )
    with pytest.raises(MetadataRefused):
        check_url(
            "https://example.com.evil/c.json",
            domains=("example.com",),
            allow_insecure_loopback=False,
        )


def test_insecure_loopback_is_plain_http_on_loopback_only() -> None:
    check_url("http://127.0.0.1:9/c.json", domains=(), allow_insecure_loopback=True)
    with pytest.raises(MetadataRefused):
        check_url(
            "http://127.0.0.1:9/c.json", domains=(), allow_insecure_loopback=False
        )
    with pytest.raises(MetadataRefused):
        check_url("http://app.example/c.json", domains=(), allow_insecure_loopback=True)
