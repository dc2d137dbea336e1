import secrets
import string

import pytest

from authgate.util import base62


def decode(text: str) -> int:
    number = 0
    for char in text:
        number = number * 62 + base62.ALPHABET.index(char)
    return number


def test_alphabet_is_digits_then_upper_then_lower() -> None:
    assert (
        string.digits + string.ascii_uppercase + string.ascii_lowercase
        == base62.ALPHABET
    )
    assert len(set(base62.ALPHABET)) == 62


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x00", ""),
        (b"\x01", "1"),
        (b"\x09", "9"),
        (b"\x0a", "A"),
        (b"\x23", "Z"),
        (b"\x24", "a"),
        (b"\x3d", "z"),
        (b"\x3e", "10"),
        (b"\x01\x00", "48"),  # 256 = 4 * 62 + 8
    ],
)
def test_encode_known_values(data: bytes, expected: str) -> None:
    assert base62.encode(data) == expected


def test_encode_pads_to_width_with_zero_digits() -> None:
    assert base62.encode(b"\x01", 5) == "00001"
    assert base62.encode(b"\x00", 3) == "000"
    # width is a minimum, never a truncation
    assert base62.encode(b"\x3e", 1) == "10"


def test_encode_is_big_endian_and_round_trips() -> None:
    for _ in range(100):
        data = secrets.token_bytes(32)
        text = base62.encode(data, 43)
        assert len(text) == 43
        assert decode(text) == int.from_bytes(data, "big")


def test_largest_32_bytes_fit_in_43_characters() -> None:
    assert len(base62.encode(b"\xff" * 32)) == 43


def test_encode_int_widths() -> None:
    assert base62.encode_int(0, 6) == "000000"
    assert base62.encode_int(61, 6) == "00000z"
    assert base62.encode_int(2**32 - 1, 6) == base62.encode(
        (2**32 - 1).to_bytes(4, "big"), 6
    )
    assert len(base62.encode_int(2**32 - 1, 6)) == 6
    assert decode(base62.encode_int(123_456_789, 6)) == 123_456_789
