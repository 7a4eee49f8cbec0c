"""The application round's pages (scheme.md §2): the applications with their status, a new
application, the directorate's assessment against the requirements, the offer, and the
municipality's answer — an accepted offer becomes a participation record in a new data version.

The rules and the store are `sio.application_round` (the same functions the tests call). The
directorate sees every application; a municipality's finance officer (`okonomi`) sees and acts
for its own municipality only (another municipality's application answers 404). Each event can
be dated (a letter received earlier is entered with its own date); no date lies in the future.
"""

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import Connection

from sio.application_round import service
from sio.application_round.rules import (
    DESCRIBED,
    REQUIREMENTS,
    Offer,
    RoundError,
    calls,
    requirement_label,
)
from sio.casework.access import Forbidden, Principal
from sio.i18n import translations
from sio.web.auth import PageContext, form_of, page_language
from sio.web.deferred import Deferred, deferred_route

__all__ = ["router"]

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _date(form: dict[str, str], name: str, required: bool = True) -> dt.date | None:
    text = form.get(name, "").strip()
    if not text:
        if required:
            raise RoundError(name, translations().gettext("required value is empty"))
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise RoundError(
            name, translations().gettext("not a date YYYY-MM-DD: {value}").format(value=text)
        ) from None


def _required(day: dt.date | None) -> dt.date:
    assert day is not None
    return day


