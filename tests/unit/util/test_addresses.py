"""Who a request comes from (trusted proxies, ``X-Forwarded-For``) and the key
its rate limits count under (an IPv6 address's /64)."""

import pytest

from authgate.util.addresses import client_address, limit_key, parse_networks

PROXIES = parse_networks(["10.0.0.0/8", "fd00::/8", "127.0.0.1"])


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("[2001:db8:1:2::9]", "2001:db8:1:2::/64"),
        (None, "unknown"),
        ("testclient", "testclient"),
    ],
)
def test_limit_key(address: str | None, key: str) -> None:
    assert limit_key(address) == key


def test_one_ipv6_subscriber_gets_one_budget_not_two_to_the_64() -> None:
    keys = {limit_key(f"2001:db8:7:7::{n:x}") for n in range(1, 500)}
    assert keys == {"2001:db8:7:7::/64"}


def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    assert client_address("198.51.100.1", ["203.0.113.9"], ()) == "198.51.100.1"


def test_a_spoofed_header_from_an_untrusted_peer_is_ignored() -> None:
    forged = ["1.2.3.4, 10.0.0.1"]
    assert client_address("198.51.100.1", forged, PROXIES) == "198.51.100.1"


def test_behind_a_trusted_proxy_the_forwarded_address_counts() -> None:
    assert client_address("10.0.0.5", ["203.0.113.9"], PROXIES) == "203.0.113.9"


def test_the_right_most_untrusted_entry_wins_over_what_the_client_wrote() -> None:
    """The client wrote ``1.2.3.4`` itself; the proxy appended the address it
    saw; a second proxy appended the first's."""
    chain = ["1.2.3.4, 203.0.113.9, 10.0.0.7"]
    assert client_address("10.0.0.5", chain, PROXIES) == "203.0.113.9"


def test_several_headers_read_as_one_list_in_order() -> None:
    headers = ["1.2.3.4", "203.0.113.9", "10.0.0.7"]
    assert client_address("10.0.0.5", headers, PROXIES) == "203.0.113.9"


def test_ipv6_and_mapped_addresses_through_proxies() -> None:
    assert client_address("fd00::1", ["2001:db8::5"], PROXIES) == "2001:db8::5"
    assert client_address("::ffff:10.0.0.5", ["203.0.113.9"], PROXIES) == (
        "203.0.113.9"
    )


def test_a_malformed_entry_stops_at_the_proxy_that_wrote_it() -> None:
    assert client_address("10.0.0.5", ["203.0.113.9, junk"], PROXIES) == "10.0.0.5"
    assert client_address("10.0.0.5", ["junk, 10.0.0.7"], PROXIES) == "10.0.0.7"


def test_only_proxies_in_the_chain_gives_the_left_most() -> None:
    assert client_address("10.0.0.5", ["10.0.0.9, 10.0.0.7"], PROXIES) == "10.0.0.9"
    assert client_address("10.0.0.5", [], PROXIES) == "10.0.0.5"


def test_a_typo_in_the_setting_is_an_error_not_an_empty_list() -> None:
    with pytest.raises(ValueError, match=r"10\.0\.0\.300"):
        parse_networks(["10.0.0.300/8"])
