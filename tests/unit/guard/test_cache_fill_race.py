"""A revocation that commits while a credential is being verified must not be
undone by the verification storing its (now stale) answer afterwards."""

from typing import Any

import anyio

from authgate.guard import GuardMiddleware, Principal, Verified
from authgate.guard._credentials import Credential
from authgate.util import clock


class RevokedMidway:
    """Reads the credential as valid, then (as if another request revoked it
    while the database answered) the fan-out evicts its tags."""

    def __init__(self, guard: GuardMiddleware) -> None:
        self.guard = guard
        self.calls = 0

    def accepts(self, credential: Credential) -> bool:
        return True

    async def verify(self, credential: Credential) -> Verified:
        self.calls += 1
        if self.calls == 1:
            self.guard.cache.invalidate("crd_1")
        return Verified(
            Principal(subject="usr_1", kind="pat"),
            valid_until=clock.now().timestamp() + 60,
            tags=("crd_1", "usr_1"),
        )


async def no_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The app behind the guard: never reached, the test calls resolve()."""
    raise AssertionError


def test_a_verification_that_raced_a_revocation_is_not_cached() -> None:
    guard = GuardMiddleware(app=no_app, verifiers=[])
    verifier = RevokedMidway(guard)
    guard.verifiers = [verifier]
    credential = Credential("ag_pat_x", "header")

    async def twice() -> None:
        await guard.resolve(credential)
        await guard.resolve(credential)  # asks again: the first was not kept
        await guard.resolve(credential)  # the second (no race) was

    anyio.run(twice)
    assert verifier.calls == 2
