"""How the pages sign in and who is asking: the API's own sign-in handler, route class and
principal dependency, found on the app, so that sessions, the rate limits of sign-in, the CSRF
check and role scoping are the API's (no second copy). Plain HTML forms carry the session's CSRF
token as a hidden field `csrf_token`, which `PageRoute` hands to the API's check as the
`X-CSRF-Token` header before the request is authenticated.

`PageContext` also holds what every page needs: the templates, the stores and the language."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy import Engine

from sio.casework.access import Forbidden, NotFound, Principal
from sio.casework.api import CSRF_HEADER, AuthError, CsrfError
from sio.criteria import CriteriaSet
from sio.i18n import SUPPORTED_LANGUAGES, translations
from sio.parameters import ParameterSet
from sio.web.figures import FigureCache
from sio.web.fmt import Formatter

__all__ = [
    "LANG_COOKIE",
    "PageContext",
    "form_of",
    "needs_data",
    "needs_figures",
    "page_language",
]

LANG_COOKIE = "sio_spraak"
TEMPLATES = __file__.rsplit("/", 1)[0] + "/templates"
CSRF_FIELD = "csrf_token"


def page_language(request: Request) -> str:
    """The page's language: the `sio_spraak` cookie ("nb" or "en"), Norwegian by default."""
    lang = request.cookies.get(LANG_COOKIE, "nb")
    return lang if lang in SUPPORTED_LANGUAGES else "nb"


def form_of(body: bytes) -> dict[str, str]:
    """The fields of an `application/x-www-form-urlencoded` body (the last value of each)."""
    return {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}


def _endpoint(app: FastAPI, path: str, method: str) -> Any:
    for r in app.router.routes:
        if isinstance(r, APIRoute) and r.path == path and method in (r.methods or set()):
            return r
    raise LookupError(f"the casework app has no {method} {path}")


@dataclass
class PageContext:
    """What the page routers share."""

    engine: Engine
    params: ParameterSet
    criteria: CriteriaSet
    figures: FigureCache
    env: Environment
    principal: Callable[..., Any]  # the API's dependency: a route using it is authenticated
    conn: Callable[..., Any]  # the API's dependency: the request's connection (transaction)
    route_class: type[APIRoute]
    login: Callable[..., Any]  # the API's sign-in handler (body, request, response)
    logout: Callable[..., Any]  # the API's sign-out handler (request, connection, principal)
    # what the pages prepare once a data version is stored from the import page (called with
    # the version after its figures are stored): the payment status of the newest run's year
    after_import: list[Callable[[int], None]] = field(default_factory=list)

    @classmethod
    def of(
        cls,
        app: FastAPI,
        engine: Engine,
        params: ParameterSet,
        criteria: CriteriaSet,
        figures: FigureCache,
    ) -> PageContext:
        tokens = _endpoint(app, "/api/tokens", "GET")  # list_tokens(c: Conn, p: Who)
        deps = {getattr(d.call, "__name__", ""): d.call for d in tokens.dependant.dependencies}
        principal, conn = deps["principal"], deps["conn"]
        env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(["j2", "html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        return cls(
            engine,
            params,
            criteria,
            figures,
            env,
            principal,
            conn,
            _page_route(app.router.route_class, env, figures),
            _endpoint(app, "/api/innlogging", "POST").endpoint,
            _endpoint(app, "/api/utlogging", "POST").endpoint,
        )

    def render(
        self,
        request: Request,
        template: str,
        who: Principal | None = None,
        status: int = 200,
        **values: Any,
    ) -> HTMLResponse:
        """`template` in the page's language for `who` (None: signed out)."""
        return HTMLResponse(render(self.env, request, template, who, values), status_code=status)


def render(
    env: Environment,
    request: Request,
    template: str,
    who: Principal | None,
    values: Mapping[str, Any],
) -> str:
    lang = page_language(request)
    tr = translations(lang)
    here = request.url.path + ("?" + request.url.query if request.url.query else "")
    context = {
        "_": tr.gettext,
        "lang": lang,
        "f": Formatter(lang),
        "who": who,
        "here": here,
        "here_quoted": quote(here, safe=""),
        "today": dt.date.today(),
        "csrf": Markup(
            f'<input type="hidden" name="{CSRF_FIELD}" value="{who.csrf or ""}">'
            if who is not None
            else ""
        ),
        **values,
    }
    return env.get_template(template).render(context)


def needs_figures(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a page that shows computed figures: the summary of the newest data version is
    stored (computed if it is not) before the page's transaction opens."""
    endpoint.needs_figures = "summary"  # type: ignore[attr-defined]
    return endpoint


def needs_data(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a page that goes down to the vedtak lines: the newest data version is loaded into
    the cache (and its summary stored) before the page's transaction opens."""
    endpoint.needs_figures = "full"  # type: ignore[attr-defined]
    return endpoint


def _page_route(
    api_route: type[APIRoute], env: Environment, figures: FigureCache
) -> type[APIRoute]:
    """A route class for pages on top of the API's: a form's `csrf_token` field becomes the
    `X-CSRF-Token` header, figures are loaded before the transaction opens, and the API's
    errors become pages (sign-in for 401)."""

    class PageRoute(api_route):  # type: ignore[misc,valid-type]
        def get_route_handler(self) -> Any:
            inner = super().get_route_handler()
            warm = getattr(self.endpoint, "needs_figures", False)

            async def run(request: Request) -> Response:
                if request.method == "POST":
                    body = await request.body()
                    token = form_of(body).get(CSRF_FIELD)
                    if token and CSRF_HEADER.lower().encode() not in dict(request.scope["headers"]):
                        scope = dict(request.scope)
                        scope["headers"] = [
                            *request.scope["headers"],
                            (CSRF_HEADER.lower().encode(), token.encode()),
                        ]
                        request = Request(scope, request.receive)
                        request._body = body
                if warm:
                    await run_in_threadpool(figures.warm, warm == "full")
                try:
                    answer: Response = await inner(request)
                    return answer
                except AuthError as exc:
                    if exc.status == 401:
                        here = request.url.path
                        return RedirectResponse(f"/innlogging?neste={quote(here)}", 303)
                    return _error(env, request, 429, str(exc))
                except (Forbidden, CsrfError) as exc:
                    return _error(env, request, 403, str(exc) if isinstance(exc, Forbidden) else "")
                except NotFound as exc:
                    return _error(env, request, 404, str(exc))

            return run

    return PageRoute


def _error(env: Environment, request: Request, status: int, detail: str) -> HTMLResponse:
    text = render(env, request, "error.j2", None, {"status": status, "detail": detail})
    return HTMLResponse(text, status_code=status)
