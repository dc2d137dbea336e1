import pytest

from authgate.util.useragent import device_label

CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)
FIREFOX_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
SAFARI_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Safari/605.1.15"
)
EDGE_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51"
)
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36"
)
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
# The strings below are the forms their vendors document (Chrome for iOS,
# Firefox for iOS, Microsoft Edge, Samsung Internet developer pages).
CHROME_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1"
)
CHROME_IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1"
)
FIREFOX_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) FxiOS/127.0 Mobile/15E148 Safari/605.1.15"
)
EDGE_ANDROID = (
    "Mozilla/5.0 (Linux; Android 10; HD1913) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.6478.71 Mobile Safari/537.36 "
    "EdgA/126.0.2592.80"
)
EDGE_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 EdgiOS/126.2592.86 Mobile/15E148 "
    "Safari/605.1.15"
)
SAMSUNG_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 "
    "(KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 "
    "Mobile Safari/537.36"
)


@pytest.mark.parametrize(
    ("user_agent", "label"),
    [
        (CHROME_MAC, "Chrome/macOS"),
        (FIREFOX_WINDOWS, "Firefox/Windows"),
        (SAFARI_IPHONE, "Safari/iOS"),
        (SAFARI_MAC, "Safari/macOS"),
        (EDGE_WINDOWS, "Edge/Windows"),
        (CHROME_ANDROID, "Chrome/Android"),
        (FIREFOX_LINUX, "Firefox/Linux"),
        (CHROME_IPHONE, "Chrome/iOS"),
        (CHROME_IPAD, "Chrome/iOS"),
        (FIREFOX_IPHONE, "Firefox/iOS"),
        (EDGE_ANDROID, "Edge/Android"),
        (EDGE_IPHONE, "Edge/iOS"),
        (SAMSUNG_ANDROID, "Samsung Internet/Android"),
        ("authgate-cli/0.1", "authgate-cli"),
        ("authgate-cli/0.1.0 (linux; python 3.11)", "authgate-cli"),
        ("python-httpx/0.28.1", "python-httpx"),
        ("curl/8.5.0", "curl"),
    ],
)
def test_labels(user_agent: str, label: str) -> None:
    assert device_label(user_agent) == label


@pytest.mark.parametrize("user_agent", [None, "", "!!!", "/1.0", "no version here"])
def test_unknown(user_agent: str | None) -> None:
    assert device_label(user_agent) == "Unknown device"


def test_browser_without_a_known_system() -> None:
    assert device_label("Mozilla/5.0 (Plan9) Firefox/1.0") == "Firefox"
