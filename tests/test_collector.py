"""The process's garbage collector: a server keeps its heap frozen, fills pause collection."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from omnidesk import collector
from omnidesk.app import create_app
from omnidesk.collector import KeptHeap
from omnidesk.config import Settings


class Node:
    """An object that can sit in a reference cycle and be watched through a weak reference."""

    def __init__(self) -> None:
        self.other: Node | None = None


def cycle() -> tuple[Node, weakref.ref[Node]]:
    first, second = Node(), Node()
    first.other, second.other = second, first
    return first, weakref.ref(first)


@pytest.fixture(autouse=True)
def nothing_left_frozen() -> Iterator[None]:
    yield
    assert gc.get_freeze_count() == 0
    assert gc.isenabled()


async def test_a_kept_heap_skips_frozen_cycles_until_its_full_collection() -> None:
    heap = KeptHeap(full_seconds=3600, freeze_seconds=3600)
    node, watched = cycle()
    heap.start()
    try:
        assert gc.get_freeze_count() > 0
        del node
        gc.collect()
        assert watched() is not None  # frozen: automatic and young collections pass it by
        heap.collect_all()
        assert watched() is None
    finally:
        await heap.stop()


async def test_a_kept_heap_freezes_new_survivors_in_the_background() -> None:
    heap = KeptHeap(full_seconds=3600, freeze_seconds=0.01)
    heap.start()
    try:
        node, watched = cycle()
        frozen = gc.get_freeze_count()
        await asyncio.sleep(0.05)
        assert gc.get_freeze_count() > frozen
        del node
        gc.collect()
        assert watched() is not None
    finally:
        await heap.stop()
    gc.collect()
    assert watched() is None  # stopping gives every frozen object back to the collector


async def test_a_kept_heap_collects_everything_when_its_full_period_comes() -> None:
    heap = KeptHeap(full_seconds=0.02, freeze_seconds=0.01)
    heap.start()
    try:
        node, watched = cycle()
        await asyncio.sleep(0.02)  # frozen by a background freeze first
        del node
        for _ in range(100):
            if watched() is None:
                break
            await asyncio.sleep(0.01)
        assert watched() is None
    finally:
        await heap.stop()


async def test_only_one_kept_heap_runs_in_a_process() -> None:
    heap = KeptHeap()
    heap.start()
    try:
        with pytest.raises(RuntimeError, match="already kept frozen"):
            KeptHeap().start()
    finally:
        await heap.stop()


def test_a_pause_stops_automatic_collection_and_then_moves_its_objects_out_of_the_young() -> None:
    with collector.paused():
        assert not gc.isenabled()
        with collector.paused():  # nested: a second fill at the same time
            made = [Node() for _ in range(1000)]
        assert not gc.isenabled()
    assert gc.isenabled()
    assert gc.get_count()[0] < len(made)  # not left in the young generation
    assert gc.get_freeze_count() == 0  # nor frozen: full collections still see them


async def test_a_pause_inside_a_kept_heap_leaves_its_objects_frozen() -> None:
    heap = KeptHeap(full_seconds=3600, freeze_seconds=3600)
    heap.start()
    try:
        frozen = gc.get_freeze_count()
        with collector.paused():
            made = [Node() for _ in range(1000)]
        assert gc.get_freeze_count() >= frozen + len(made)
    finally:
        await heap.stop()


async def test_only_the_server_process_keeps_its_heap_frozen(settings: Settings) -> None:
    for owns_process in (False, True):
        app = create_app(settings, migrate=False, owns_process=owns_process)
        async with app.router.lifespan_context(app):
            assert (gc.get_freeze_count() > 0) is owns_process
        assert gc.get_freeze_count() == 0
