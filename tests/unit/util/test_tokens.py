import hashlib
import re
import zlib

import pytest

from authgate.util import base62, tokens

SHAPE = re.compile(r"^ag_pat_[0-9A-Za-z]{43}[0-9A-Za-z]{6}$")


def decode62(text: str) -> int:
    number = 0
    for char in text:
        number = number * 62 + base62.ALPHABET.index(char)
    return number


def random_part(token: str) -> str:
    return token.split("_", 2)[2][: tokens.RANDOM_CHARS]


def test_mint_has_the_documented_shape() -> None:
    token = tokens.mint("ag", "pat")
    assert SHAPE.match(token), token


def test_prefix_and_kind_are_configurable() -> None:
    token = tokens.mint("vai", "key")
    assert token.startswith("vai_key_")
    parsed = tokens.parse(token)
    assert parsed is not None
    assert (parsed.prefix, parsed.kind, parsed.value) == ("vai", "key", token)


def test_random_part_carries_256_bits() -> None:
    # 43 base62 characters is the shortest text that holds 256 bits ...
    assert 62**43 >= 2**256 > 62**42
    assert len(tokens.mint("ag", "pat")) == len("ag_pat_") + 43 + 6
    # ... and the minted values really use that range: padding a 128-bit value
    # to 43 characters would keep the length but never reach these magnitudes.
    values = [decode62(random_part(tokens.mint("ag", "pat"))) for _ in range(64)]
    assert max(v.bit_length() for v in values) >= 250
    assert len(set(values)) == 64


def test_checksum_is_crc32_of_everything_before_it_in_6_base62_chars() -> None:
    token = tokens.mint("ag", "rt")
    body, check = token[:-6], token[-6:]
    assert decode62(check) == zlib.crc32(body.encode())


def test_parse_accepts_a_minted_token() -> None:
    token = tokens.mint("ag", "ses")
    assert tokens.parse(token) == tokens.ParsedToken("ag", "ses", token)


def test_parse_rejects_any_single_changed_character() -> None:
    token = tokens.mint("ag", "pat")
    start = len("ag_pat_")
    for position in range(start, len(token)):
        original = token[position]
        replacement = "A" if original != "A" else "B"
        flipped = token[:position] + replacement + token[position + 1 :]
        assert tokens.parse(flipped) is None, position


def test_parse_rejects_a_wrong_checksum() -> None:
    token = tokens.mint("ag", "pat")
    body = token[:-6]
    wrong = base62.encode_int((zlib.crc32(body.encode()) + 1) % 2**32, 6)
    assert tokens.parse(body + wrong) is None


def test_parse_rejects_a_checksum_computed_for_another_kind() -> None:
    token = tokens.mint("ag", "pat")
    # same random part and checksum, only the kind swapped
    assert tokens.parse(token.replace("ag_pat_", "ag_key_", 1)) is None


@pytest.mark.parametrize(
    "value",
    [
        "",
        "ag_pat_",
        "ag_pat_abc",
        "agpat" + "a" * 49,
        "AG_pat_" + "a" * 49,
        "ag_PAT_" + "a" * 49,
        "ag_pat_" + "a" * 48,
        "ag_pat_" + "a" * 50,
        "ag_pat_" + "a" * 48 + "-",
        "ag_pat_" + "a" * 49 + "\n",
        " ag_pat_" + "a" * 49,
        "ag_p_" + "a" * 49,
        "1g_pat_" + "a" * 49,
        "eyJhbGciOiJFUzI1NiJ9.e30.sig",
    ],
)
def test_parse_rejects_wrong_shapes(value: str) -> None:
    assert tokens.parse(value) is None
    assert tokens.kind_of(value) is None


def test_kind_of_reads_the_kind_without_the_checksum() -> None:
    token = tokens.mint("ag", "key")
    assert tokens.kind_of(token) == "key"


def test_digest_is_hex_sha256_of_the_whole_token() -> None:
    token = tokens.mint("ag", "pat")
    assert tokens.digest(token) == hashlib.sha256(token.encode()).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", tokens.digest(token))
    assert tokens.digest(token) != tokens.digest(tokens.mint("ag", "pat"))


def test_display_prefix_keeps_prefix_kind_and_four_random_characters() -> None:
    token = tokens.mint("ag", "pat")
    shown = tokens.display_prefix(token)
    assert shown == token[: len("ag_pat_") + 4]
    assert len(shown) == len("ag_pat_") + 4
    assert random_part(token)[4:] not in shown
