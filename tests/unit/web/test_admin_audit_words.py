"""The admin console's audit log reads each event in words: every event the
domain records has them, so a new event cannot show up as a bare name."""

from authgate.domain.audit import Action
from authgate.web.pages.admin.audit import EVENT_TEXT


def test_every_event_has_words() -> None:
    missing = [a.value for a in Action if a not in EVENT_TEXT]
    assert missing == []


def test_the_words_tell_events_apart() -> None:
    assert len(set(EVENT_TEXT.values())) == len(EVENT_TEXT)
