"""Stopping what runs in the background, in bounded time.

``task.cancel()`` followed by ``await task`` waits forever for a task that lost its
cancellation: Python 3.11's ``asyncio.wait_for`` returns the inner result instead of
raising when the cancel arrives as the inner future finishes, and a loop around it
(``while True: ... except Exception``) then goes on. A node stopping must not hang on
that, so :func:`cancel_and_wait` cancels again until the task ends, and gives up (with
an error naming the task) after a limit; :func:`run_steps` runs a shutdown's steps each
within a limit and goes on to the next one whatever happens to the one before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

log = logging.getLogger(__name__)

STEP_LIMIT = 15.0
"""Seconds one step of a shutdown may take (uvicorn's graceful close takes up to 10)."""
RECANCEL_EVERY = 0.05
"""How often a task that has not ended yet is cancelled again."""

Step = tuple[str, Callable[[], Awaitable[Any]]]


async def cancel_and_wait(task: asyncio.Task[Any], name: str, limit: float = STEP_LIMIT) -> bool:
    """Cancel ``task`` until it ends; False (logged) if it is still running after ``limit``
    seconds. Whatever it raised on its way out is not this caller's concern."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not task.done():
        remaining = deadline - loop.time()
        if remaining <= 0:
            log.error("stopping: %s did not end within %.1f s of being cancelled", name, limit)
            return False
        task.cancel()
        await asyncio.wait([task], timeout=min(RECANCEL_EVERY, remaining))
    if not task.cancelled() and task.exception() is not None:
        log.warning("stopping: %s ended with %r", name, task.exception())
    return True


async def run_steps(steps: Sequence[Step], limit: float = STEP_LIMIT) -> None:
    """Run every step, each within ``limit`` seconds; a step that overruns is logged with
    the tasks still pending, cancelled and left behind. Each step runs as a task of its
    own, waited for with ``asyncio.wait``: a timeout around ``await`` cannot end a step
    that is itself waiting for a task that ignores its cancellation. The first exception
    is raised once every step has had its turn."""
    failures: list[BaseException] = []
    for name, step in steps:
        running = asyncio.ensure_future(step())
        done, _ = await asyncio.wait([running], timeout=limit)
        if not done:
            log.error(
                "stopping: %s took more than %.1f s; going on without it. Pending:\n%s",
                name,
                limit,
                pending_tasks(),
            )
            running.cancel()
        elif not running.cancelled() and (failure := running.exception()) is not None:
            log.error("stopping: %s failed", name, exc_info=failure)
            failures.append(failure)
    if failures:
        raise failures[0]


def pending_tasks(most: int = 20) -> str:
    """One line per task of this loop still pending (at most ``most``): where each waits."""
    current = asyncio.current_task()
    lines = []
    for task in asyncio.all_tasks():
        if task is current:
            continue
        frames = task.get_stack(limit=1)
        where = f"{frames[0].f_code.co_filename}:{frames[0].f_lineno}" if frames else "?"
        lines.append(f"  {task.get_name()} {task.get_coro()!r} at {where}")
    return "\n".join(sorted(lines)[:most]) or "  (none)"


__all__ = ["STEP_LIMIT", "Step", "cancel_and_wait", "pending_tasks", "run_steps"]
