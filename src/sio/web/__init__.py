"""Pages for people: server-rendered pages (FastAPI + Jinja2, Designsystemet CSS, htmx) in
Norwegian bokmål with an English switch, mounted on the casework app (`install`).

The pages sign in with the API's own sign-in handler and authenticate through the API's own
route class and principal dependency (`sio.web.auth`), and call the same service functions the
API calls: there is no second copy of any rule here. Figures come from the engine on the newest
stored data version, computed once per (data version, parameter version) and stored
(`sio.web.figures`, `sio.store.cache`).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine

from sio.criteria import CriteriaSet
from sio.parameters import ParameterSet

__all__ = ["GC_YOUNG", "STATIC_DIR", "install", "warm_up"]

STATIC_DIR = Path(__file__).parent / "static"
GC_YOUNG = 20_000  # new objects between the garbage collector's young passes (`warm_up`)


def install(app: FastAPI, engine: Engine, params: ParameterSet, criteria: CriteriaSet) -> None:
    """Add the pages, `/static` and the offline `/docs` to the casework `app`."""
    from sio.web import (
        application_round_pages,
        auth,
        casework_pages,
        imports_pages,
        join_pages,
        pages,
        payments_pages,
    )
    from sio.web.figures import FigureCache

    # the framework's /docs loads Swagger UI from a CDN: replaced by an offline page
    app.router.routes[:] = [
        r
        for r in app.router.routes
        if not str(getattr(r, "path", "")).startswith(("/docs", "/redoc"))
    ]
    figures = FigureCache(engine, params)
    app.state.figures = figures  # `sio serve` loads the newest version with it before serving
    ctx = auth.PageContext.of(app, engine, params, criteria, figures)
    app.state.pages = ctx
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(pages.router(ctx))
    app.include_router(casework_pages.router(ctx))
    # the directorate's and finance's
    for part in (imports_pages, payments_pages, join_pages, application_round_pages):
        app.include_router(part.router(ctx))


def warm_up(app: FastAPI) -> None:
    """What the first request of each page would otherwise do once per process: compile every
    template, read both languages' catalogs and Babel's data, import the modules the pages
    import when first used (a server's start: `sio.casework.asgi`).

    Then the garbage collector is set for a server's requests (the slowest answers of the
    pages were 5–10 times their median, and those were the collector's full passes):
    - what start-up made — some 140 000 objects of modules, classes, functions, templates and
      catalogs, kept for the life of the process — is moved out of its reach (`gc.freeze`):
      each full pass walked every one of them (about 130 ms of CPU on the shared 2-CPU
      machine) in the middle of whichever request set it off. What is loaded later (a data
      version, its computed years) is not frozen: it is let go of when a newer version
      replaces it.
    - a young pass runs after `GC_YOUNG` new objects instead of 700: a page of the national
      data makes thousands of objects that live until its answer is made (a run's page, the
      overview's 356 rows), so with 700 every request ran 5–15 young passes, each moving the
      request's live objects on towards the old generation, and every few requests ended in
      a full pass."""
    import datetime as dt
    import gc

    from sio.i18n import SUPPORTED_LANGUAGES, translations
    from sio.web.fmt import Formatter

    ctx = app.state.pages
    for name in ctx.env.list_templates(extensions=["j2"]):
        ctx.env.get_template(name)
    for lang in SUPPORTED_LANGUAGES:
        translations(lang)
        f = Formatter(lang)
        f.number(1234)
        f.date(dt.date(2016, 5, 1))
        f.month(5)
    import sio.data.kommunehistorikk
    import sio.report.chart
    import sio.report.statement
    import sio.utbetaling.run
    import sio.web.chart  # noqa: F401

    gc.collect()  # start-up's garbage is not frozen with it
    gc.freeze()
    _young, *older = gc.get_threshold()
    gc.set_threshold(GC_YOUNG, *older)
