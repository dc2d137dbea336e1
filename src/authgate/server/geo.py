"""IP → "City, Region, Country" for session lists, from a MaxMind-format file
(``AUTHGATE_GEOIP_DB``) read with MaxMind's own reader, ``maxminddb`` (the
``geoip`` extra); opened lazily, and absent when not configured.

City and country databases share one record layout (a country file's records
just lack ``city`` and ``subdivisions``), so one lookup serves both."""

import functools
import ipaddress
import logging
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from maxminddb import Reader
    from maxminddb.types import Record

log = logging.getLogger("authgate")


class GeoLocator:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._reader: Reader | None = None

    def _open(self) -> "Reader | None":
        if self._reader is None and self.path is not None:
            import maxminddb

            try:
                self._reader = maxminddb.open_database(str(self.path))
            except (OSError, RuntimeError, ValueError) as exc:
                # A location is decoration: a missing or corrupt file must not
                # turn every session list into a 500. Said once, then off.
                log.warning("AUTHGATE_GEOIP_DB %s is not usable: %s", self.path, exc)
                self.path = None
        return self._reader

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one locator per app, bounded
    def locate(self, ip: str | None) -> str | None:
        reader = self._open()
        if reader is None or not ip:
            return None
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return None
        if address.is_private or address.is_loopback:
            return None
        try:
            record = reader.get(address)
        except ValueError:  # an IPv6 address in an IPv4-only file
            return None
        parts = [
            _text(record, "city", "names", "en"),
            _text(record, "subdivisions", -1, "iso_code"),  # the most specific
            _text(record, "country", "names", "en"),
        ]
        located = ", ".join(p for p in parts if p)
        return located or None

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()


def _text(record: "Record | None", *path: str | int) -> str | None:
    """The text at ``path`` in a record (dict keys, list indexes), or None
    where the file has none there."""
    found = record
    for step in path:
        if isinstance(found, dict) and isinstance(step, str):
            found = found.get(step)
        elif isinstance(found, list) and isinstance(step, int) and found:
            found = found[step]
        else:
            return None
    return found if isinstance(found, str) else None
