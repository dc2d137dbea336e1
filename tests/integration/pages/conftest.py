"""What the page suites share: signed-in accounts driving the pages over
plain HTTP (``tests.support.pages``)."""

from collections.abc import Iterator

import pytest

from tests.support.actions import Login
from tests.support.live import LiveServer
from tests.support.pages import OpenPages, Pages


@pytest.fixture
def open_pages(server: LiveServer) -> Iterator[OpenPages]:
    """:class:`Pages` for a login, whose posts send the form token of the
    page given as its home; every one closed after the test."""
    opened: list[Pages] = []

    def open_(login: Login, home: str) -> Pages:
        opened.append(Pages(server, login, home))
        return opened[-1]

    yield open_
    for found in opened:
        found.close()
