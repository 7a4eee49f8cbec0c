"""Load shedding: a worker that already has too many requests in hand answers 503 at once, with
`Retry-After`, instead of letting every request wait (pure ASGI middleware).

Handlers run their short database work on the event loop, so requests a worker has accepted
but not answered wait in line behind each other. Past `SIO_MAKS_SAMTIDIGE` (default 32) per
worker, a new request is refused before anything is read or written: the client learns at once
that it may retry, no write is half done, and the requests in hand keep their latency.
"""

from __future__ import annotations

import json
import os
from typing import Any

from sio.i18n import _

LIMIT_ENV = "SIO_MAKS_SAMTIDIGE"
DEFAULT_LIMIT = 32
RETRY_AFTER_SECONDS = 1


def limit() -> int:
    return int(os.environ.get(LIMIT_ENV, "") or DEFAULT_LIMIT)


class Shed:
    """Refuse requests past `limit` in flight with 503 and Retry-After."""

    def __init__(self, app: Any, max_in_flight: int) -> None:
        self.app = app
        self.max = max_in_flight
        self.in_flight = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max:
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
