"""Every code block in ``docs/guard.md`` and ``docs/mcp.md`` is run or
checked, so the docs cannot drift from the code again.

- Python blocks run, in order, against a live Authgate: each app a block
  builds answers a token for its resource and refuses the API's, naming the
  resource to ask for; the MCP verifier accepts a token for the MCP server;
  the MCP client snippet calls the example MCP server (its own process).
- Shell blocks are checked command by command: ``authgate`` commands parse,
  ``AUTHGATE_*`` variables are settings, scripts exist and run through
  ``./dev python`` (a plain ``python`` lacks the examples' dependencies),
  curl calls name real endpoints of Authgate or of the example app.
- A block right after a ``<!-- not run -->`` line is an illustrative fragment.
"""

import asyncio
import os
import re
import runpy
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from authgate.cli import build_parser
from authgate.config import Settings
from authgate.guard import _remote
from tests.support.actions import Actions, Login
from tests.support.live import LiveServer
from tests.support.oauth import DEVICE_GRANT, Browser, discover
from tests.support.processes import ROOT, app_process, free_port

pytestmark = pytest.mark.e2e

DOCS = ("docs/guard.md", "docs/mcp.md")
FENCE = re.compile(
    r"^(?P<indent>[ ]*)```(?P<lang>\w*)\n(?P<body>.*?)^(?P=indent)```$", re.M | re.S
)
NOT_RUN = "<!-- not run"
#: The hosts the docs use for Authgate and for the app it protects.
AUTHGATE_HOSTS = {"auth.example.com", "127.0.0.1:8000"}
APP_HOSTS = {"api.example.com", "127.0.0.1:8001"}
#: Variables the examples and the CLI read, not server settings.
CLIENT_VARIABLES = {
    "AUTHGATE_SERVER",
    "AUTHGATE_TOKEN",
    "AUTHGATE_CLIENT_ID",
    "AUTHGATE_CLIENT_SECRET",
}
FASTAPI_EXAMPLE = ROOT / "examples" / "fastapi_app" / "app.py"
MCP_EXAMPLE = ROOT / "examples" / "mcp_server" / "app.py"


@dataclass(frozen=True)
class Block:
    doc: str
    line: int
    lang: str
    body: str
    not_run: bool

    @property
    def name(self) -> str:
        return f"{self.doc}:{self.line}"


def blocks(doc: str) -> list[Block]:
    text = (ROOT / doc).read_text()
    found = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip().splitlines()
        indent = len(match["indent"])
        body = "".join(line[indent:] for line in match["body"].splitlines(True))
        found.append(
            Block(
                doc,
                text.count("\n", 0, match.start()) + 1,
                match["lang"],
                body,
                bool(before) and before[-1].strip().startswith(NOT_RUN),
            )
        )
    return found


ALL = [block for doc in DOCS for block in blocks(doc)]


def test_every_block_is_python_or_sh_or_marked() -> None:
    assert len(ALL) > 10
    for block in ALL:
        assert block.not_run or block.lang in ("python", "sh"), block.name
    # the marker is for the few fragments, not a way out
    assert sum(block.not_run for block in ALL) <= 2


# -- shell blocks ------------------------------------------------------------------


def commands(body: str) -> Iterator[list[str]]:
    """Each command of a block, ``$(…)`` substitutions as commands of their own."""
    for line in body.replace("\\\n", " ").splitlines():
        yield from (shlex.split(inner) for inner in re.findall(r"\$\(([^)]*)\)", line))
        words = shlex.split(line, comments=True)
        if words:
            yield words


@pytest.fixture(scope="module")
def authgate_paths() -> set[str]:
    from authgate.app import create_app

    app = create_app(Settings(_env_file=None, secret_key="x" * 32), migrate=False)
    return {str(getattr(route, "path", "")) for route in app.routes}


