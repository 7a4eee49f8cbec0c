"""Load shedding: a worker that already has too many requests in hand answers 503 at once, with
`Retry-After`, instead of letting every request wait (pure ASGI middleware).

Handlers run their short database work on the event loop without yielding, so requests a worker
has read but not answered wait in line as tasks that have not started yet: inside the app only
one is ever running, and a count of the requests in the app never passes one. What counts is
made where the server makes a request's task: the middleware puts a task factory on the worker's
event loop (at its first request) that counts uvicorn's request tasks from the moment each is
made until it ends, and marks a task made while `SIO_MAKS_SAMTIDIGE` (default 32) others are in
hand. A marked request is refused when it starts, before anything is read or written: the client
learns at once that it may retry, no write is half done, and the requests in hand keep their
latency. (Without that factory — another server, a test client — the count of requests inside
the app still applies.)
"""

from __future__ import annotations

import asyncio
import json
import os
import weakref
from typing import Any

from sio.i18n import _

LIMIT_ENV = "SIO_MAKS_SAMTIDIGE"
DEFAULT_LIMIT = 32
RETRY_AFTER_SECONDS = 1
# the coroutine of a request's task in uvicorn (httptools and h11 alike)
REQUEST_TASK = "RequestResponseCycle.run_asgi"


def limit() -> int:
    return int(os.environ.get(LIMIT_ENV, "") or DEFAULT_LIMIT)


class Shed:
    """Refuse requests past `limit` in hand with 503 and Retry-After."""

    def __init__(self, app: Any, max_in_flight: int) -> None:
        self.app = app
        self.max = max_in_flight
        self.in_flight = 0  # requests inside the app
        self.in_hand = 0  # request tasks made by the server and not ended (started or not)
        self._refuse: weakref.WeakSet[asyncio.Task[Any]] = weakref.WeakSet()
        self._loop: asyncio.AbstractEventLoop | None = None

    def _watch(self, loop: asyncio.AbstractEventLoop) -> None:
        """Count the server's request tasks on `loop` as they are made (once per loop)."""
        if self._loop is loop:
            return
        self._loop = loop
        previous = loop.get_task_factory()

        def factory(
            loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any
        ) -> asyncio.Future[Any]:
            task: asyncio.Future[Any] = (
                previous(loop, coro, **kwargs)
                if previous is not None
                else asyncio.Task(coro, loop=loop, **kwargs)
            )
            if getattr(coro, "__qualname__", "") == REQUEST_TASK and isinstance(task, asyncio.Task):
                if self.in_hand >= self.max:
                    self._refuse.add(task)
                self.in_hand += 1
                task.add_done_callback(self._ended)
            return task

        loop.set_task_factory(factory)

    def _ended(self, _task: asyncio.Future[Any]) -> None:
        self.in_hand -= 1

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self._watch(asyncio.get_running_loop())
        task = asyncio.current_task()
        if (task is not None and task in self._refuse) or self.in_flight >= self.max:
            body = json.dumps(
                {"detail": _("the service is busy: try again in a moment")}, ensure_ascii=False
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 503,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
