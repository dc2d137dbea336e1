"""Wrong secrets for refusal tests, always wrong: a random secret may already
hold whatever character a test would write over it, and the last character of
base64 text may carry only padding bits."""


def mangle(secret: str) -> str:
    """``secret`` with its middle character replaced by a different one."""
    at = len(secret) // 2
    other = "B" if secret[at] == "A" else "A"
    return secret[:at] + other + secret[at + 1 :]