@pytest.fixture(scope="module")
def app_paths() -> set[str]:
    example = runpy.run_path(str(FASTAPI_EXAMPLE))
    return {str(getattr(route, "path", "")) for route in example["app"].routes}


def check_curl(words: list[str], authgate: set[str], app: set[str]) -> None:
    urls = [w for w in words if w.startswith(("http://", "https://"))]
    assert urls, words
    for url in urls:
        parts = urlsplit(url)
        if parts.netloc in AUTHGATE_HOSTS:
            assert parts.path in authgate, url
        else:
            assert parts.netloc in APP_HOSTS, url
            assert parts.path in app, url


@pytest.mark.parametrize(
    "block",
    [pytest.param(b, id=b.name) for b in ALL if b.lang == "sh" and not b.not_run],
)
def test_shell_commands_are_real(
    block: Block, authgate_paths: set[str], app_paths: set[str]
) -> None:
    settings = {name.upper() for name in Settings.model_fields}
    for words in commands(block.body):
        while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
            name = words.pop(0).split("=", 1)[0]
            if name.startswith("AUTHGATE_") and name not in CLIENT_VARIABLES:
                assert name.removeprefix("AUTHGATE_") in settings, name
        program, args = words[0], words[1:]
        if program == "authgate":
            try:
                build_parser(args).parse_args(args)
            except SystemExit as exc:
                pytest.fail(f"{block.name}: authgate {shlex.join(args)}: {exc}")
        elif program == "./dev":
            assert args[0] in ("serve", "python"), words
            if args[0] == "python":
                assert (ROOT / args[1]).is_file(), words
        elif program == "curl":
            check_curl(args, authgate_paths, app_paths)
        else:
            # installing is the one other thing the docs ask a shell for
            assert program in ("pip", "uv"), f"{block.name}: {program}"


# -- python blocks, against a live server --------------------------------------------


@pytest.fixture
def mcp_port() -> int:
    return free_port()


@pytest.fixture
def app_resource() -> str:
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def mcp_resource(mcp_port: int) -> str:
    return f"http://127.0.0.1:{mcp_port}/mcp"


@pytest.fixture
def server(
    start_server: Callable[..., LiveServer], app_resource: str, mcp_resource: str
) -> LiveServer:
    return start_server(
        extra_resources=[app_resource],
        mcp_resource_uri=mcp_resource,
        rate_limit_enabled=False,
    )


