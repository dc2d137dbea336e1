"""``authgate auth login``: the device flow, the loopback redirect (printed URL,
or a real browser through ``$BROWSER``), and every way they end: the real
console script in its own process, the person played by an httpx client
holding a session cookie (or by headless Chromium)."""

import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest

from tests.support import db
from tests.support.actions import PASSWORD, Actions, Login
from tests.support.cli import Cli, failed, ok
from tests.support.live import LiveServer
from tests.support.oauth import Browser

pytestmark = pytest.mark.e2e

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
CHROMIUM = "/usr/bin/chromium"
OAUTH_FIELDS = ("access_token", "refresh_token", "expires_at")
CLI_CLIENT_ID = "authgate-cli"
USER_CODE = re.compile(
    r"^And enter code: ([BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4})$"
)


@pytest.fixture(scope="module")
def pycache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pycache")


@pytest.fixture
def cli(tmp_path: Path, server: LiveServer, pycache: Path) -> Cli:
    return Cli(tmp_path, server.url, pycache)


@pytest.fixture
def alice(actions: Actions) -> Login:
    return actions.user()


class Running:
    """A command running while the test plays the person: its output line by
    line, waited for with a bound."""

    def __init__(self, process: "subprocess.Popen[str]") -> None:
        self.process = process
        self.seen: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def expect(
        self, pattern: str | re.Pattern[str], timeout: float = 60
    ) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {pattern!r} in {self.seen}") from None
            if line is None:
                self._lines.put(None)
                stderr = self.process.stderr.read() if self.process.stderr else ""
                raise AssertionError(f"ended without {pattern!r}: {self.seen} {stderr}")
            self.seen.append(line)
            found = re.search(pattern, line)
            if found:
                return found

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    def finish(self, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        code = self.process.wait(timeout=timeout)
        while (line := self._lines.get(timeout=10)) is not None:
            self.seen.append(line)
        stderr = self.process.stderr.read() if self.process.stderr else ""
        return subprocess.CompletedProcess(
            self.process.args, code, "\n".join(self.seen) + "\n", stderr
        )


@pytest.fixture
def run(cli: Cli) -> Iterator[Callable[..., Running]]:
    """``run("auth", "login", "--device")``: start it; stopped after the test."""
    started: list[Running] = []

    def start(*args: str, env: dict[str, str | None] | None = None) -> Running:
        running = Running(cli.popen(*args, env=env))
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


def assert_signed_in(
    cli: Cli, result: subprocess.CompletedProcess[str], login: Login
) -> None:
    out = ok(result)
    assert f"✓ Successfully authenticated as {login.username} on {cli.server}!" in out
    entry = cli.entry()
    for field in OAUTH_FIELDS:
        assert entry.get(field), field
    assert entry["expires_at"] > time.time()
    assert entry["username"] == login.username
    assert "auth_token" not in entry
    assert "client_id" not in entry  # the built-in client: nothing to remember
    # the stored token is an OAuth one, and it is what commands use now
    status = cli.ok("auth", "status").splitlines()
    assert "Authenticated via: OAuth" in status
    assert "Status: Valid" in status
    assert cli.ok("whoami").strip() == f"{login.username} via jwt"


# -- the device flow (RFC 8628) ------------------------------------------------


def test_device_login(
    cli: Cli, run: Callable[..., Running], server: LiveServer, alice: Login
) -> None:
    """The main flow, on both databases."""
    login = run("auth", "login", "--device")
    visit = login.expect(r"^Please visit: (\S+)$")
    assert visit[1] == f"{server.url}/device"
    code = login.expect(USER_CODE)[1]
    login.expect(r"^Waiting for authorization\.\.\.$")

    with Browser(server.url, alice) as browser:
        page = browser.device_page(code.lower().replace("-", ""))  # as typed
        assert page.status_code == 200
        assert code in page.text
        decided = browser.decide_device(code, "approve")
    assert decided.status_code == 200
    assert "Device connected" in decided.text

    assert_signed_in(cli, login.finish(), alice)


@SQLITE_ONLY
def test_device_login_denied(
    cli: Cli, run: Callable[..., Running], server: LiveServer, alice: Login
) -> None:
    login = run("auth", "login", "--device")
    code = login.expect(USER_CODE)[1]

    with Browser(server.url, alice) as browser:
        decided = browser.decide_device(code, "deny")
    assert "Request denied" in decided.text

    result = login.finish()
    assert failed(result, 1) == "error: The sign-in request was denied."
    assert "access_token" not in cli.entry()


# -- the loopback redirect (RFC 8252) ------------------------------------------


def start_no_browser(run: Callable[..., Running]) -> tuple[Running, str, int]:
    """``auth login --no-browser`` up to where it waits: (the command, the URL
    it printed, the loopback port it listens on)."""
    login = run("auth", "login", "--no-browser")
    login.expect(r"^Open this URL in a browser to sign in:$")
    url = login.expect(r"^  (http://\S+/oauth/authorize\?\S+)$")[1]
    waiting = login.expect(
        r"^Waiting for the redirect on 127\.0\.0\.1:(\d+)\. Over SSH, forward it "
        r"first: ssh -L (\d+):127\.0\.0\.1:(\d+) <this host>$"
    )
    port = int(waiting[1])
    assert int(waiting[2]) == int(waiting[3]) == port
    return login, url, port


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@SQLITE_ONLY
def test_no_browser_login(
    cli: Cli, run: Callable[..., Running], server: LiveServer, alice: Login
) -> None:
    login, url, port = start_no_browser(run)
    asked = query(url)
    assert url.startswith(f"{server.url}/oauth/authorize?")
    assert asked["redirect_uri"] == f"http://127.0.0.1:{port}/callback"
    assert asked["code_challenge_method"] == "S256"
    assert asked["response_type"] == "code"
    assert asked["client_id"] == CLI_CLIENT_ID  # built in: nothing registered

    with Browser(server.url, alice) as browser:
        back = browser.authorize(url)  # the consent page, Approve
    assert back.startswith(f"http://127.0.0.1:{port}/callback?")
    landing = httpx.get(back)  # the browser follows the redirect to the CLI
    assert landing.status_code == 200
    assert "Signed in" in landing.text

    assert_signed_in(cli, login.finish(), alice)


@SQLITE_ONLY
def test_consent_denied(
    cli: Cli, run: Callable[..., Running], server: LiveServer, alice: Login
) -> None:
    login, url, _port = start_no_browser(run)
    with Browser(server.url, alice) as browser:
        back = browser.authorize(url, "deny")
    assert query(back)["error"] == "access_denied"
    assert "Sign-in failed" in httpx.get(back).text

    message = failed(login.finish(), 1)
    assert message.startswith("error: Sign-in was refused: ")
    assert "access_token" not in cli.entry()


@SQLITE_ONLY
def test_a_callback_with_the_wrong_state_is_refused(
    cli: Cli, run: Callable[..., Running], server: LiveServer, alice: Login
) -> None:
    """A code sent to the CLI by someone else's login (login CSRF) is not used."""
    login, url, _port = start_no_browser(run)
    with Browser(server.url, alice) as browser:
        back = browser.authorize(url)
    parts = urlsplit(back)
    forged = {**query(back), "state": "someone-elses-state"}
    httpx.get(urlunsplit(parts._replace(query=urlencode(forged))))

    message = failed(login.finish(), 1)
    assert "state mismatch" in message
    assert "access_token" not in cli.entry()


@SQLITE_ONLY
def test_login_times_out(cli: Cli) -> None:
    """No browser ever comes back: the wait ends (5 minutes; 2 s here)."""
    started = time.monotonic()
    result = cli(
        "auth",
        "login",
        env={"AUTHGATE_LOGIN_TIMEOUT": "2", "BROWSER": "true"},  # opens nothing
        timeout=60,
    )
    assert time.monotonic() - started < 45
    out = result.stdout.splitlines()
    assert out[0] == "Opening your browser to sign in. If it does not open, visit:"
    assert out[1].startswith("  http://")
    assert failed(result, 1) == (
        "error: Timed out after 2 seconds waiting for the browser sign-in. "
        "Run 'authgate auth login' again."
    )
    assert "access_token" not in cli.entry()


@SQLITE_ONLY
def test_no_browser_to_open(cli: Cli) -> None:
    """The browser command fails: the URL and how to reach the CLI are printed."""
    result = cli(
        "auth",
        "login",
        env={"AUTHGATE_LOGIN_TIMEOUT": "2", "BROWSER": "false"},
        timeout=60,
    )
    assert "Could not open a browser; open the URL above in one." in result.stdout
    assert "ssh -L " in result.stdout
    assert "Timed out" in failed(result, 1)


def oauth_clients(database_url: str) -> list[dict[str, object]]:
    return db.dump(database_url)["oauth_clients"]


@SQLITE_ONLY
def test_login_registers_no_client(
    tmp_path: Path,
    start_server: Callable[..., LiveServer],
    pycache: Path,
    database_url: str,
) -> None:
    """The CLI is the server's built-in client: it signs in on a server where
    nobody may register, and no client row is ever written."""
    server = start_server(open_client_registration="none")
    cli = Cli(tmp_path, server.url, pycache)
    with server.client() as http:
        alice = Actions(http).user()
    login = Running(cli.popen("auth", "login", "--device"))
    try:
        code = login.expect(USER_CODE)[1]
        with Browser(server.url, alice) as browser:
            page = browser.device_page(code)
            assert "Authgate CLI" in page.text
            assert "built in" in page.text
            browser.decide_device(code, "approve")
        assert_signed_in(cli, login.finish(), alice)
    finally:
        login.stop()
    assert oauth_clients(database_url) == []


@SQLITE_ONLY
def test_a_client_id_saved_by_an_older_cli_is_ignored(
    cli: Cli, run: Callable[..., Running], server: LiveServer, alice: Login
) -> None:
    """An older CLI registered its own client and saved its id: the new login
    uses the built-in client and forgets the old id."""
    cli.store(client_id="cl_registered_by_an_older_cli")
    login, url, _port = start_no_browser(run)
    assert query(url)["client_id"] == CLI_CLIENT_ID
    with Browser(server.url, alice) as browser:
        httpx.get(browser.authorize(url))
    assert_signed_in(cli, login.finish(), alice)


@SQLITE_ONLY
def test_not_an_oauth_server(cli: Cli, server: LiveServer) -> None:
    wrong = f"{server.url}/not-here"
    message = failed(cli("auth", "login", "--device", "--server", wrong), 1)
    assert message == (
        f"error: sign-in failed: {wrong} publishes no OAuth metadata "
        "(HTTP 404). Check the server URL."
    )


# -- a real browser ------------------------------------------------------------

BROWSER_SCRIPT = """\
#!{python}
# $BROWSER for the test: headless Chromium signs in and approves.
import os
import sys

from playwright.sync_api import sync_playwright

with sync_playwright() as playwright:
    browser = playwright.chromium.launch(
        executable_path={chromium!r},
        args=[
            "--no-sandbox",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-features=AutofillServerCommunication",
        ],
    )
    page = browser.new_page()
    page.set_default_timeout(30_000)
    try:
        page.goto(sys.argv[1])
        page.get_by_label("Username").fill(os.environ["TEST_USERNAME"])
        page.get_by_label("Password").fill(os.environ["TEST_PASSWORD"])
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.get_by_role("button", name="Approve").click()
        page.get_by_text("Signed in.").wait_for()
    except Exception:
        alerts = page.get_by_role("alert").all_inner_texts()
        sys.exit(f"browser stuck at {{page.url}}: {{alerts}}")
    browser.close()
"""


@SQLITE_ONLY
@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")
@pytest.mark.timeout(200)
def test_browser_login(cli: Cli, tmp_path: Path, alice: Login) -> None:
    script = tmp_path / "browser.py"
    script.write_text(BROWSER_SCRIPT.format(python=sys.executable, chromium=CHROMIUM))
    script.chmod(0o755)
    assert shutil.which(str(script))

    result = cli(
        "auth",
        "login",
        env={
            "BROWSER": str(script),
            "TEST_USERNAME": alice.username,
            "TEST_PASSWORD": PASSWORD,
            "AUTHGATE_LOGIN_TIMEOUT": "60",
        },
        timeout=150,
    )

    assert "Opening your browser to sign in" in result.stdout
    assert_signed_in(cli, result, alice)


# -- tokens for the person's own app (RFC 8707) ----------------------------------

APP = "http://127.0.0.1:8001"
OTHER_APP = "http://127.0.0.1:8003"


def claims(token: str) -> dict[str, object]:
    import jwt

    return dict(jwt.decode(token, options={"verify_signature": False}))


@SQLITE_ONLY
def test_login_for_your_own_app_then_a_token_for_it(
    start_server: Callable[..., LiveServer], tmp_path: Path, pycache: Path
) -> None:
    """``auth login --resource APP`` is granted the API and the app; the stored
    token stays the API's alone, and ``auth token --resource APP`` prints one
    whose audience is the app alone, which the app's guard accepts; a resource
    the sign-in did not ask for says how to get it."""
    import asyncio

    from authgate.guard import (
        Credential,
        CredentialError,
        IssuerMetadata,
        JwksKeySource,
        JwtVerifier,
    )

    server = start_server(extra_resources=[APP, OTHER_APP])
    with server.client() as http:
        alice = Actions(http).user()
    cli = Cli(tmp_path, server.url, pycache)
    login = Running(cli.popen("auth", "login", "--no-browser", "--resource", APP))
    try:
        url = login.expect(r"^  (http://\S+/oauth/authorize\?\S+)$")[1]
        assert parse_qs(urlsplit(url).query)["resource"] == [server.url, APP]
        with Browser(server.url, alice) as browser:
            httpx.get(browser.authorize(url))
        assert_signed_in(cli, login.finish(), alice)
    finally:
        login.stop()
    assert claims(cli.entry()["access_token"])["aud"] == server.url

    for_app = cli.ok("auth", "token", "--resource", APP).strip()
    assert claims(for_app)["aud"] == APP
    assert claims(for_app)["sub"] == claims(cli.entry()["access_token"])["sub"]
    # kept until it is about to expire: asking again mints nothing
    assert cli.ok("auth", "token", "--resource", APP + "/").strip() == for_app
    # the API's token is still the one commands use, and it is not the app's
    assert claims(cli.ok("auth", "token").strip())["aud"] == server.url
    assert cli.ok("whoami").strip() == f"{alice.username} via jwt"
    # the rotated refresh token still serves the API once the token expires
    cli.store(expires_at=1)
    assert cli.ok("whoami").strip() == f"{alice.username} via jwt"
    assert claims(cli.entry()["access_token"])["aud"] == server.url

    async def app_guard(token: str) -> str:
        async with httpx.AsyncClient() as http:
            keys = JwksKeySource(IssuerMetadata(server.url, http))
            guard = JwtVerifier(keys, issuer=server.url, audience=APP)
            try:
                verified = await guard.verify(Credential(token, "bearer"))
            except CredentialError as refused:
                return refused.description
        return verified.principal.subject

    assert asyncio.run(app_guard(for_app)) == claims(for_app)["sub"]
    refused = asyncio.run(app_guard(cli.entry()["access_token"]))
    assert f"resource={APP}" in refused

    not_asked = failed(cli("auth", "token", "--resource", OTHER_APP), 1)
    assert "was not part of the grant" in not_asked
    assert f"authgate auth login --resource {OTHER_APP}" in not_asked
    unknown = failed(cli("auth", "token", "--resource", "https://nowhere.example"), 1)
    assert "are not issued here" in unknown
    assert "AUTHGATE_EXTRA_RESOURCES" in unknown

    # signing out forgets the tokens got for other resources too
    cli.ok("auth", "logout")
    assert "resource_tokens" not in cli.entry()
    no_session = failed(cli("auth", "token", "--resource", APP), 1)
    assert f"Run 'authgate auth login --resource {APP}'" in no_session
