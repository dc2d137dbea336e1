import pytest

from authgate.oauth.errors import InvalidTarget
from authgate.oauth.resources import Resources, audience

API = "https://auth.example.com"
MCP = "https://mcp.example.com/mcp"
RESOURCES = Resources((API, MCP))


def test_no_resource_is_the_api() -> None:
    assert RESOURCES.select([]) == (API,)


def test_allowlisted_resources_in_their_canonical_spelling() -> None:
    assert RESOURCES.select([MCP + "/", API]) == (MCP, API)


@pytest.mark.parametrize(
    "uri",
    ["https://other.example", "mcp", "/mcp", MCP + "#frag", "https://mcp.example.com"],
)
def test_unknown_or_malformed_resources(uri: str) -> None:
    with pytest.raises(InvalidTarget):
        RESOURCES.select([uri])


def test_narrow_never_widens() -> None:
    assert RESOURCES.narrow((API, MCP), []) == (API, MCP)
    assert RESOURCES.narrow((API, MCP), [MCP]) == (MCP,)
    with pytest.raises(InvalidTarget, match="widen"):
        RESOURCES.narrow((API,), [MCP])


def test_metadata_paths() -> None:
    assert RESOURCES.by_path("mcp") == MCP
    assert RESOURCES.by_path("mcp/") == MCP
    assert RESOURCES.by_path("") is None  # the API's own document has no suffix
    assert RESOURCES.by_path("other") is None


def test_audience_claim() -> None:
    assert audience((API,)) == API
    assert audience((API, MCP)) == [API, MCP]
