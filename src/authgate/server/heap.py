"""The garbage collector while a server runs: what stalled the event loop at p99.

Measured on the benchmark machine (``/healthz`` at 64 connections, one
process, SQLite, a ``gc.callbacks`` timer on every collection):

- **Full collections.** After start-up the process holds some 210,000
  objects that live as long as it does: modules, the routes with their
  pydantic models, SQLAlchemy's tables, the key ring. A full (generation 2)
  collection walks all of them, and one ran every ~25,000 requests: 110-170
  ms of CPU and up to 0.5 s of wall time on a busy machine, a stall every
  request in flight waited for; it was the slowest request of every run.
  :func:`settled` freezes them (``gc.freeze``) once the server has started,
  so no collection walks them again; a full collection then walks only what
  was made since (a few thousand objects, about 1 ms).
- **Young collections.** A request allocates a few hundred objects and frees
  them when it ends, but 64 requests in flight hold thousands at any moment.
  With the default threshold (a young collection every 700 allocations not
  yet freed) each collection found the requests in flight alive, promoted
  them to the older generations, and the freeing that followed no longer
  counted against the threshold: 430 young and 40 middle collections in
  25,000 requests, ~7 µs of CPU a request, and the promotions are what
  brought the full collections on. Above the working set of the requests in
  flight (:data:`YOUNG_THRESHOLD`) no collection ran at all at 64
  connections: what a request allocates, it frees before the count gets
  there.

Nothing else stalled the loop in those runs: sampling the loop's thread every
millisecond found no other call holding it for 10 ms (the WAL checkpoint runs
on a thread, see ``storage/sqlite.py``).
"""

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: Allocations not yet freed between two young collections (CPython's default
#: is 700): above what the requests in flight hold at 64 connections, so
#: requests that free what they allocate never start one. Garbage cycles
#: still get collected, after at most this many allocations.
YOUNG_THRESHOLD = 10_000

_lock = threading.Lock()
_serving = 0
_thresholds = gc.get_threshold()


@contextmanager
def settled() -> Iterator[None]:
    """While a server runs, from the end of its start-up: everything alive
    frozen, young collections rarer. Both are the process's, so the last
    server of a process to stop (tests run several in threads) puts them
    back. No collection runs before the freeze: a full one costs ~0.1 s,
    and the tests start servers a thousand times; the little garbage
    start-up left is frozen with the rest until the server stops."""
    global _serving, _thresholds
    with _lock:
        if _serving == 0:
            _thresholds = gc.get_threshold()
            gc.set_threshold(YOUNG_THRESHOLD, *_thresholds[1:])
        _serving += 1
        gc.freeze()
    try:
        yield
    finally:
        with _lock:
            _serving -= 1
            if _serving == 0:
                gc.unfreeze()
                gc.set_threshold(*_thresholds)