def router(ctx: PageContext) -> APIRouter:
    r = APIRouter(route_class=deferred_route(ctx), include_in_schema=False)
    Who = Annotated[Principal, Depends(ctx.principal)]
    C = Annotated[Connection, Depends(ctx.conn)]

    def readers(p: Principal, request: Request) -> None:
        if p.rolle not in service.READERS:
            tr = translations(page_language(request))
            raise Forbidden(tr.gettext("the role {role} may not do this").format(role=p.rolle))

    def list_page(
        request: Request, c: Connection, p: Principal, status: int = 200, **values: Any
    ) -> Response:
        today = dt.date.today()
        apps = service.list_applications(c, p)
        return ctx.render(
            request,
            "application_round.j2",
            p,
            status,
            applications=[
                (a, a.status(today), service.status_label(a.status(today))) for a in apps
            ],
            calls=list(calls().values()),
            described=[(k, requirement_label(k)) for k in DESCRIBED],
            form=values.pop("form", {}),
            **values,
        )

    def detail_page(
        request: Request, c: Connection, p: Principal, sid: int, status: int = 200, **values: Any
    ) -> Response:
        today = dt.date.today()
        a = service.get(c, p, sid)
        st = a.status(today)
        call = calls()[a.utlysning]
        return ctx.render(
            request,
            "application_round_detail.j2",
            p,
            status,
            a=a,
            call=call,
            state=st,
            status_text=service.status_label(st),
            judgements=[(j, requirement_label(j.krav)) for j in a.judgements or []],
            described=[(k, requirement_label(k), a.descriptions[k]) for k in DESCRIBED],
            requirements=[(k, requirement_label(k)) for k in REQUIREMENTS],
            offer=a.offer,
            form=values.pop("form", {}),
            closed=st in ("avslaatt", "akseptert", "takket_nei"),
            **values,
        )

    @r.get("/soknadsrunde")
    async def applications(request: Request, c: C, p: Who) -> Response:
        readers(p, request)
        return list_page(request, c, p)

    @r.post("/soknadsrunde")
    async def new_application(request: Request, c: C, p: Who) -> Response:
        readers(p, request)
        form = form_of(await request.body())
        code = p.kommunenummer if p.rolle == service.MUNICIPALITY else form.get("kommunenummer", "")
        try:
            sid = service.register(
                c,
                p,
                kommunenummer=(code or "").strip(),
                utlysning=form.get("utlysning", ""),
                mottatt=_required(_date(form, "mottatt")),
                kommunestyrevedtak=_date(form, "kommunestyrevedtak", required=False),
                modell=form.get("modell", ""),
                oensket_start=_date(form, "oensket_start", required=False),
                descriptions={k: form.get(k, "") for k in DESCRIBED},
            )
        except RoundError as exc:
            return list_page(request, c, p, 422, error=exc, form=form)
        return RedirectResponse(f"/soknadsrunde/{sid}", 303)

    @r.get("/soknadsrunde/{sid}")
    async def application(request: Request, c: C, p: Who, sid: Id) -> Response:
        readers(p, request)
        return detail_page(request, c, p, sid)

    @r.post("/soknadsrunde/{sid}/kommunestyrevedtak")
    async def council(request: Request, c: C, p: Who, sid: Id) -> Response:
        readers(p, request)
        form = form_of(await request.body())
        try:
            day = _required(_date(form, "dato"))
            service.record_council_decision(c, p, sid, day, dt.date.today())
        except RoundError as exc:
            return detail_page(request, c, p, sid, 422, error=exc, form=form)
        return RedirectResponse(f"/soknadsrunde/{sid}", 303)

    @r.post("/soknadsrunde/{sid}/vurdering")
    async def assessment(request: Request, c: C, p: Who, sid: Id) -> Response:
        readers(p, request)
        form = form_of(await request.body())
        judged = {
            k: (form.get(f"{k}_oppfylt") == "ja", form.get(f"{k}_begrunnelse", ""))
            for k in DESCRIBED
            if form.get(f"{k}_oppfylt") in ("ja", "nei")
        }
        try:
            service.record_assessment(c, p, sid, judged, dt.date.today())
        except RoundError as exc:
            return detail_page(request, c, p, sid, 422, error=exc, form=form)
        return RedirectResponse(f"/soknadsrunde/{sid}", 303)

    @r.post("/soknadsrunde/{sid}/avslag")
    async def refusal(request: Request, c: C, p: Who, sid: Id) -> Response:
        readers(p, request)
        form = form_of(await request.body())
        try:
            service.refuse(c, p, sid, form.get("begrunnelse", ""), dt.date.today())
        except RoundError as exc:
            return detail_page(request, c, p, sid, 422, error=exc, form=form)
        return RedirectResponse(f"/soknadsrunde/{sid}", 303)

    @r.post("/soknadsrunde/{sid}/tilbud")
    async def offer(request: Request, c: C, p: Who, sid: Id) -> Response:
        readers(p, request)
        form = form_of(await request.body())
        try:
            day = _required(_date(form, "dato"))
            if day > dt.date.today():
                raise RoundError(
                    "dato", translations().gettext("the offer cannot be dated in the future")
                )
            terms = Offer(
                form.get("modell", ""),
                _required(_date(form, "fra")),
                _date(form, "aktivitet_fra", required=False),
                _required(_date(form, "svarfrist")),
            )
            service.make_offer(c, p, sid, terms, day)
        except RoundError as exc:
            return detail_page(request, c, p, sid, 422, error=exc, form=form)
        return RedirectResponse(f"/soknadsrunde/{sid}", 303)

    @r.post("/soknadsrunde/{sid}/svar")
    async def answer(request: Request, c: C, p: Who, sid: Id) -> Response:
        readers(p, request)
        form = form_of(await request.body())
        today = dt.date.today()
        try:
            day = _required(_date(form, "dato"))
            if form.get("svar") == "nei":
                service.decline(c, p, sid, day, today)
                return RedirectResponse(f"/soknadsrunde/{sid}", 303)
            if form.get("svar") != "ja":
                raise RoundError("svar", translations().gettext("choose an answer"))
            service.get(c, p, sid)  # visible to p (404 otherwise) before the work is deferred
        except RoundError as exc:
            return detail_page(request, c, p, sid, 422, error=exc, form=form)

        def accept() -> Response:
            try:
                service.accept(ctx.engine, p, sid, day, today, ctx.params)
            except RoundError as exc:
                with ctx.engine.connect() as conn:
                    return detail_page(request, conn, p, sid, 422, error=exc, form=form)
            return RedirectResponse(f"/soknadsrunde/{sid}", 303)

        return Deferred(accept)

    return r
