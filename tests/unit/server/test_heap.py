"""``authgate.server.heap``: a running server's objects are frozen and young
collections rare, and the process gets its collector back when the last
server stops."""

import gc

from authgate.server import heap


def test_a_running_server_freezes_what_is_alive_and_raises_the_threshold() -> None:
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    with heap.settled():
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (heap.YOUNG_THRESHOLD, *before[1:])
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before


def test_the_collector_comes_back_when_the_last_server_stops() -> None:
    before = gc.get_threshold()
    with heap.settled():
        with heap.settled():
            pass
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] == heap.YOUNG_THRESHOLD
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before
