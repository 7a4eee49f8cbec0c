"""The allocation office's pages (tildelingskontor): the case list with deadlines and overdue
marks, a new application, the IPLOS assessment form, the recommendation and the decision form.
Every page calls the same functions of `sio.casework.service` the API calls, on the request's
transaction, so role and municipality are checked at query level as there."""

from fastapi import APIRouter

from sio.web.auth import PageContext

__all__ = ["router"]


def router(ctx: PageContext) -> APIRouter:
    r = APIRouter(route_class=ctx.route_class, include_in_schema=False)
    return r
