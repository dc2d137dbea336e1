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