def device_token(server: LiveServer, login: Login, resource: str) -> str:
    """A person's token for ``resource``, by the curl recipe in docs/guard.md."""
    meta = discover(server.url)
    started = httpx.post(
        meta["device_authorization_endpoint"],
        data={
            "client_id": "authgate-cli",
            "scope": "openid read write",
            "resource": resource,
        },
    )
    assert started.status_code == 200, started.text
    with Browser(server.url, login) as browser:
        decided = browser.decide_device(started.json()["user_code"], "approve")
    assert decided.status_code == 200, decided.text
    answer = httpx.post(
        meta["token_endpoint"],
        data={
            "grant_type": DEVICE_GRANT,
            "client_id": "authgate-cli",
            "device_code": started.json()["device_code"],
        },
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


@pytest.fixture
def metadata_made(monkeypatch: pytest.MonkeyPatch) -> list[_remote.IssuerMetadata]:
    """Every IssuerMetadata the blocks make, so each run closes their clients."""
    made: list[_remote.IssuerMetadata] = []
    original = _remote.IssuerMetadata.__init__

    def record(self: _remote.IssuerMetadata, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(_remote.IssuerMetadata, "__init__", record)
    return made


def run_python(block: Block, namespace: dict[str, Any], **urls: str) -> None:
    code = block.body
    for placeholder, url in urls.items():
        code = code.replace(placeholder, url)
    exec(compile(code, block.name, "exec"), namespace)  # noqa: S102 - the docs' own code


def test_guard_python_blocks_run(
    server: LiveServer,
    actions: Actions,
    app_resource: str,
    metadata_made: list[_remote.IssuerMetadata],
) -> None:
    login = actions.user()
    for_app = device_token(server, login, app_resource)
    at_api = httpx.get(
        f"{server.url}/api/v1/me", headers={"Authorization": f"Bearer {for_app}"}
    )
    assert at_api.status_code == 401  # the app's token is no good at the API
    me = httpx.get(f"{server.url}/api/v1/me", headers=login.bearer).json()

    async def whoami(app: Any, token: str) -> httpx.Response:
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url=app_resource
            ) as http:
                return await http.get(
                    "/whoami", headers={"Authorization": f"Bearer {token}"}
                )
        finally:
            for metadata in metadata_made:
                await metadata.aclose()

    namespace: dict[str, Any] = {"SERVER": server.url, "RESOURCE": app_resource}
    apps = 0
    for block in blocks("docs/guard.md"):
        if block.lang != "python" or block.not_run:
            continue
        before = namespace.get("app")
        run_python(
            block,
            namespace,
            **{"https://auth.example.com": server.url},
            **{"https://api.example.com": app_resource},
        )
        if namespace.get("app") is before:
            continue
        apps += 1
        allowed = asyncio.run(whoami(namespace["app"], for_app))
        assert allowed.status_code == 200, (block.name, allowed.text)
        assert allowed.json()["subject"] == me["id"]
        refused = asyncio.run(whoami(namespace["app"], login.access_token))
        assert refused.status_code == 401, block.name
        assert f"resource={app_resource}" in refused.headers["www-authenticate"]
    assert apps == 2  # the FastAPI and the Starlette app


def test_mcp_python_blocks_run(
    server: LiveServer,
    actions: Actions,
    mcp_resource: str,
    mcp_port: int,
    metadata_made: list[_remote.IssuerMetadata],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    login = actions.user()
    for_mcp = device_token(server, login, mcp_resource)
    me = httpx.get(f"{server.url}/api/v1/me", headers=login.bearer).json()
    verifier_block, client_block = [
        b for b in blocks("docs/mcp.md") if b.lang == "python" and not b.not_run
    ]

    namespace: dict[str, Any] = {"SERVER": server.url, "RESOURCE": mcp_resource}
    run_python(verifier_block, namespace)

    async def verify(token: str) -> Any:
        try:
            return await namespace["AuthgateTokenVerifier"]().verify_token(token)
        finally:
            for metadata in metadata_made:
                await metadata.aclose()

    accepted = asyncio.run(verify(for_mcp))
    assert accepted is not None
    assert accepted.subject == me["id"]
    assert asyncio.run(verify(login.access_token)) is None  # the API's token

    # The client snippet: `authgate auth token --resource` is played by a
    # stand-in printing the token (the CLI's own is proven in tests/e2e/cli).
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stand_in = bin_dir / "authgate"
    stand_in.write_text(f"#!/bin/sh\necho {for_mcp}\n")
    stand_in.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    client: dict[str, Any] = {}
    run_python(client_block, client)
    env = {"AUTHGATE_SERVER": server.url, "RESOURCE_URI": mcp_resource}
    ready = "/.well-known/oauth-protected-resource/mcp"
    with app_process(MCP_EXAMPLE, env, port=mcp_port, ready=ready):
        assert asyncio.run(client["whoami"](mcp_resource)) == me["id"]


def test_the_principal_table_is_what_to_dict_returns() -> None:
    from authgate.guard import Principal

    text = (ROOT / "docs/guard.md").read_text()
    table = text.split("## Read the caller", 1)[1].split("\n\n|", 1)[1]
    table = table.split("\n\n", 1)[0]
    named = {
        name
        for row in table.splitlines()[2:]
        for name in re.findall(r"`(\w+)", row.split("|")[1])
    }
    returned = set(Principal(subject="usr_1", kind="jwt").to_dict())
    assert named - {"has_scope", "is_admin"} == returned
