"""Tiny MaxMind-format (``.mmdb``) databases for the location tests, written
with ``mmdb_writer`` (the format's own test data uses 81.2.69.160, London)."""

from pathlib import Path

from mmdb_writer import MMDBWriter
from netaddr import IPSet

#: A public address the test databases place in London.
LONDON_IP = "81.2.69.160"
LONDON = "London, ENG, United Kingdom"
#: A public IPv6 address the city database places in Sweden (no city).
SWEDEN_IP = "2a02:d000::1"

_GB = {"iso_code": "GB", "names": {"en": "United Kingdom"}}


def city_db(path: Path) -> Path:
    writer = MMDBWriter(
        ip_version=6,
        ipv4_compatible=True,
        database_type="GeoLite2-City",
        languages=["en"],
        description="Authgate test city database",
    )
    writer.insert_network(
        IPSet(["81.2.69.160/27"]),
        {
            "city": {"names": {"en": "London"}},
            "country": _GB,
            "subdivisions": [{"iso_code": "ENG", "names": {"en": "England"}}],
        },
    )
    writer.insert_network(
        IPSet(["2a02:d000::/29"]),
        {"country": {"iso_code": "SE", "names": {"en": "Sweden"}}},
    )
    writer.to_db_file(str(path))
    return path


def country_db(path: Path) -> Path:
    writer = MMDBWriter(
        ip_version=4,
        database_type="GeoLite2-Country",
        languages=["en"],
        description="Authgate test country database",
    )
    writer.insert_network(IPSet(["81.2.69.0/24"]), {"country": _GB})
    writer.to_db_file(str(path))
    return path
