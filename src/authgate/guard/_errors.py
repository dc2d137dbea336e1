from collections.abc import Sequence


class CredentialError(Exception):
    """A credential was presented and refused. ``status`` 401 means "not valid";
    503 means the verifier could not decide (e.g. introspection unreachable),
    and the guard fails closed."""

    def __init__(
        self, description: str, *, error: str = "invalid_token", status: int = 401
    ) -> None:
        super().__init__(description)
        self.description = description
        self.error = error
        self.status = status


def wrong_audience(audience: str | Sequence[str] | None) -> CredentialError:
    """Names the resource to ask for (RFC 8707 ``resource``), so the caller
    learns how to get a token this app takes, not only that it was refused."""
    wanted = [audience] if isinstance(audience, str) else list(audience or ())
    if not wanted:
        return CredentialError("The token is not meant for this resource.")
    ask = " or ".join(f"resource={uri}" for uri in wanted)
    return CredentialError(
        f"The token is not meant for this resource: ask the issuer for one with "
        f"{ask} (RFC 8707)."
    )
