"""IP → location for session lists, from a MaxMind-format file."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from authgate.server.geo import GeoLocator
from tests.support.geoip import LONDON, LONDON_IP, SWEDEN_IP, city_db, country_db


@pytest.fixture
def city(tmp_path: Path) -> Iterator[GeoLocator]:
    locator = GeoLocator(city_db(tmp_path / "city.mmdb"))
    yield locator
    locator.close()


def test_a_city_database_gives_city_region_and_country(city: GeoLocator) -> None:
    assert city.locate(LONDON_IP) == LONDON


def test_missing_parts_are_left_out(city: GeoLocator) -> None:
    assert city.locate(SWEDEN_IP) == "Sweden"


def test_a_country_database_gives_the_country(tmp_path: Path) -> None:
    locator = GeoLocator(country_db(tmp_path / "country.mmdb"))
    try:
        assert locator.locate(LONDON_IP) == "United Kingdom"
        assert locator.locate("8.8.8.8") is None  # not in the file
        assert locator.locate("2a02:d000::1") is None  # IPv6 in an IPv4-only file
    finally:
        locator.close()


@pytest.mark.parametrize(
    "ip",
    [
        "127.0.0.1",  # loopback
        "::1",
        "10.1.2.3",  # private
        "192.168.0.7",
        "172.16.5.4",
        "fd00::1",
        "8.8.8.8",  # public, but not in the file
        "not an ip",
        "",
        None,
    ],
)
def test_no_location_for_private_unknown_or_bad_addresses(
    city: GeoLocator, ip: str | None
) -> None:
    assert city.locate(ip) is None


def test_no_database_no_location() -> None:
    locator = GeoLocator(None)
    assert locator.locate(LONDON_IP) is None
    locator.close()


def test_the_file_is_opened_lazily(tmp_path: Path) -> None:
    path = tmp_path / "late.mmdb"
    locator = GeoLocator(path)  # not there yet: building the app must not fail
    city_db(path)
    try:
        assert locator.locate(LONDON_IP) == LONDON
    finally:
        locator.close()


@pytest.mark.parametrize("content", [None, b"this is not a MaxMind database"])
def test_a_missing_or_broken_file_gives_no_location_not_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, content: bytes | None
) -> None:
    path = tmp_path / "geo.mmdb"
    if content is not None:
        path.write_bytes(content)
    locator = GeoLocator(path)
    assert locator.locate(LONDON_IP) is None
    assert locator.locate("81.2.69.161") is None
    warnings = [r for r in caplog.records if "AUTHGATE_GEOIP_DB" in r.getMessage()]
    assert len(warnings) == 1  # said once, not per lookup
    locator.close()
