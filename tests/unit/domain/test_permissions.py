"""The org role matrix: owners do everything, admins all but delete, members
use, viewers look; only an owner touches the owner role."""

import itertools

import pytest

from authgate.domain.permissions import (
    TABLE,
    Action,
    Role,
    allowed,
    require,
    require_owner_for,
)
from authgate.errors import Forbidden


def test_each_role_can_do_all_a_lower_one_can() -> None:
    roles = list(Role)  # highest first
    for higher, lower in itertools.pairwise(roles):
        assert TABLE[lower] < TABLE[higher]


@pytest.mark.parametrize(
    ("role", "action", "expected"),
    [
        (Role.OWNER, Action.DELETE, True),
        (Role.ADMIN, Action.DELETE, False),
        (Role.ADMIN, Action.CHANGE_ROLE, True),
        (Role.MEMBER, Action.CREATE_API_KEY, True),
        (Role.MEMBER, Action.INVITE, False),
        (Role.VIEWER, Action.READ_MEMBERS, True),
        (Role.VIEWER, Action.CREATE_API_KEY, False),
        (None, Action.READ, False),
        ("superuser", Action.READ, False),
    ],
)
def test_matrix(role: str | None, action: Action, expected: bool) -> None:
    assert allowed(role, action) is expected


def test_require_names_the_action() -> None:
    with pytest.raises(Forbidden, match=r"org\.delete"):
        require(Role.ADMIN, Action.DELETE)


def test_only_an_owner_touches_the_owner_role() -> None:
    require_owner_for(Role.OWNER, Role.OWNER, Role.MEMBER)
    require_owner_for(Role.ADMIN, Role.MEMBER, Role.VIEWER)
    with pytest.raises(Forbidden):
        require_owner_for(Role.ADMIN, Role.MEMBER, Role.OWNER)
    with pytest.raises(Forbidden):
        require_owner_for(Role.ADMIN, Role.OWNER)
