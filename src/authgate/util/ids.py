"""Public ids: a type prefix and 16 random base62 characters (``usr_…``).

The prefix tells a reader (and a support engineer) what an id names; the random
part makes ids unguessable, so an id is never enough to reach a resource.
"""

import secrets

from authgate.util import base62


def new_id(prefix: str) -> str:
    return f"{prefix}_{base62.encode(secrets.token_bytes(12), 16)}"
