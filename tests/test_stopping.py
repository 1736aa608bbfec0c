"""Stopping background work in bounded time, against tasks that lose or ignore their
cancellation (the way a node's shutdown once hung in CI)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from steeple.stopping import cancel_and_wait, run_steps


async def _loop_around_wait_for(
    inner: list[asyncio.Future[int]], turns: list[int], waiting: asyncio.Event
) -> None:
    """A worker loop of the kind a node runs: each turn waits for a reply with a timeout."""
    while True:
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        inner.append(future)
        waiting.set()
        turns.append(await asyncio.wait_for(future, 10))


async def _stubborn(release: asyncio.Event, cancels: list[int]) -> None:
    """Ignores every cancellation until ``release`` is set."""
    while not release.is_set():
        try:
            await release.wait()
        except asyncio.CancelledError:
            cancels.append(1)


async def test_a_task_that_loses_its_cancellation_is_cancelled_again() -> None:
    inner: list[asyncio.Future[int]] = []
    turns: list[int] = []
    waiting = asyncio.Event()
    task = asyncio.create_task(_loop_around_wait_for(inner, turns, waiting))
    await waiting.wait()
    await asyncio.sleep(0)  # one turn more: the worker is now inside wait_for
    # The reply and the cancel arrive together: Python 3.11's wait_for returns the
    # reply and the loop goes round again, as if it had never been cancelled.
    inner[-1].set_result(1)
    task.cancel()
    assert await cancel_and_wait(task, "the worker", limit=5)
    assert task.done()


async def test_a_task_that_ignores_cancellation_is_given_up_on_and_named(
    caplog: pytest.LogCaptureFixture,
) -> None:
    release, cancels = asyncio.Event(), []
    task = asyncio.create_task(_stubborn(release, cancels))
    await asyncio.sleep(0)
    with caplog.at_level(logging.ERROR, logger="steeple.stopping"):
        assert not await cancel_and_wait(task, "the stubborn worker", limit=0.2)
    assert len(cancels) >= 2  # cancelled again and again, not once
    assert "the stubborn worker did not end" in caplog.text
    release.set()
    await task


async def test_a_step_that_overruns_is_left_behind_and_the_rest_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    release, cancels, ran = asyncio.Event(), [], []
    stubborn = asyncio.create_task(_stubborn(release, cancels))

    async def wait_for_stubborn() -> None:  # `await task` cannot be ended by a timeout
        await stubborn

    async def after() -> None:
        ran.append("after")

    with caplog.at_level(logging.ERROR, logger="steeple.stopping"):
        await run_steps([("the wedged step", wait_for_stubborn), ("the next step", after)], 0.2)
    assert ran == ["after"]
    assert "the wedged step took more than 0.2 s" in caplog.text
    assert "_stubborn" in caplog.text  # the pending tasks are listed with where they wait
    release.set()
    await stubborn


async def test_a_failing_step_does_not_stop_the_rest_and_its_error_is_raised() -> None:
    ran = []

    async def fails() -> None:
        raise RuntimeError("the store is gone")

    async def also_fails() -> None:
        ran.append("second")
        raise ValueError("later")

    async def last() -> None:
        ran.append("last")

    with pytest.raises(RuntimeError, match="the store is gone"):
        await run_steps([("first", fails), ("second", also_fails), ("last", last)], 1)
    assert ran == ["second", "last"]
