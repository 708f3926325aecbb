"""Python's cyclic garbage collector, driven from one place for the whole process.

Two users, one owner:

- A server process (`omnidesk serve`) keeps its long-lived objects *frozen*. With 2,000
  desktops open the heap holds ≈ 800,000 objects, most of them living as long as their
  connection, and each of Python's own full collections walks them all: ≈ 0.5 s during
  which no request is served (BENCHMARKS.md, session 18). Instead, every `FREEZE_SECONDS`
  what is alive is frozen (`gc.freeze`: a list splice), so automatic collections walk only
  what was allocated since; every `full_seconds` the whole heap is collected once
  (unfreeze, collect, freeze), which reclaims the reference cycles that died while frozen.
  Reference counting frees everything else at once, as always.
- The analytics fill pauses collection while it folds (see `paused`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Iterator

from omnidesk.tasks import stop_tasks

log = logging.getLogger(__name__)

FREEZE_SECONDS = 10.0
DEFAULT_FULL_SECONDS = 600.0


class _Process:
    """The collector's state in this process (there is one collector per interpreter)."""

    keeping_frozen = False  # a KeptHeap is running
    pauses = 0  # fills running
    resume = False  # whether automatic collection was on when the first pause began


def _freeze_survivors() -> None:
    """Move every object allocated so far out of the generations the collector walks.

    Kept frozen while a server keeps its heap frozen; otherwise put back in the oldest
    generation at once (freeze then unfreeze: two list splices), so the next young collection
    does not walk them but full collections still do.
    """
    gc.freeze()
    if not _Process.keeping_frozen:
        gc.unfreeze()


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """Automatic collection off for the duration (counted, so concurrent users nest).

    For work that makes millions of small objects that stay alive and hold no cycles (the
    analytics fold), where each automatic collection would walk them all again: about 40 % of
    a fill's CPU time. When the last pause ends, what was allocated meanwhile is moved out of
    the young generations (`_freeze_survivors`) and collection resumes if it was on.
    """
    if _Process.pauses == 0:
        _Process.resume = gc.isenabled()
        gc.disable()
    _Process.pauses += 1
    try:
        yield
    finally:
        _Process.pauses -= 1
        if _Process.pauses == 0 and _Process.resume:
            _freeze_survivors()
            gc.enable()


class KeptHeap:
    """A server's heap kept frozen between full collections (one per process, see above)."""

    def __init__(self, full_seconds: float = DEFAULT_FULL_SECONDS,
                 freeze_seconds: float = FREEZE_SECONDS) -> None:
        self.full_seconds = full_seconds
        self.freeze_seconds = freeze_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Collect and freeze what start-up left alive, then keep freezing in the background."""
        if _Process.keeping_frozen:
            raise RuntimeError("the heap is already kept frozen by another KeptHeap")
        _Process.keeping_frozen = True
        self.collect_all()
        self._task = asyncio.create_task(self._keep())

    async def stop(self) -> None:
        """Stop freezing and give every frozen object back to the collector."""
        await stop_tasks(self._task)
        self._task = None
        _Process.keeping_frozen = False
        gc.unfreeze()

    @staticmethod
    def collect_all() -> None:
        """One full collection of the whole heap, frozen objects included, then freeze."""
        started = time.perf_counter()
        gc.unfreeze()
        collected = gc.collect()
        gc.freeze()
        log.debug("full collection: %d unreachable objects, %.0f ms, %d frozen", collected,
                  (time.perf_counter() - started) * 1000, gc.get_freeze_count())

    async def _keep(self) -> None:
        next_full = time.monotonic() + self.full_seconds
        while True:
            await asyncio.sleep(self.freeze_seconds)
            if _Process.pauses:
                continue  # a fill decides when its objects are frozen
            if time.monotonic() >= next_full:
                self.collect_all()
                next_full = time.monotonic() + self.full_seconds
            else:
                gc.freeze()  # cheap: no object is walked
