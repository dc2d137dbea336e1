"""Base62: URL- and copy-paste-safe text for random bytes (no ``-``/``_`` to break
double-click selection, which is why GitHub-style tokens use it)."""

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def encode(data: bytes, width: int = 0) -> str:
    """Encode big-endian bytes, left-padded with ``0`` to ``width`` characters."""
    number = int.from_bytes(data, "big")
    digits: list[str] = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(ALPHABET[rest])
    return "".join(reversed(digits)).rjust(width, ALPHABET[0])


def encode_int(number: int, width: int) -> str:
    return encode(number.to_bytes(max(1, (number.bit_length() + 7) // 8), "big"), width)
