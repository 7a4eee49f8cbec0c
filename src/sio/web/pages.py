"""The pages of the directorate, the municipality's finance office and the parameter explorer,
plus sign-in, the language switch, the accessibility statement and the offline API page.

Who sees which figures: `direktorat` and `evaluator` every municipality; `saksbehandler` and
`okonomi` their own municipality only (another code answers 404, as the API does for cases);
`admin` no figures. The check is made where a municipality's figures are selected
(`_visible`), before anything is computed for it."""

import datetime as dt
from collections.abc import Iterable
from fractions import Fraction
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from markupsafe import Markup, escape
from pydantic import ValidationError
from sqlalchemy import Connection

from sio.casework import models as m
from sio.casework.access import MUNICIPAL, Forbidden, NotFound, Principal
from sio.casework.api import AuthError
from sio.i18n import SUPPORTED_LANGUAGES, language, translations
from sio.money import round_half_away
from sio.results import AMOUNT_COLUMNS, AnnualResult
from sio.web.auth import (
    LANG_COOKIE,
    PageContext,
    form_of,
    needs_data,
    needs_figures,
    page_language,
)
from sio.web.chart import bar_chart
from sio.web.figures import Figures, Summary
from sio.web.fmt import Formatter
from sio.web.trace_html import month_lines, trace_html

__all__ = ["FIGURE_ROLES", "router"]

FIGURE_ROLES = ("direktorat", "evaluator", "saksbehandler", "okonomi")
HOME = {
    "direktorat": "/direktorat",
    "evaluator": "/direktorat",
    "saksbehandler": "/saker",
    "admin": "/parametere",
}
SHOWN_LINES = 200  # vedtak lines shown before "show all" (the sum is always of all)
Code = Annotated[str, Path(pattern=r"^\d{4}$")]
Year = Annotated[int | None, Query(ge=1990, le=2100)]


