"""Page work that must run after the request's transaction: imports, payment runs, the version
list and diff, the "Bør vi delta?" estimate.

Every signed-in request runs inside one transaction of the API's route class, opened before the
handler and committed before the answer; on SQLite that transaction holds the write lock
(`BEGIN IMMEDIATE`). The store functions the CLI calls (`import_path`, `run_month`,
`list_versions` …) open connections of their own, which would wait for that lock. So a handler
checks who is asking and what they may do inside the transaction, and returns `Deferred(work)`;
the route class of this module runs `work` in the thread pool once the transaction is
committed, and answers with what `work` returns.

The route class also lets a `multipart/form-data` form (a file upload) carry the session's CSRF
token as its hidden `csrf_token` field, as `sio.web.auth.PageRoute` does for plain forms.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute

from sio.casework.access import Forbidden, NotFound
from sio.casework.api import CSRF_HEADER
from sio.web.auth import CSRF_FIELD, PageContext

__all__ = ["Deferred", "deferred_route"]


class Deferred(Response):
    """A handler's answer whose page is made by `work` after the transaction is committed."""

    def __init__(self, work: Callable[[], Response]) -> None:
        super().__init__(status_code=200)
        self.work = work


def deferred_route(ctx: PageContext) -> type[APIRoute]:
    """The pages' route class, running `Deferred` work after the transaction."""

    class DeferredRoute(ctx.route_class):  # type: ignore[misc,name-defined]
        def get_route_handler(self) -> Any:
            inner = super().get_route_handler()

            async def run(request: Request) -> Response:
                kind = request.headers.get("content-type", "")
                if request.method == "POST" and kind.startswith("multipart/form-data"):
                    request = await _with_csrf_header(request)
                answer: Response = await inner(request)
                if isinstance(answer, Deferred):
                    try:
                        done: Response = await run_in_threadpool(answer.work)
                    except Forbidden as exc:
                        return ctx.render(request, "error.j2", None, 403, detail=str(exc))
                    except NotFound as exc:
                        return ctx.render(request, "error.j2", None, 404, detail=str(exc))
                    return done
                return answer

            return run

    return DeferredRoute


async def _with_csrf_header(request: Request) -> Request:
    """The request with its form's `csrf_token` field as the `X-CSRF-Token` header."""
    body = await request.body()
    if CSRF_HEADER.lower().encode() in dict(request.scope["headers"]):
        return request
    probe = Request(request.scope, request.receive)
    probe._body = body
    form = await probe.form()
    token = form.get(CSRF_FIELD)
    await form.close()
    if not isinstance(token, str) or not token:
        return request
    scope = dict(request.scope)
    scope["headers"] = [*request.scope["headers"], (CSRF_HEADER.lower().encode(), token.encode())]
    out = Request(scope, request.receive)
    out._body = body
    return out
