"""The one rule of what a credential may do (``domain/authority.py``), case
by case; the integration suites drive the same rule through a live server."""

import pytest

from authgate.domain.authority import (
    Holder,
    Power,
    grantable,
    parent,
    powers,
    require,
    require_revoke,
)
from authgate.errors import Forbidden, InsufficientScope

USER = "usr_1"
RW = frozenset({"read", "write"})
EVERYTHING = {Power.CREDENTIALS, Power.ACCOUNT, Power.SIGN_IN, Power.ADMIN}


@pytest.mark.parametrize(
    ("holder", "expected"),
    [
        (Holder("session", RW, user_id=USER, user_is_admin=True), EVERYTHING),
        (Holder("local", RW, user_id=USER, user_is_admin=True), EVERYTHING),
        (
            Holder("jwt", RW, client_id="authgate", user_id=USER, user_is_admin=True),
            EVERYTHING,
        ),
        (
            Holder("jwt", RW, client_id="authgate-cli", user_id=USER),
            EVERYTHING - {Power.ADMIN},
        ),
        # Another issuer's client named like ours is not ours.
        (
            Holder(
                "jwt",
                RW | {"admin"},
                client_id="authgate",
                user_id=USER,
                user_is_admin=True,
                foreign=True,
            ),
            set(),
        ),
        (Holder("jwt", RW, client_id="cl_x", user_id=USER, user_is_admin=True), set()),
        (
            Holder(
                "jwt",
                RW | {"admin"},
                client_id="cl_x",
                user_id=USER,
                user_is_admin=True,
            ),
            {Power.ADMIN},
        ),
        (Holder("jwt", RW | {"admin"}, client_id="cl_x", user_id=USER), set()),
        (Holder("client", RW | {"admin"}, client_id="cl_x"), set()),
        (
            Holder("pat", RW, user_id=USER, user_is_admin=True),
            {Power.CREDENTIALS, Power.ACCOUNT},
        ),
        (
            Holder("pat", RW | {"admin"}, user_id=USER, user_is_admin=True),
            {Power.CREDENTIALS, Power.ACCOUNT, Power.ADMIN},
        ),
        (Holder("api_key", RW | {"admin"}, user_id=USER, user_is_admin=True), set()),
    ],
)
def test_powers(holder: Holder, expected: set[Power]) -> None:
    assert powers(holder) == expected


def test_refusals_say_why() -> None:
    with pytest.raises(Forbidden, match="person"):
        require(Holder("client", RW, client_id="cl_x"), Power.CREDENTIALS)
    with pytest.raises(InsufficientScope):
        require(Holder("pat", RW, user_id=USER, user_is_admin=True), Power.ADMIN)
    with pytest.raises(Forbidden, match="administrator"):
        require(Holder("session", RW, user_id=USER), Power.ADMIN)


def test_only_a_pat_or_key_revokes_itself_without_the_power() -> None:
    key = Holder("api_key", RW, user_id=USER, credential_id="key_1")
    require_revoke(key, "key_1")
    with pytest.raises(Forbidden):
        require_revoke(key, "key_2")
    # A JWT's id is its jti, which another issuer may choose.
    with pytest.raises(Forbidden):
        require_revoke(
            Holder("jwt", RW, user_id=USER, credential_id="tok_1", foreign=True),
            "tok_1",
        )


def test_what_a_maker_may_give() -> None:
    admin_session = Holder("session", RW, user_id=USER, user_is_admin=True)
    assert parent(admin_session).scopes == {"read", "write", "admin"}
    assert parent(admin_session).expires_at is None
    plain_pat = Holder("pat", frozenset({"read"}), user_id=USER, user_is_admin=True)
    assert parent(plain_pat).scopes == {"read"}
    with pytest.raises(Forbidden):
        parent(Holder("api_key", RW, user_id=USER))


def test_admin_is_granted_only_by_an_admin_to_an_admin_registered_client() -> None:
    asked = ("read", "admin")
    assert grantable(asked, registration="admin", approver_is_admin=True) == asked
    assert grantable(asked, registration="admin", approver_is_admin=False) == ("read",)
    for registration in ("dynamic", "metadata_document"):
        assert grantable(asked, registration=registration, approver_is_admin=True) == (
            "read",
        )
