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


#: RFC 9470: the server wants a more recent (or stronger) sign-in.
STEP_UP = "insufficient_user_authentication"


def step_up_message(challenge: str) -> str:
    """What a person does about RFC 9470's challenge (its ``WWW-Authenticate``
    value): sign in again, which a refresh cannot do (the refreshed token
    keeps the old sign-in)."""
    import re

    if re.search(r'acr_values="?aal2', challenge):
        need = "a sign-in with your second factor"
    else:
        found = re.search(r'max_age="?(\d+)', challenge)
        minutes = int(found[1]) // 60 if found else 0
        need = (
            f"a sign-in from the last {minutes} minutes"
            if minutes > 1
            else "a more recent sign-in"
        )
    return f"This needs {need}. Run 'authgate auth login' again, then retry."
