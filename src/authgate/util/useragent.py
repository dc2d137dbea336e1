"""A short device label from a User-Agent header, as session lists show it.

Browsers name themselves by a token and also carry the tokens of the engines
they are built on (Samsung Internet and Edge say ``Chrome/``; every iOS
browser says ``Safari/``), so a browser's own token is looked for before any
it borrows. A table rather than ``ua-parser``: that library compiles its
thousand-odd rules on the first parse (0.6 s here, on a sign-in) and its
family names (``Chrome Mobile iOS``) would need this mapping anyway.
"""

import re

_BROWSERS = (
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),  # Android
    ("EdgiOS/", "Edge"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("CriOS/", "Chrome"),  # iOS
    ("FxiOS/", "Firefox"),
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
