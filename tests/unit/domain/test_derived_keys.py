import base64

import pytest

from authgate.domain.derived_keys import derive
from authgate.domain.sealing import Sealer

SECRET = b"correct horse battery staple, 32+ chars"


# Made with the hand-written HKDF (util/hkdf.py) that this module replaced:
# keys must not change, or what was sealed under them no longer opens.
@pytest.mark.parametrize(
    ("purpose", "key"),
    [
        (
            "signing-keys",
            "7953b2ca9da774fc24345d0470a0b410b3ec0885e472dcf4de6108dc85f5822a",
        ),
        ("mail", "217980cb73bb984f0ec2eb8a9fbf804cf67d51a52f227d6d0e84ada63da44792"),
        ("csrf", "58a28a39fb45f0715d947c829919ce90372d4acf2999c3f2eeb5c99465438b3a"),
        (
            "mfa-ticket",
            "45876fb7e5d7b3521d1e75ed29026b17c89ff9a81f861eefe84721dfbd0a1b5d",
        ),
    ],
)
def test_keys_are_those_derived_before_the_swap(purpose: str, key: str) -> None:
    assert derive(SECRET, purpose).hex() == key


def test_a_value_sealed_before_the_swap_still_opens() -> None:
    sealed = base64.b64decode(
        "aWLKgBfrdTzcJRzSSOo+dARw2wgnV4zTcsYrgQ9CQYEXQSq37/2c/fF4D3QAccZFqEA="
    )
    opened = Sealer(derive(SECRET, "mail")).open(sealed, b"usr_1")
    assert opened == b"sealed before the swap"


def test_every_use_and_every_secret_gets_its_own_key() -> None:
    keys = {derive(SECRET, use) for use in ("signing-keys", "csrf", "cookies")}
    assert len(keys) == 3
    assert derive(SECRET, "csrf") != derive(b"t" * 32, "csrf")
    assert len(derive(SECRET, "csrf")) == 32
