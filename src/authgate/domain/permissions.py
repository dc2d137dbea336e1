"""Who may do what in an organization: the one table that code, the docs and
the permission-matrix test all read.

Owners may do everything; admins run the organization but cannot touch owners
or delete it; members use it (and may create API keys); viewers only read.
"""

import enum

from authgate.errors import Forbidden


class Role(enum.StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"


class Action(enum.StrEnum):
    READ = "org.read"
    UPDATE = "org.update"
    #: require a second factor of every member
    REQUIRE_MFA = "org.require_mfa"
    DELETE = "org.delete"
    READ_MEMBERS = "members.read"
    INVITE = "members.invite"
    CHANGE_ROLE = "members.change_role"
    REMOVE_MEMBER = "members.remove"
    CREATE_API_KEY = "api_keys.create"
    READ_AUDIT = "audit.read"


_ALL = frozenset(Action)
_RUN = _ALL - {Action.DELETE, Action.REQUIRE_MFA}
_USE = frozenset({Action.READ, Action.READ_MEMBERS, Action.CREATE_API_KEY})
_LOOK = frozenset({Action.READ, Action.READ_MEMBERS})

TABLE: dict[Role, frozenset[Action]] = {
    Role.OWNER: _ALL,
    Role.ADMIN: _RUN,
    Role.MEMBER: _USE,
    Role.VIEWER: _LOOK,
}


def allowed(role: str | None, action: Action) -> bool:
    return role in TABLE and action in TABLE[Role(role)]


def require(role: str | None, action: Action) -> None:
    if not allowed(role, action):
        raise Forbidden(
            f"Your role in this organization does not allow {action.value}."
        )


def require_owner_for(role: str | None, *touched: str | None) -> None:
    """Granting, changing or removing the owner role takes an owner."""
    if Role.OWNER in touched and role != Role.OWNER:
        raise Forbidden("Only an owner can grant, change or remove the owner role.")


def markdown_table() -> str:
    """The table as Markdown, for docs/permissions.md."""
    roles = list(Role)
    lines = [
        "| action | " + " | ".join(r.value for r in roles) + " |",
        "|---|" + "---|" * len(roles),
    ]
    for action in Action:
        marks = " | ".join("yes" if action in TABLE[r] else "no" for r in roles)
        lines.append(f"| `{action.value}` | {marks} |")
    return "\n".join(lines) + "\n"
