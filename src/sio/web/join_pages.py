"""(being written)"""

from fastapi import APIRouter

from sio.web.auth import PageContext

__all__ = ["router"]


def router(ctx: PageContext) -> APIRouter:
    return APIRouter(route_class=ctx.route_class, include_in_schema=False)
