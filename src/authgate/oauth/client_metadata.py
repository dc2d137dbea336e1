"""Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document,
the MCP authorization specification's way for clients to identify themselves
without registering first).

A ``client_id`` that is an https URL names a JSON document the client hosts;
the document's ``client_id`` must be that URL, and it lists the client's name
and redirect URIs. Fetching a URL a stranger chose is a server-side request
forgery risk, so the fetcher is hardened:

- https only (plain http only on loopback, and only when a test rig turns
  ``AUTHGATE_CLIENT_METADATA_ALLOW_INSECURE_LOOPBACK`` on);
- the host is resolved first, and every address must be public (no private,
  loopback, link-local, multicast or reserved range); the request then goes to
  that checked address (TLS still verifies the host name), so DNS cannot
  answer differently the second time (rebinding);
- no redirects followed, no proxies from the environment;
- at most :data:`MAX_BYTES` read and :data:`TIMEOUT` seconds spent, in total;
- an optional allowlist of trusted domains (``AUTHGATE_CLIENT_METADATA_DOMAINS``).

Documents are cached as their ``Cache-Control`` says (bounded to a day).
Fetching happens before the request's database transaction opens: see
:meth:`ClientMetadataResolver.prefetch`.
"""

import asyncio
import ipaddress
import json
import re
import socket
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from authgate.domain import clients
from authgate.domain.clients import Client
from authgate.errors import AuthgateError
from authgate.oauth.errors import InvalidClient
from authgate.util import clock, loopback

MAX_BYTES = 5 * 1024  #: a document is a few hundred bytes; 5 KB is generous
TIMEOUT = 5.0  #: seconds for the whole fetch: resolution, connection, body
DEFAULT_TTL = 300.0  #: seconds a document without caching headers is kept
MAX_TTL = 86_400.0  #: a day at most, whatever the document says
MAX_ENTRIES = 1_000
#: Grant types a client without a secret may list.
_PUBLIC_GRANTS = (
    clients.AUTHORIZATION_CODE,
    clients.REFRESH_TOKEN,
    clients.DEVICE_CODE,
)
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?", re.IGNORECASE)


class MetadataRefused(Exception):
    """The document could not be used; the message says why (never a secret)."""


@dataclass(frozen=True, slots=True)
class Fetched:
    body: bytes
    cache_control: str | None = None


class Fetch(Protocol):
    async def __call__(self, url: str) -> Fetched:
        """The document at ``url`` (already checked by :func:`check_url`), or
        ``MetadataRefused``."""


Resolve = Callable[[str, int], Awaitable[Sequence[str]]]


