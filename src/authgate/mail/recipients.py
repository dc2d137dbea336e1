"""How a recipient appears in a log line: enough to tell two apart, not
enough to read the address (a log is read by more people than the user table)."""


def masked(address: str) -> str:
    """``ada@example.com`` → ``a***@example.com``."""
    local, at, domain = address.rpartition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"
