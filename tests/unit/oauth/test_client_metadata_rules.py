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
    ],
)
def test_only_public_addresses(address, allowed):
    assert address_allowed(address, loopback=False) is allowed


def test_loopback_only_when_asked():
    assert address_allowed("127.0.0.1", loopback=True)
    assert not address_allowed("10.0.0.1", loopback=True)


def test_cache_control():
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
def test_acceptable_urls(url):
    check_url(url, domains=(), allow_insecure_loopback=False)


def test_trusted_domains_include_subdomains():
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


def test_insecure_loopback_is_plain_http_on_loopback_only():
    check_url("http://127.0.0.1:9/c.json", domains=(), allow_insecure_loopback=True)
    with pytest.raises(MetadataRefused):
        check_url(
            "http://127.0.0.1:9/c.json", domains=(), allow_insecure_loopback=False
        )
    with pytest.raises(MetadataRefused):
        check_url("http://app.example/c.json", domains=(), allow_insecure_loopback=True)
