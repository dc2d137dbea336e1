import inspect

from authgate.util.hkdf import derive

IKM = bytes.fromhex("0b" * 22)


def test_rfc5869_test_case_1() -> None:
    okm = derive(
        IKM,
        bytes.fromhex("f0f1f2f3f4f5f6f7f8f9"),
        length=42,
        salt=bytes.fromhex("000102030405060708090a0b0c"),
    )
    assert okm == bytes.fromhex(
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
        "34007208d5b887185865"
    )


def test_rfc5869_test_case_3_empty_salt_and_info() -> None:
    okm = derive(IKM, "", length=42, salt=b"")
    assert okm == bytes.fromhex(
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
        "9d201395faa4b61a96c8"
    )


def test_salt_and_length_are_keywords_with_defaults() -> None:
    parameters = inspect.signature(derive).parameters
    assert parameters["salt"].default == b"authgate"
    assert parameters["length"].default == 32
    secret = b"s" * 32
    assert derive(secret, "csrf") == derive(secret, "csrf", length=32, salt=b"authgate")


def test_text_info_is_its_utf8_bytes() -> None:
    secret = b"s" * 32
    assert derive(secret, "signing-keys") == derive(secret, b"signing-keys")


def test_every_use_gets_its_own_key() -> None:
    secret = b"s" * 32
    keys = {derive(secret, use) for use in ("signing-keys", "csrf", "cookies")}
    assert len(keys) == 3
    assert derive(secret, "csrf") != derive(b"t" * 32, "csrf")
    assert derive(secret, "csrf") != derive(secret, "csrf", salt=b"other")
    assert len(derive(secret, "csrf", length=64)) == 64
    assert derive(secret, "csrf", length=64)[:32] == derive(secret, "csrf")
