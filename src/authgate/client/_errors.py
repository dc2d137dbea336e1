class AuthgateClientError(Exception):
    """Base of every error the client raises; ``str()`` is one readable line."""


class ApiError(AuthgateClientError):
    """The server answered with an error (``{"error", "error_description"}``)."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description or error)
        self.status = status
        self.error = error
        self.description = description


class ServerUnreachable(AuthgateClientError):
    """No answer from the server (refused, DNS, timeout)."""


class NotAuthenticated(AuthgateClientError):
    """No usable token: the caller must log in or pass one."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message or HOW_TO_AUTHENTICATE)


HOW_TO_AUTHENTICATE = (
    "Not authenticated. Run 'authgate auth login' or set --token / AUTHGATE_TOKEN."
)
