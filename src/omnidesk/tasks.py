"""Stopping the background tasks a service started."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


async def stop_tasks(*tasks: asyncio.Task[Any] | None) -> None:
    """Cancel the tasks (None: none started) and wait until each has ended; a task's own
    failure still surfaces, its cancellation does not."""
    started = [task for task in tasks if task is not None]
    for task in started:
        task.cancel()
    for task in started:
        with contextlib.suppress(asyncio.CancelledError):
            await task
