"""A short device label from a User-Agent header, as session lists show it."""

import re

_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chromium/", "Chromium"),
    ("HeadlessChrome/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iOS"),
    ("Mac OS X", "macOS"),
    ("Macintosh", "macOS"),
    ("Windows", "Windows"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)
_PRODUCT = re.compile(r"^([A-Za-z][\w.-]{0,40})/[\w.]+")


def device_label(user_agent: str | None) -> str:
    """``Chrome/macOS`` for browsers; the product name (``authgate-cli``) for tools."""
    if not user_agent:
        return "Unknown device"
    if user_agent.startswith("Mozilla/"):
        browser = next(
            (name for token, name in _BROWSERS if token in user_agent), "Browser"
        )
        system = next((name for token, name in _SYSTEMS if token in user_agent), None)
        return f"{browser}/{system}" if system else browser
    match = _PRODUCT.match(user_agent)
    return match[1] if match else "Unknown device"
