import pytest

from authgate.domain import grants


def test_user_codes_use_the_consonant_alphabet():
    for _ in range(200):
        code = grants.new_user_code()
        assert len(code) == 8
        assert set(code) <= set("BCDFGHJKLMNPQRSTVWXZ")


def test_user_codes_are_shown_with_a_dash():
    assert grants.format_user_code("WDJBMJHT") == "WDJB-MJHT"


@pytest.mark.parametrize(
    "typed", ["WDJB-MJHT", "wdjb-mjht", "wdjbmjht", " WDJB MJHT ", "wDjB-mJhT"]
)
def test_user_codes_are_accepted_as_people_type_them(typed):
    assert grants.normalize_user_code(typed) == "WDJBMJHT"


@pytest.mark.parametrize(
    "typed", ["", "WDJB-MJH", "WDJB-MJHTX", "WDJA-MJHT", "1234-5678"]
)
def test_impossible_user_codes(typed):
    assert grants.normalize_user_code(typed) is None
