import pytest

from authgate.oauth import pkce
from authgate.oauth.errors import InvalidRequest

#: RFC 7636 Appendix B.
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_rfc_7636_appendix_b() -> None:
    assert pkce.challenge_of(VERIFIER) == CHALLENGE
    assert pkce.verify(VERIFIER, CHALLENGE)


@pytest.mark.parametrize(
    "verifier", ["", "short", VERIFIER + "x", "a" * 129, "é" * 43, " " * 43]
)
def test_wrong_or_malformed_verifiers(verifier: str) -> None:
    assert not pkce.verify(verifier, CHALLENGE)


def test_only_s256() -> None:
    assert pkce.check_challenge(CHALLENGE, "S256") == CHALLENGE
    for method in ("plain", None, "s256", "S512"):
        with pytest.raises(InvalidRequest, match="S256"):
            pkce.check_challenge(CHALLENGE, method)


@pytest.mark.parametrize("challenge", [None, "", "x" * 42, "x" * 44, "+" * 43])
def test_malformed_challenges(challenge: str | None) -> None:
    with pytest.raises(InvalidRequest):
        pkce.check_challenge(challenge or None, "S256")