async def resolve_host(host: str, port: int) -> list[str]:
    """Every address the host name resolves to (A and AAAA)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


#: RFC 6052 NAT64: the last 32 bits are the IPv4 address reached.
NAT64 = ipaddress.ip_network("64:ff9b::/96")
#: RFC 8215 local-use NAT64: a translator of the local network, never public.
LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one reaches through a translation or tunnel
    (IPv4-mapped, IPv4-compatible, NAT64, 6to4), which is what must be public:
    ``64:ff9b::a00:1`` or ``2002:a00:1::1`` is 10.0.0.1 on a network that routes
    them. Teredo (2001::/32) is not global and so refused as it is."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    compatible = int(ip) >> 32 == 0 and not (ip.is_loopback or ip.is_unspecified)
    if ip in NAT64 or compatible:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_allowed(address: str, *, loopback: bool) -> bool:
    """Public unicast only; loopback too when ``loopback`` (test rigs)."""
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(
        address.split("%", 1)[0]
    )
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in LOCAL_NAT64:
            return False
        ip = _embedded_ipv4(ip) or ip
    if loopback and ip.is_loopback:
        return True
    return ip.is_global and not ip.is_multicast


def is_document_url(client_id: str) -> bool:
    return client_id.startswith(("https://", "http://"))


def check_url(
    url: str, *, domains: Sequence[str], allow_insecure_loopback: bool
) -> None:
    """The draft's rules for a client identifier URL, and the operator's policy."""
    if len(url) > clients.CLIENT_ID_MAX:
        raise MetadataRefused(f"is longer than {clients.CLIENT_ID_MAX} characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise MetadataRefused("is not a valid URL") from None
    host = (parts.hostname or "").lower()
    if parts.scheme == "http":
        if not (allow_insecure_loopback and host in loopback.NAMES):
            raise MetadataRefused("must be an https URL")
    elif parts.scheme != "https":
        raise MetadataRefused("must be an https URL")
    if not host:
        raise MetadataRefused("has no host")
    if "#" in url or parts.username is not None or parts.password is not None:
        raise MetadataRefused("must not have a fragment or user information")
    segments = parts.path.split("/")
    if not parts.path or any(s in (".", "..") for s in segments):
        raise MetadataRefused("must have a path without dot segments")
    if domains and not any(host == d or host.endswith("." + d) for d in domains):
        raise MetadataRefused("is not on a domain this server trusts")


class HttpxFetcher:
    """The hardened fetch described in the module docstring. ``resolve`` is the
    seam tests use to simulate DNS; ``loopback`` lets test rigs fetch from
    127.0.0.1 over plain http."""

    def __init__(
        self,
        *,
        loopback: bool = False,
        max_bytes: int = MAX_BYTES,
        timeout: float = TIMEOUT,
        resolve: Resolve = resolve_host,
    ) -> None:
        self.loopback = loopback
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.resolve = resolve

    async def __call__(self, url: str) -> Fetched:
        try:
            async with asyncio.timeout(self.timeout):
                return await self._fetch(url)
        except TimeoutError:
            raise MetadataRefused(
                f"took longer than {self.timeout:g} s to fetch"
            ) from None
        except httpx.HTTPError:
            raise MetadataRefused("could not be fetched") from None
        except OSError:
            raise MetadataRefused("could not be resolved or reached") from None

    async def _fetch(self, url: str) -> Fetched:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        loopback = self.loopback and parts.scheme == "http"
        addresses = await self.resolve(host, port)
        if not addresses or not all(
            address_allowed(a, loopback=loopback) for a in addresses
        ):
            raise MetadataRefused("resolves to a private or reserved address")
        address = addresses[0]
        literal = f"[{address}]" if ":" in address else address
        pinned = parts._replace(netloc=f"{literal}:{port}").geturl()
        async with (
            httpx.AsyncClient(
                follow_redirects=False, trust_env=False, timeout=self.timeout
            ) as http,
            http.stream(
                "GET",
                pinned,
                headers={"Host": parts.netloc, "Accept": "application/json"},
                # TLS checks the certificate against the name, not the address.
                extensions={"sni_hostname": host},
            ) as response,
        ):
            if response.is_redirect:
                raise MetadataRefused("answered with a redirect, which is not followed")
            if response.status_code != 200:
                raise MetadataRefused(f"answered HTTP {response.status_code}")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise MetadataRefused(f"is larger than {self.max_bytes} bytes")
            body = b""
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > self.max_bytes:
                    raise MetadataRefused(f"is larger than {self.max_bytes} bytes")
            return Fetched(body, response.headers.get("cache-control"))


def cache_seconds(cache_control: str | None) -> float:
    if cache_control is None:
        return DEFAULT_TTL
    lowered = cache_control.lower()
    if "no-store" in lowered or "no-cache" in lowered:
        return 0.0
    match = _MAX_AGE.search(lowered)
    return min(float(match[1]), MAX_TTL) if match else DEFAULT_TTL


def _strings(document: Mapping[str, Any], name: str) -> list[str] | None:
    value = document.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MetadataRefused(f"has a {name} that is not a list of strings")
    return value


def _text(document: Mapping[str, Any], name: str) -> str | None:
    value = document.get(name)
    if value is not None and not isinstance(value, str):
        raise MetadataRefused(f"has a {name} that is not a string")
    return value


def parse_document(url: str, body: bytes) -> Client:
    """The client a fetched document describes, validated."""
    try:
        document = json.loads(body)
    except ValueError:
        raise MetadataRefused("is not JSON") from None
    if not isinstance(document, dict):
        raise MetadataRefused("is not a JSON object")
    if document.get("client_id") != url:
        raise MetadataRefused("names a different client_id than its own URL")
    if "client_secret" in document or "client_secret_expires_at" in document:
        raise MetadataRefused("must not carry a client secret")
    method = _text(document, "token_endpoint_auth_method") or "none"
    if method != "none":
        raise MetadataRefused(
            "must use token_endpoint_auth_method none (no shared secret exists)"
        )
    grant_types = _strings(document, "grant_types") or [clients.AUTHORIZATION_CODE]
    if any(g not in _PUBLIC_GRANTS for g in grant_types):
        raise MetadataRefused("lists a grant type a public client may not use")
    response_types = _strings(document, "response_types")
    if response_types is not None and set(response_types) - {"code"}:
        raise MetadataRefused("lists a response type other than code")
    redirect_uris = _strings(document, "redirect_uris") or []
    host = urlsplit(url).hostname or url
    try:
        return Client(
            id=url,
            name=clients.check_name(_text(document, "client_name") or host),
            redirect_uris=clients.check_redirect_uris(redirect_uris),
            grant_types=clients.check_grant_types(grant_types, public=True),
            auth_method="none",
            created_at=clock.now(),
            scope=clients.check_scope(_text(document, "scope"), "metadata_document"),
            registration="metadata_document",
            client_uri=clients.check_client_uri(_text(document, "client_uri")),
        )
    except AuthgateError as exc:
        raise MetadataRefused(f"is not acceptable: {exc.description}") from None


@dataclass(frozen=True, slots=True)
class Documents:
    """The documents one request needs, fetched before its transaction."""

    found: Mapping[str, Client] = field(default_factory=dict)
    refused: Mapping[str, str] = field(default_factory=dict)

    def client(self, client_id: str) -> Client | None:
        if client_id in self.refused:
            raise InvalidClient(
                f"The client metadata document {client_id} {self.refused[client_id]}."
            )
        return self.found.get(client_id)


NO_DOCUMENTS = Documents()


class ClientMetadataResolver:
    def __init__(
        self,
        *,
        domains: Sequence[str] = (),
        allow_insecure_loopback: bool = False,
        fetch: Fetch | None = None,
    ) -> None:
        self.domains = tuple(d.lower().strip(".") for d in domains)
        self.allow_insecure_loopback = allow_insecure_loopback
        self.fetch: Fetch = fetch or HttpxFetcher(loopback=allow_insecure_loopback)
        self._cache: dict[str, tuple[float, Client]] = {}

    async def resolve(self, url: str) -> Client:
        """The client ``url`` names, from the cache or fetched; ``MetadataRefused``."""
        hit = self._cache.get(url)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        check_url(
            url,
            domains=self.domains,
            allow_insecure_loopback=self.allow_insecure_loopback,
        )
        fetched = await self.fetch(url)
        client = parse_document(url, fetched.body)
        ttl = cache_seconds(fetched.cache_control)
        if ttl > 0:
            if len(self._cache) >= MAX_ENTRIES:
                self._cache.clear()
            self._cache[url] = (time.monotonic() + ttl, client)
        else:
            self._cache.pop(url, None)
        return client

    async def prefetch(self, *client_ids: str | None) -> Documents:
        """Fetch the documents the request's client ids name (others are
        registered clients, looked up in the store), before any transaction
        opens: a slow document must not hold a database lock."""
        found: dict[str, Client] = {}
        refused: dict[str, str] = {}
        for client_id in dict.fromkeys(c for c in client_ids if c):
            if not is_document_url(client_id):
                continue
            try:
                found[client_id] = await self.resolve(client_id)
            except MetadataRefused as exc:
                refused[client_id] = str(exc)
        return Documents(found, refused)
