"""IP → "City, Region, Country" for session lists, from a MaxMind-format file
(``AUTHGATE_GEOIP_DB``); opened lazily, and absent when not configured."""

import functools
import ipaddress
import logging
from pathlib import Path
from typing import Any

log = logging.getLogger("authgate")


class GeoLocator:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._reader: Any = None

    def _open(self) -> Any:
        if self._reader is None and self.path is not None:
            import geoip2.database

            try:
                self._reader = geoip2.database.Reader(str(self.path))
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
        import geoip2.errors

        try:
            if "City" in reader.metadata().database_type:
                found = reader.city(ip)
                parts = [
                    found.city.name,
                    found.subdivisions.most_specific.iso_code,
                    found.country.name,
                ]
            else:
                parts = [reader.country(ip).country.name]
        except (geoip2.errors.AddressNotFoundError, ValueError):
            return None
        located = ", ".join(p for p in parts if p)
        return located or None

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
