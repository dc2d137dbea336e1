"""Usernames for just-in-time accounts, made from what a provider says."""

import pytest

from authgate.domain.identities import username_base
from authgate.domain.users import normalize_username


@pytest.mark.parametrize(
    ("hint", "expected"),
    [
        ("alice", "alice"),
        ("Ada.Lovelace", "ada.lovelace"),
        ("Zoë Müller", "zoe-muller"),
        ("  -_bob_-  ", "bob"),
        ("jo@example.com", "jo-example.com"),
        ("x" * 100, "x" * 60),
        ("李", None),
        ("a", None),
        ("", None),
        (None, None),
    ],
)
def test_username_base(hint, expected):
    base = username_base(hint)
    assert base == expected
    if base is not None:
        assert normalize_username(base) == base  # a valid username as it is