def _safe_next(target: str | None) -> str:
    """Only a local path is followed after sign-in or a language switch."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


def _visible(p: Principal, code: str | None = None) -> None:
    """Raise unless `p` may see the figures (of municipality `code`)."""
    if p.rolle not in FIGURE_ROLES:
        raise Forbidden(
            translations().gettext("the role {role} may not do this").format(role=p.rolle)
        )
    if code is not None and p.rolle in MUNICIPAL and code != p.kommunenummer:
        raise NotFound(translations().gettext("not found"))


def _growth(now: int, before: int | None) -> Fraction | None:
    if before is None or before == 0:
        return None
    return Fraction(now - before, abs(before))


def _totals(rows: list[AnnualResult]) -> dict[str, int]:
    return {c: sum(getattr(r, c) for r in rows) for c in AMOUNT_COLUMNS}


def router(ctx: PageContext) -> APIRouter:
    r = APIRouter(route_class=ctx.route_class, include_in_schema=False)
    Who = Annotated[Principal, Depends(ctx.principal)]
    C = Annotated[Connection, Depends(ctx.conn)]

    def figures(request: Request, c: Connection) -> Figures:
        found = ctx.figures.newest(c)
        if found is None:
            raise NotFound(translations(page_language(request)).gettext("no data imported yet"))
        return found

    def summary(request: Request, c: Connection) -> Summary:
        found = ctx.figures.newest_summary(c)
        if found is None:
            raise NotFound(translations(page_language(request)).gettext("no data imported yet"))
        return found

    # -- signing in ------------------------------------------------------------------------------
    @r.get("/innlogging")
    async def login_page(request: Request, neste: str | None = None) -> Response:
        return ctx.render(request, "login.j2", neste=_safe_next(neste), error=None)

    @r.post("/innlogging")
    async def login(request: Request) -> Response:
        form = form_of(await request.body())
        target = _safe_next(form.get("neste"))
        tr = translations(page_language(request))
        try:
            body = m.Innlogging(
                brukernavn=form.get("brukernavn", ""), passord=form.get("passord", "")
            )
        except ValidationError:
            body = None
        answer: Any = None
        error = tr.gettext("wrong user name or password")
        if body is not None:
            cookie = Response()
            try:
                answer = await run_in_threadpool(ctx.login, body, request, cookie)
            except AuthError as exc:
                error = str(exc)
        if isinstance(answer, m.Meg):
            done = RedirectResponse(target if target != "/" else "/", 303)
            done.raw_headers += [(k, v) for k, v in cookie.raw_headers if k == b"set-cookie"]
            return done
        return ctx.render(
            request,
            "login.j2",
            status=401,
            neste=target,
            error=error,
            brukernavn=form.get("brukernavn", ""),
        )

    @r.post("/utlogging")
    async def logout(request: Request, c: C, p: Who) -> Response:
        ended = await ctx.logout(request, c, p)  # the API's own sign-out
        done = RedirectResponse("/innlogging", 303)
        done.raw_headers += [(k, v) for k, v in ended.raw_headers if k == b"set-cookie"]
        return done

    @r.get("/spraak/{lang}")
    async def switch_language(lang: str, neste: str | None = None) -> Response:
        done = RedirectResponse(_safe_next(neste), 303)
        if lang in SUPPORTED_LANGUAGES:
            done.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/")
        return done

    @r.get("/")
    async def home(p: Who) -> Response:
        target = HOME.get(p.rolle) or f"/kommune/{p.kommunenummer}"
        return RedirectResponse(target, 303)

    # -- public pages ----------------------------------------------------------------------------
    @r.get("/tilgjengelighet")
    async def accessibility(request: Request) -> Response:
        return ctx.render(request, "accessibility.j2")

    @r.get("/docs")
    async def api_docs(request: Request) -> Response:
        schema = request.app.openapi()
        operations = [
            {
                "method": method.upper(),
                "path": path,
                "summary": op.get("summary", ""),
                "tags": ", ".join(op.get("tags", [])),
                "statuses": ", ".join(sorted(op.get("responses", {}))),
            }
            for path, item in schema.get("paths", {}).items()
            for method, op in item.items()
            if method in ("get", "post", "put", "patch", "delete")
        ]
        return ctx.render(request, "docs.j2", operations=operations, title=schema["info"]["title"])

    # -- the directorate -------------------------------------------------------------------------
    @r.get("/direktorat")
    @needs_figures
    async def overview(request: Request, c: C, p: Who, aar: Year = None) -> Response:
        _visible(p)
        if p.rolle in MUNICIPAL:
            return RedirectResponse(f"/kommune/{p.kommunenummer}", 303)
        fig = summary(request, c)
        years = fig.years
        if not years:
            raise NotFound(translations(page_language(request)).gettext("no data imported yet"))
        active = [y for y, rows in years.items() if any(x.maaneder for x in rows)]
        year = aar if aar in years else max(active or years)
        totals = {y: _totals(rows) for y, rows in years.items()}
        ordered = sorted(totals)
        national = [
            {
                "aar": y,
                "kommuner": len(years[y]),
                **totals[y],
                "vekst_netto": _growth(totals[y]["netto"], totals.get(y - 1, {}).get("netto")),
                "vekst_tilskudd": _growth(
                    totals[y]["tilskudd"], totals.get(y - 1, {}).get("tilskudd")
                ),
            }
            for y in ordered
        ]
        months = fig.national.get(year, {})
        tr = translations(page_language(request))
        f = Formatter(page_language(request))
        chart = bar_chart(
            [(str(y), totals[y]["netto"]) for y in ordered],
            tr.gettext("National netto per year"),
            tr.gettext(
                "Bar chart of the national netto (grant minus extraction minus toppfinansiering) "
                "per year in million kroner, on its own scale; bars below the zero line are "
                "negative. The same figures are in the table above."
            ),
            tr.gettext("mill. kr"),
            f,
            "netto-chart",
        )
        return ctx.render(
            request,
            "overview.j2",
            p,
            version=fig.version,
            year=year,
            years=ordered,
            national=national,
            rows=sorted(years[year], key=lambda x: x.kommunenummer),
            months=dict(sorted(months.items())),
            chart=chart,
            estimates=_estimates(r for rows in years.values() for r in rows),
            estimate_cells=_estimate_cells(years[year]),
        )

    @r.get("/kommune/{code}")
    @needs_figures
    async def municipality(
        request: Request, code: Code, c: C, p: Who, aar: Year = None
    ) -> Response:
        _visible(p, code)
        fig = summary(request, c)
        years = fig.years
        mine = {
            y: next(x for x in rows if x.kommunenummer == code)
            for y, rows in years.items()
            if any(x.kommunenummer == code for x in rows)
        }
        if not mine:
            raise NotFound(translations(page_language(request)).gettext("not found"))
        year = aar if aar is not None and aar in mine else max(mine)
        shown = ctx.figures.municipality(c, fig, year, code)  # one row read (then kept)
        months, services = shown.months, shown.services
        tr = translations(page_language(request))
        f = Formatter(page_language(request))
        chart = bar_chart(
            [(f.month(mr.maaned)[:3], round_half_away(mr.netto)) for mr in months],
            tr.gettext("Netto per month"),
            tr.gettext(
                "Bar chart of the municipality's netto per month of the year in million kroner; "
                "bars below the zero line are negative. The same figures are in the table."
            ),
            tr.gettext("mill. kr"),
            f,
            "month-chart",
        )
        from sio.report.chart import grant_extraction_svg

        return ctx.render(
            request,
            "municipality.j2",
            p,
            version=fig.version,
            code=code,
            name=mine[year].navn,
            year=year,
            by_year=[mine[y] for y in sorted(mine)],
            months=months,
            services=services,
            chart=chart,
            grant_chart=grant_extraction_svg({y: [mine[y]] for y in sorted(mine)}),
            estimates=_estimates(mine.values()),
        )

    @r.get("/kommune/{code}/forklaring")
    @needs_data
    async def explain(
        request: Request,
        code: Code,
        c: C,
        p: Who,
        aar: Annotated[int, Query(ge=1990, le=2100)],
        maaned: Annotated[int | None, Query(ge=1, le=12)] = None,
        alle: bool = False,
    ) -> Response:
        _visible(p, code)
        fig = figures(request, c)
        # the trace in the page's language (its labels are made when the year is computed)
        my = (await run_in_threadpool(fig.year, aar, page_language(request))).get(code)
        if my is None:
            raise NotFound(translations(page_language(request)).gettext("not found"))
        lang = page_language(request)

        def build_tree() -> str:
            with language(lang):  # the lazily built parts of the trace too
                return trace_html(my.trace, Formatter(lang))

        tree = await run_in_threadpool(build_tree)
        lines = None
        if maaned is not None:
            lines = await run_in_threadpool(month_lines, fig, aar, code, maaned)
        return ctx.render(
            request,
            "explain.j2",
            p,
            version=fig.version,
            code=code,
            row=my.result,
            year=aar,
            month=maaned,
            tree=tree,
            lines=lines,
            shown=None if alle else SHOWN_LINES,
            month_list=[mr.maaned for mr in my.months if mr.aktivitet],
        )

    # -- the parameter explorer ------------------------------------------------------------------
    @r.get("/parametere")
    async def parameters(
        request: Request,
        p: Who,
        q: Annotated[str, Query(max_length=100)] = "",
        dato: Annotated[dt.date | None, Query()] = None,
        fra: Annotated[dt.date | None, Query()] = None,
        til: Annotated[dt.date | None, Query()] = None,
    ) -> Response:
        day = dato or dt.date.today()
        needle = q.strip().lower()
        found = []
        changed = []
        for path in ctx.params.paths():
            prm = ctx.params.get(path)
            text = f"{path} {prm.description} {prm.label_en}".lower()
            if needle and needle not in text:
                continue
            found.append({"param": prm, "now": prm.at(day)})
            if fra is not None and til is not None:
                before, after = prm.at(fra), prm.at(til)
                if before != after:  # another dated value is in force
                    changed.append({"param": prm, "before": before, "after": after})
        template = "params_rows.j2" if request.headers.get("hx-request") else "params.j2"
        return ctx.render(
            request, template, p, rows=found, q=q, day=day, fra=fra, til=til, changed=changed
        )

    @r.get("/parametere/{path:path}")
    async def parameter(
        request: Request, path: str, p: Who, dato: Annotated[dt.date | None, Query()] = None
    ) -> Response:
        if not ctx.params.has(path):
            raise NotFound(translations(page_language(request)).gettext("not found"))
        prm = ctx.params.get(path)
        day = dato or dt.date.today()
        return ctx.render(
            request,
            "param.j2",
            p,
            prm=prm,
            day=day,
            now=prm.at(day),
            step_chart=_history_chart(prm, day, page_language(request)),
        )

    return r


def _history_chart(prm: Any, day: dt.date, lang: str) -> Any:
    """A parameter's dated history as a step chart (numbers only; nothing for flags or text)."""
    from sio.web.chart import step_chart

    if prm.unit in ("flag", "enhet") or any(isinstance(v.value, bool | str) for v in prm.values):
        return ""
    steps = [
        (v.start, None if v.value is None else Fraction(v.value), v.evidence == "estimate")
        for v in prm.values
    ]
    tr = translations(lang)
    millions = prm.unit == "NOK" and max(abs(Fraction(v or 0)) for _d, v, _e in steps) >= 1_000_000
    unit = tr.gettext("kr") if prm.unit == "NOK" else ("" if prm.unit == "/1" else prm.unit)
    if millions:
        unit = tr.gettext("mill. kr")
    return step_chart(
        steps,
        max(dt.date.today(), day),
        tr.gettext("History of {path}").format(path=prm.path),
        tr.gettext(
            "Step chart of the parameter's value over time: each value holds from its date "
            "until the next; estimated values are dashed; the red line marks {date}. The same "
            "values are in the table below."
        ).format(date=Formatter(lang).date(day)),
        unit,
        Formatter(lang),
        "step-chart",
        day,
        1_000_000 if millions else 1,
        tr.gettext("estimate"),
    )


def _estimate_cells(rows: Iterable[AnnualResult]) -> dict[tuple[str, ...], Markup]:
    """Each distinct list of estimated parameters of `rows` as the overview's cell shows it
    (each path's link made once: a national year has hundreds of rows with a hundred links
    each)."""
    links: dict[str, str] = {}
    out: dict[tuple[str, ...], Markup] = {}
    for r in rows:
        paths = r.estimerte_parametere
        if not paths or paths in out:
            continue
        for e in paths:
            if e not in links:
                text = escape(e)
                links[e] = f'<li><a class="ds-link" href="/parametere/{text}">{text}</a></li>'
        out[paths] = Markup(
            f'<details><summary><span class="badge-estimate">{len(paths)}</span></summary>'
            f'<ul class="trace-facts">{"".join(links[e] for e in paths)}</ul></details>'
        )
    return out


def _estimates(rows: Iterable[AnnualResult]) -> list[str]:
    """The estimated parameters the figures of a page rest on (scheme.md: say so wherever)."""
    return sorted({path for r in rows for path in r.estimerte_parametere})
