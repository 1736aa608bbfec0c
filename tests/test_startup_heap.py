"""``steeple serve`` freezes what start-up built, so full collections skip it."""

from __future__ import annotations

import gc

from steeple.cli import freeze_startup_heap


def test_the_startup_heap_leaves_the_collectors_view_and_can_be_unfrozen() -> None:
    assert gc.get_freeze_count() == 0
    tracked = len(gc.get_objects())
    try:
        freeze_startup_heap()
        assert gc.get_freeze_count() >= tracked // 2
        assert len(gc.get_objects()) < tracked // 10
    finally:
        gc.unfreeze()
    assert gc.get_freeze_count() == 0
