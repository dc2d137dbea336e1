"""The hardened fetcher behind Client ID Metadata Documents: https only, no
redirects, no private addresses, bounded size and time, a client id that is
the document's own URL; cached as the document's Cache-Control says.

Served by a real web server on loopback (plain http, allowed here only
because the resolver is built with ``allow_insecure_loopback``, as the test
setting does).
"""

import json
import time
from typing import Any

import pytest

from authgate.oauth.client_metadata import (
    ClientMetadataResolver,
    HttpxFetcher,
    MetadataRefused,
)
from tests.support.documents import DocumentHost, Route, document

pytestmark = pytest.mark.anyio


def resolver(**kwargs: Any) -> ClientMetadataResolver:
    return ClientMetadataResolver(
        allow_insecure_loopback=kwargs.pop("allow_insecure_loopback", True),
        fetch=HttpxFetcher(loopback=True, timeout=kwargs.pop("timeout", 1.0)),
        **kwargs,
    )


async def refused(resolve: ClientMetadataResolver, url: str) -> str:
    with pytest.raises(MetadataRefused) as caught:
        await resolve.resolve(url)
    return str(caught.value)


async def test_a_good_document(host: DocumentHost) -> None:
    url = host.serve("/ok.json", document(host.url("/ok.json"), "http://127.0.0.1/cb"))
    client = await resolver().resolve(url)
    assert client.id == url
    assert client.public
    assert client.name == "Example MCP Client"
    assert client.redirect_uris == ("http://127.0.0.1/cb",)
    assert client.registration == "metadata_document"


async def test_http_is_refused_without_the_test_setting(host: DocumentHost) -> None:
    url = host.serve("/ok.json", document(host.url("/ok.json"), "http://127.0.0.1/cb"))
    message = await refused(resolver(allow_insecure_loopback=False), url)
    assert "https" in message
    assert host.hits == []


async def test_redirects_are_not_followed(host: DocumentHost) -> None:
    target = host.serve(
        "/ok.json", document(host.url("/ok.json"), "http://127.0.0.1/cb")
    )
    host.routes["/moved.json"] = Route(status=302, headers={"Location": target})
    assert "redirect" in await refused(resolver(), host.url("/moved.json"))
    assert "/ok.json" not in host.hits


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.1/client.json",
        "https://192.168.1.10/client.json",
        "https://169.254.169.254/latest/meta-data",
        "https://100.64.0.1/client.json",
        "https://[::1]/client.json",
        "https://127.0.0.1/client.json",
        "https://localhost/client.json",
        "https://[fd00::1]/client.json",
        "https://[::ffff:10.0.0.1]/client.json",
    ],
)
async def test_private_addresses_are_refused(url: str) -> None:
    # Not even the test setting allows these: it covers plain http on loopback.
    assert "private" in await refused(resolver(), url)


async def test_a_name_resolving_to_a_private_address_is_refused() -> None:
    async def fake_dns(_host: str, _port: int) -> list[str]:
        return ["203.0.113.7", "10.1.2.3"]  # one public, one private: refused

    resolve = ClientMetadataResolver(fetch=HttpxFetcher(resolve=fake_dns))
    message = await refused(resolve, "https://client.example.com/client.json")
    assert "private" in message


async def test_oversized_documents_are_refused(host: DocumentHost) -> None:
    url = host.url("/big.json")
    host.serve("/big.json", document(url, "http://127.0.0.1/cb", padding="x" * 6000))
    assert "larger" in await refused(resolver(), url)


async def test_oversized_documents_without_a_length_are_refused(
    host: DocumentHost,
) -> None:
    url = host.url("/stream.json")
    body = json.dumps(document(url, "http://127.0.0.1/cb", padding="x" * 6000))
    host.routes["/stream.json"] = Route(body=body.encode(), length=False)
    assert "larger" in await refused(resolver(), url)


async def test_slow_documents_are_refused(host: DocumentHost) -> None:
    url = host.url("/slow.json")
    host.serve("/slow.json", document(url, "http://127.0.0.1/cb"), delay=1.5)
    started = time.monotonic()
    assert "longer" in await refused(resolver(timeout=0.3), url)
    assert time.monotonic() - started < 1.2


async def test_client_id_must_be_the_documents_url(host: DocumentHost) -> None:
    url = host.url("/liar.json")
    host.serve(
        "/liar.json",
        document("https://other.example/client.json", "http://127.0.0.1/cb"),
    )
    assert "different client_id" in await refused(resolver(), url)


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"client_secret": "s3cret"}, "secret"),
        ({"token_endpoint_auth_method": "client_secret_basic"}, "auth_method"),
        ({"redirect_uris": ["https://app.example/cb#x"]}, "fragment"),
        ({"redirect_uris": "http://127.0.0.1/cb"}, "list"),
        ({"grant_types": ["client_credentials"]}, "grant type"),
    ],
)
async def test_invalid_documents_are_refused(
    host: DocumentHost, extra: dict[str, Any], reason: str
) -> None:
    url = host.url("/bad.json")
    host.serve("/bad.json", document(url, "http://127.0.0.1/cb", **extra))
    assert reason in await refused(resolver(), url)


async def test_not_json_is_refused(host: DocumentHost) -> None:
    url = host.serve("/text", body=b"<html>hello</html>")
    assert "JSON" in await refused(resolver(), url)


async def test_error_statuses_are_refused(host: DocumentHost) -> None:
    assert "404" in await refused(resolver(), host.url("/missing.json"))


@pytest.mark.parametrize(
    "url",
    [
        "https://client.example.com",  # no path
        "https://client.example.com/a/../client.json",
        "https://user:pw@client.example.com/client.json",
        "https://client.example.com/client.json#frag",
        "ftp://client.example.com/client.json",
        "http://client.example.com/client.json",  # http beyond loopback
    ],
)
async def test_malformed_client_id_urls(url: str) -> None:
    await refused(resolver(), url)


async def test_trusted_domains() -> None:
    policy = ClientMetadataResolver(domains=["example.com"])
    assert "trusts" in await refused(policy, "https://evil.test/client.json")
    assert "trusts" in await refused(policy, "https://notexample.com/client.json")


async def test_cache_follows_cache_control(host: DocumentHost) -> None:
    resolve = resolver()
    url = host.url("/nostore.json")
    host.serve(
        "/nostore.json",
        document(url, "http://127.0.0.1/cb"),
        headers={"Cache-Control": "no-store"},
    )
    await resolve.resolve(url)
    await resolve.resolve(url)
    assert host.hits.count("/nostore.json") == 2
    cached = host.url("/cached.json")
    host.serve(
        "/cached.json",
        document(cached, "http://127.0.0.1/cb"),
        headers={"Cache-Control": "public, max-age=60"},
    )
    await resolve.resolve(cached)
    await resolve.resolve(cached)
    assert host.hits.count("/cached.json") == 1
