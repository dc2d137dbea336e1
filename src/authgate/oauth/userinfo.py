"""The UserInfo endpoint (OIDC Core §5.3): claims about the user an access
token with the ``openid`` scope names, as far as its scopes reveal them.

The token is verified by the server's guard like any API call (audience: the
API); this module only decides what to say. Errors are RFC 6750 §3.1's.
"""

from typing import TYPE_CHECKING, Any

from authgate.oauth.errors import InsufficientScope, InvalidToken
from authgate.oauth.issuance import user_claims

if TYPE_CHECKING:
    from authgate.domain.stores import Stores


async def claims(
    stores: "Stores", *, user_id: str | None, scopes: frozenset[str]
) -> dict[str, Any]:
    if user_id is None:
        raise InvalidToken(
            "This token belongs to no user.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    if "openid" not in scopes:
        raise InsufficientScope(
            "The token lacks the openid scope.",
            headers={
                "WWW-Authenticate": 'Bearer error="insufficient_scope", scope="openid"'
            },
        )
    user = await stores.users.get(user_id)
    if user is None or not user.active:
        raise InvalidToken(
            "The token's user is disabled or gone.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return {"sub": user.id, **user_claims(user, tuple(scopes))}
