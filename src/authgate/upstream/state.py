"""The transient state of one upstream sign-in, sealed into a cookie.

Between ``/login/provider`` and ``/auth/callback`` the browser, and only the
browser, holds the attempt's secrets (:class:`~authgate.upstream.base.Flow`:
state, nonce, PKCE verifier), where to go afterwards and an invite code. No
server keeps anything, so any instance can finish a sign-in another began.

- **Sealed**: AES-256-GCM (NIST SP 800-38D) under a key derived from the
  server secret (``derived_key("upstream-state")``) with a fresh 96-bit nonce
  per cookie; any change to the cookie fails the tag check.
- **Short-lived**: refused :data:`LIFETIME` after it was made.
- **Bound to the browser**: the callback's ``state`` parameter must equal the
  sealed one (RFC 6749 §10.12), so a callback URL is useless in any browser
  but the one that started the attempt.
- **Single use**: the caller records the state as used (``domain.replay``)
  before exchanging the code, and clears the cookie.
"""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from authgate.domain.sealing import Sealer
from authgate.upstream.base import Flow, UpstreamError

COOKIE = "ag_upstream"
#: The cookie is sent to the callback only.
COOKIE_PATH = "/auth/callback"
LIFETIME = timedelta(minutes=10)
#: Associated data: a sealed value made for another purpose never opens here.
_CONTEXT = "authgate/upstream-login-state/v1"


@dataclass(frozen=True, slots=True)
class LoginState:
    provider: str
    flow: Flow
    next: str  #: a same-origin path
    invite: str | None
    issued_at: datetime

    @property
    def expires_at(self) -> datetime:
        return self.issued_at + LIFETIME


def seal(key: bytes, state: LoginState) -> str:
    return Sealer(key).seal_text(
        {
            "p": state.provider,
            "s": state.flow.state,
            "n": state.flow.nonce,
            "v": state.flow.code_verifier,
            "r": state.flow.redirect_uri,
            "x": state.next,
            "i": state.invite,
            "t": state.issued_at.timestamp(),
        },
        _CONTEXT,
    )


def open_sealed(
    keys: Sequence[bytes], sealed: str | None, *, now: datetime
) -> LoginState:
    """The state a cookie holds; :class:`UpstreamError` when it is missing,
    tampered with, or expired."""
    if not sealed:
        raise UpstreamError(
            "state_missing",
            "This sign-in did not start here, or your browser did not keep its "
            "cookie. Start again from the sign-in page.",
        )
    data = Sealer(*keys).open_text(sealed, _CONTEXT) or {}  # {}: refused below
    try:
        state = LoginState(
            provider=str(data["p"]),
            flow=Flow(
                state=str(data["s"]),
                nonce=str(data["n"]),
                code_verifier=str(data["v"]),
                redirect_uri=str(data["r"]),
            ),
            next=str(data["x"]),
            invite=str(data["i"]) if data["i"] is not None else None,
            issued_at=datetime.fromtimestamp(float(data["t"]), UTC),
        )
    except (ValueError, KeyError, TypeError):
        raise UpstreamError(
            "state_invalid",
            "The sign-in state was altered or is not valid. Start again from the "
            "sign-in page.",
        ) from None
    if now >= state.expires_at:
        raise UpstreamError(
            "state_expired",
            "This sign-in took too long and has expired. Start again from the "
            "sign-in page.",
        )
    return state


def check_state(state: LoginState, returned: str | None) -> None:
    """The callback's ``state`` parameter must be the sealed one."""
    if not returned or not secrets.compare_digest(
        returned.encode(), state.flow.state.encode()
    ):
        raise UpstreamError(
            "state_mismatch",
            "The sign-in response does not belong to the sign-in this browser "
            "started. Start again from the sign-in page.",
        )
