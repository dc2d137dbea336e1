"""The use of a revoked PAT or API key is audited at most once a minute per
credential, across instances: a flood of a revoked secret is not a flood of
writes, and the first use after the revocation is always written."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from authgate.domain.credentials import TOUCH_INTERVAL
from authgate.util import clock
from tests.support import db
from tests.support.actions import Actions
from tests.support.asserts import error
from tests.support.live import LiveServer

USED = "credential.used_after_revoke"


def audited(database_url: str, credential_id: str) -> int:
    events = db.dump(database_url)["audit_events"]
    return sum(
        1 for e in events if (e["action"], e["target_id"]) == (USED, credential_id)
    )


def test_a_revoked_credential_is_audited_once_a_minute_across_instances(
    server: LiveServer,
    start_server: Callable[..., LiveServer],
    actions: Actions,
    client: httpx.Client,
    database_url: str,
) -> None:
    other = start_server()  # a second instance on the same database
    alice = actions.user()
    pat, key = actions.make_pat(alice), actions.make_key(alice)
    for made in (pat, key):
        # Used just before the revocation: the next use is audited all the same.
        assert client.get(
            "/api/v1/me", headers=Actions.bearer(made["token"])
        ).is_success
    client.delete(f"/api/v1/access-tokens/{pat['id']}", headers=alice.bearer)
    client.delete(f"/api/v1/api-keys/{key['id']}", headers=alice.bearer)

    def use(args: tuple[str, str]) -> httpx.Response:
        url, token = args
        return httpx.get(f"{url}/api/v1/me", headers=Actions.bearer(token))

    for made in (pat, key):
        flood = [(s.url, made["token"]) for s in (server, other)] * 10
        with ThreadPoolExecutor(8) as pool:
            for answer in pool.map(use, flood):
                error(answer, 401, "invalid_token")
        assert audited(database_url, made["id"]) == 1
    clock.advance(TOUCH_INTERVAL.total_seconds() + 1)
    for made in (pat, key):
        error(use((other.url, made["token"])), 401, "invalid_token")
        error(use((server.url, made["token"])), 401, "invalid_token")
        assert audited(database_url, made["id"]) == 2
