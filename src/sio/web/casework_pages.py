"""The allocation office's pages (tildelingskontor): the case list with deadlines and overdue
marks, a new application, the IPLOS assessment form, the recommendation with its reasons, the
decision form (with the deviation justification when the decision leaves the recommended range),
a person's history and the person's access log.

Every page calls the same functions of `sio.casework.service` the API calls, on the request's
transaction (the API's route class opens it, authenticates and rolls it back on any error
answer), so role and municipality are checked at query level as there: another municipality's
case is not found (404). Forms carry the session's CSRF token and a per-form token (`skjema`):
the first submission claims it in the API's idempotency store, in the same transaction as the
write, so a form submitted twice makes one case, assessment, recommendation or decision and the
second submission is sent where the first went."""

import datetime as dt
import secrets
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from sqlalchemy import Connection

from sio.casework import idempotency, service
from sio.casework import models as m
from sio.casework.access import Principal, require
from sio.casework.api import MAX_ID, _norwegian
from sio.criteria import (
    IPLOS_VARIABLES,
    SCORES,
    Assessment,
    CriteriaLookupError,
    CriteriaVersion,
    Recommendation,
    case_deadlines,
    check_decision,
    variable_name,
)
from sio.criteria.iplos import score_meaning
from sio.criteria.model import UNITS
from sio.i18n import translations
from sio.web.auth import PageContext, form_of, page_language, render

__all__ = ["router"]

PER_PAGE = 20
FORM_TOKEN = "skjema"
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
try:  # the access log's times in Norwegian time (stored in UTC)
    NORWAY: dt.tzinfo = ZoneInfo("Europe/Oslo")
except ZoneInfoNotFoundError:  # pragma: no cover - a system without the time zone database
    NORWAY = dt.UTC


def _new_token() -> str:
    return secrets.token_urlsafe(18)


def _step_label(_: Callable[[str], str], step: str) -> str:
    """A step of the work process in words, through the page's translation function `_`."""
    labels = {
        "assessment": _("assessment"),
        "preliminary_reply": _("preliminary reply"),
        "decision": _("decision"),
        "reevaluation": _("re-evaluation"),
    }
    return labels.get(step, step)


def _field_errors(exc: ValidationError, names: dict[str, str] | None = None) -> dict[str, str]:
    """Pydantic's errors as {form field: Norwegian message} (the API's own messages); nested
    locations are joined with "." (`skaarer.hukommelse`)."""
    out: dict[str, str] = {}
    for e in _norwegian(list(exc.errors())):
        loc = [str(x) for x in e["loc"] if x != "body"]
        if not loc:
            continue
        loc[0] = (names or {}).get(loc[0], loc[0])
        out.setdefault(".".join(loc), e["msg"])
    return out


def _blank_to_none(form: dict[str, str], *names: str) -> dict[str, Any]:
    return {k: (form.get(k, "").strip() or None) for k in names}


def _unit_label(_: Callable[[str], str], unit: str) -> str:
    """A unit of volume in words, through the page's translation function `_`."""
    labels = {
        "timer_per_uke": _("hours per week"),
        "timer_per_maaned": _("hours per month"),
        "doegn": _("days of stay per day of the period"),
        "per_maaned": _("per month"),
    }
    return labels.get(unit, unit)


class _Form:
    """The per-form token of one POST: claimed in the request's transaction before the write;
    a second submission of the same form gets the first one's redirect."""

    def __init__(self, c: Connection, p: Principal, form: dict[str, str], path: str) -> None:
        self.c, self.p = c, p
        token = form.get(FORM_TOKEN, "")
        key = f"skjema:{token}"
        self.key = key if token and idempotency.KEY.match(key) else None  # none: refused
        self.replay: str | None = None
        self.reused = False
        if self.key is None:
            return
        fp = idempotency.fingerprint("POST", path, b"")
        now = dt.datetime.now(dt.UTC)
        try:
            stored = idempotency.claim(c, p.konto_id, self.key, fp, now, idempotency.lifetime())
        except idempotency.Reused:
            self.reused = True
            return
        if stored is not None:
            self.replay = stored.body

    @property
    def valid(self) -> bool:
        return self.key is not None and not self.reused

    def done(self, location: str) -> RedirectResponse:
        if self.key is not None:
            idempotency.store(self.c, self.p.konto_id, self.key, 303, location.encode())
        return RedirectResponse(location, 303)


def router(ctx: PageContext) -> APIRouter:
    r = APIRouter(route_class=ctx.route_class, include_in_schema=False)
    Who = Annotated[Principal, Depends(ctx.principal)]
    C = Annotated[Connection, Depends(ctx.conn)]

    def tr_of(request: Request) -> Any:
        return translations(page_language(request))

    def version_on(day: dt.date) -> CriteriaVersion | None:
        try:
            return ctx.criteria.at(day)
        except CriteriaLookupError:
            return None

    def deadlines(
        case: dict[str, Any], today: dt.date, overdue: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """The steps of a case (a `service.case_summaries` entry) against their deadlines
        (`sio.criteria.case_deadlines`) and the re-evaluation of each vedtak's latest row; a step
        is overdue when the service's `overdue_cases` (`overdue`, the API's list) says so, and a
        step past its date that is neither done nor overdue was closed (by the decision, or by a
        re-evaluation or the end of the decision)."""
        flagged = {(o["steg"], o.get("vedtak_id")): o for o in overdue if o["sak_id"] == case["id"]}
        version = version_on(case["mottatt"])
        out: list[dict[str, Any]] = []

        def step(name: str, due: dt.date, done: dt.date | None, late: bool, **more: Any) -> None:
            o = flagged.get((name, more.get("vedtak_id")))
            out.append(
                {
                    "step": name,
                    "due": due,
                    "done_on": done,
                    "late": late,
                    "overdue": o is not None,
                    "days_over": o["dager_over"] if o is not None else 0,
                    "closed": done is None and o is None and due < today,
                    **more,
                }
            )

        if version is not None:
            for s in case_deadlines(
                version.deadlines,
                case["mottatt"],
                today,
                assessed_on=case["first_assessed"],
                decided_on=case["first_decided"],
                preliminary_reply_on=case["foreloepig_svar"],
            ):
                step(s.step, s.due, s.done_on, s.late, late_by=s.days_over if s.late else 0)
        for vedtak_id, due in case["revurderes"].items():
            step("reevaluation", due, None, False, vedtak_id=vedtak_id)
        return out

    def summary_of(case: dict[str, Any]) -> dict[str, Any]:
        """A whole case (`service.get_case`) as `service.case_summaries` gives its summary."""
        return {
            "id": case["id"],
            "mottatt": case["mottatt"],
            "foreloepig_svar": case["foreloepig_svar"],
            "first_assessed": min(
                (a["kartlagt_dato"] for a in case["kartlegginger"]), default=None
            ),
            "first_decided": min((d["vedtaksdato"] for d in case["vedtak"]), default=None),
            "revurderes": {d["vedtak_id"]: d["revurderes"] for d in case["vedtak"]},
            "status": case["status"],
        }

    def next_deadline(steps: list[dict[str, Any]]) -> dict[str, Any] | None:
        open_steps = [s for s in steps if s["done_on"] is None and not s["closed"]]
        return min(open_steps, key=lambda s: s["due"], default=None)

    def latest_recommendation(case: dict[str, Any]) -> tuple[Recommendation | None, bool]:
        """The case's latest recommendation and whether it is of the latest assessment."""
        if not case["anbefalinger"]:
            return None, False
        rec = case["anbefalinger"][-1]
        current = bool(case["kartlegginger"]) and (
            rec["kartlegging_id"] == case["kartlegginger"][-1]["id"]
        )
        return Recommendation.model_validate(rec["resultat"]), current

    def page(
        request: Request, template: str, p: Principal, status: int = 200, **values: Any
    ) -> HTMLResponse:
        """A casework page with the helpers every casework template uses."""
        gettext = tr_of(request).gettext
        return ctx.render(
            request,
            template,
            p,
            status=status,
            step_label=lambda step: _step_label(gettext, step),
            unit_label=lambda unit: _unit_label(gettext, unit),
            dec=Decimal,
            local_time=lambda t: t.astimezone(NORWAY),
            **values,
        )

    def error_page(request: Request, p: Principal, status: int, detail: str) -> HTMLResponse:
        text = render(ctx.env, request, "error.j2", p, {"status": status, "detail": detail})
        return HTMLResponse(text, status_code=status)

    def stale_form(request: Request, p: Principal) -> HTMLResponse:
        _ = tr_of(request).gettext
        return error_page(
            request, p, 400, _("The form has expired or was used for another case: open it again.")
        )

    # -- the case list ---------------------------------------------------------------------------
    @r.get("/saker")
    async def case_list(
        request: Request,
        c: C,
        p: Who,
        side: Annotated[int, Query(ge=1, le=100000)] = 1,
    ) -> Response:
        today = dt.date.today()
        listing = service.list_cases(c, p, side, PER_PAGE, None)
        late: dict[int, list[dict[str, Any]]] = defaultdict(list)
        overdue = service.overdue_cases(c, p, ctx.criteria, today)
        for o in overdue:
            late[o["sak_id"]].append(o)
        summaries = service.case_summaries(c, p, [x["id"] for x in listing["saker"]])
        rows = []
        for x in listing["saker"]:
            summary = summaries[x["id"]]
            steps = deadlines(summary, today, overdue)
            rows.append(
                {
                    "case": x,
                    "status": summary["status"],
                    "next": next_deadline(steps),
                    "overdue": late[x["id"]],
                }
            )
        pages = max(1, -(-listing["totalt"] // PER_PAGE))
        return page(
            request,
            "casework_list.j2",
            p,
            rows=rows,
            listing=listing,
            pages=pages,
            overdue=overdue,
        )

    # -- a new application -----------------------------------------------------------------------
    def new_case_form(
        request: Request, p: Principal, values: dict[str, str], errors: dict[str, str]
    ) -> HTMLResponse:
        return page(
            request,
            "casework_new.j2",
            p,
            status=422 if errors else 200,
            values=values,
            errors=errors,
            token=values.get(FORM_TOKEN) or _new_token(),
        )

    @r.get("/saker/ny")
    async def new_case_page(request: Request, p: Who) -> Response:
        require(p, "saksbehandler")
        return new_case_form(request, p, {"mottatt": dt.date.today().isoformat()}, {})

    @r.post("/saker/ny")
    async def new_case(request: Request, c: C, p: Who) -> Response:
        require(p, "saksbehandler")
        form = form_of(await request.body())
        guard = _Form(c, p, form, "/saker/ny")
        if not guard.valid:
            return stale_form(request, p)
        if guard.replay:
            return RedirectResponse(guard.replay, 303)
        try:
            body = m.NySak(
                fodselsnummer=form.get("fodselsnummer", ""),
                mottatt=form.get("mottatt", ""),  # type: ignore[arg-type]
                henvendelse=form.get("henvendelse", ""),
            )
        except ValidationError as exc:
            return new_case_form(request, p, form, _field_errors(exc))
        try:
            made = service.create_case(
                c, p, body.fodselsnummer, body.mottatt, body.henvendelse, None
            )
        except service.Invalid as exc:
            return new_case_form(request, p, form, {exc.field: str(exc)})
        return guard.done(f"/saker/{made['id']}")

    # -- one case --------------------------------------------------------------------------------
    @r.get("/saker/{sak_id}")
    async def case_page(request: Request, sak_id: Id, c: C, p: Who) -> Response:
        case = service.get_case(c, p, sak_id, None)
        today = dt.date.today()
        rec, current = latest_recommendation(case)
        return page(
            request,
            "casework_case.j2",
            p,
            case=case,
            steps=deadlines(
                summary_of(case), today, service.overdue_cases(c, p, ctx.criteria, today)
            ),
            rec=rec,
            rec_current=current,
            token=_new_token(),
            variable_name=variable_name,
        )

    @r.post("/saker/{sak_id}/foreloepig-svar")
    async def preliminary_reply(request: Request, sak_id: Id, c: C, p: Who) -> Response:
        form = form_of(await request.body())
        try:
            body = m.ForeloepigSvar(dato=form.get("dato", ""))  # type: ignore[arg-type]
        except ValidationError as exc:
            return error_page(request, p, 422, "; ".join(_field_errors(exc).values()))
        service.preliminary_reply(c, p, sak_id, body.dato, None)
        return RedirectResponse(f"/saker/{sak_id}#frister", 303)

    # -- the IPLOS assessment --------------------------------------------------------------------
    def assessment_form(
        request: Request,
        p: Principal,
        case: dict[str, Any],
        values: dict[str, str],
        errors: dict[str, str],
    ) -> HTMLResponse:
        tr = tr_of(request)
        return page(
            request,
            "casework_assessment.j2",
            p,
            status=422 if errors else 200,
            case=case,
            variables=[(v, variable_name(v)) for v in IPLOS_VARIABLES],
            scores=[(s, score_meaning(s, tr.gettext)) for s in SCORES],
            values=values,
            errors=errors,
            token=values.get(FORM_TOKEN) or _new_token(),
        )

    @r.get("/saker/{sak_id}/kartlegging")
    async def assessment_page(request: Request, sak_id: Id, c: C, p: Who) -> Response:
        require(p, "saksbehandler")
        case = service.get_case(c, p, sak_id, None)
        today = dt.date.today().isoformat()
        values = {"kartlagt_dato": today, "signert_dato": today}
        if case["kartlegginger"]:  # start from the latest assessment's scores
            for k, v in case["kartlegginger"][-1]["skaarer"].items():
                values[f"skaarer.{k}"] = str(v)
        return assessment_form(request, p, case, values, {})

    @r.post("/saker/{sak_id}/kartlegging")
    async def add_assessment(request: Request, sak_id: Id, c: C, p: Who) -> Response:
        require(p, "saksbehandler")
        form = form_of(await request.body())
        case = service.get_case(c, p, sak_id, None, log=False)  # 404 before anything else
        guard = _Form(c, p, form, f"/saker/{sak_id}/kartlegging")
        if not guard.valid:
            return stale_form(request, p)
        if guard.replay:
            return RedirectResponse(guard.replay, 303)
        scores = {v: form[f"skaarer.{v}"] for v in IPLOS_VARIABLES if form.get(f"skaarer.{v}", "")}
        try:
            body = m.NyKartlegging(
                skaarer={},
                kartlagt_dato=form.get("kartlagt_dato", ""),  # type: ignore[arg-type]
                kartlagt_av=form.get("kartlagt_av", ""),
                signert_dato=form.get("signert_dato", ""),  # type: ignore[arg-type]
                hva_er_viktig=form.get("hva_er_viktig", ""),
            )
            errors: dict[str, str] = {}
        except ValidationError as exc:
            body, errors = None, _field_errors(exc)
        names = {
            "scores": "skaarer",
            "assessed_on": "kartlagt_dato",
            "assessor": "kartlagt_av",
            "signed_on": "signert_dato",
            "what_matters": "hva_er_viktig",
        }
        try:
            a = Assessment.model_validate(
                {
                    "scores": scores,
                    "assessed_on": form.get("kartlagt_dato", ""),
                    "assessor": form.get("kartlagt_av", ""),
                    "signed_on": form.get("signert_dato", ""),
                    "what_matters": form.get("hva_er_viktig", ""),
                }
            )
        except ValidationError as exc:
            a = None
            for k, v in _field_errors(exc, names).items():
                errors.setdefault(k, v)
        if errors or a is None or body is None:
            return assessment_form(request, p, case, form, errors)
        try:
            service.add_assessment(c, p, sak_id, a, None)
        except service.Invalid as exc:
            return assessment_form(request, p, case, form, {exc.field: str(exc)})
        return guard.done(f"/saker/{sak_id}/anbefaling")

    # -- the recommendation ----------------------------------------------------------------------
    @r.get("/saker/{sak_id}/anbefaling")
    async def recommendation_page(request: Request, sak_id: Id, c: C, p: Who) -> Response:
        case = service.get_case(c, p, sak_id, None)
        rec, current = latest_recommendation(case)
        version = ctx.criteria.by_id(rec.criteria_version) if rec is not None else None
        return page(
            request,
            "casework_recommendation.j2",
            p,
            case=case,
            rec=rec,
            rec_current=current,
            version=version,
            token=_new_token(),
        )

    @r.post("/saker/{sak_id}/anbefaling")
    async def make_recommendation(request: Request, sak_id: Id, c: C, p: Who) -> Response:
        require(p, "saksbehandler")
        form = form_of(await request.body())
        service.get_case(c, p, sak_id, None, log=False)  # 404 before the token is claimed
        guard = _Form(c, p, form, f"/saker/{sak_id}/anbefaling")
        if not guard.valid:
            return stale_form(request, p)
        if guard.replay:
            return RedirectResponse(guard.replay, 303)
        try:
            service.make_recommendation(c, p, sak_id, ctx.criteria, None)
        except service.Invalid as exc:
            return error_page(request, p, 422, str(exc))
        return guard.done(f"/saker/{sak_id}/anbefaling")

    # -- the decision ----------------------------------------------------------------------------
    def price_groups() -> list[str]:
        prefix = "aktivitetstilskudd.enhetspris."
        return sorted(
            {path.rsplit(".", 1)[1] for path in ctx.params.paths() if path.startswith(prefix)}
        )

    def decision_form(
        request: Request,
        p: Principal,
        case: dict[str, Any],
        values: dict[str, str],
        errors: dict[str, str],
    ) -> HTMLResponse:
        rec, current = latest_recommendation(case)
        version = ctx.criteria.by_id(rec.criteria_version) if rec is not None else None
        services = (
            sorted(version.care_ladder.services.items(), key=lambda t: (t[1].step, t[0]))
            if version is not None
            else []
        )
        placement = None
        if rec is not None and version is not None and values.get("tjeneste"):
            placement = place(rec, version, values)
        return page(
            request,
            "casework_decision.j2",
            p,
            status=422 if errors else 200,
            case=case,
            rec=rec,
            rec_current=current,
            version=version,
            services=services,
            units=[(u, _unit_label(tr_of(request).gettext, u)) for u in UNITS],
            groups=price_groups(),
            placement=placement,
            values=values,
            errors=errors,
            token=values.get(FORM_TOKEN) or _new_token(),
        )

    def place(rec: Recommendation, version: CriteriaVersion, values: dict[str, str]) -> str | None:
        """Where the form's service and volume lie against the recommendation (the rule of
        `check_decision`): within, below, above or other; None while the volume is no number."""
        try:
            volume = float(Decimal(values.get("omfang", "").replace(",", ".").strip()))
        except ArithmeticError:
            return None
        if not volume > 0:
            return None
        unit = values.get("enhet", "")
        if unit not in UNITS:
            return None
        service_code = values.get("tjeneste", "")
        return check_decision(rec, version, service_code, volume, unit).position

    @r.get("/saker/{sak_id}/vedtak")
    async def decision_page(request: Request, sak_id: Id, c: C, p: Who) -> Response:
        require(p, "saksbehandler")
        case = service.get_case(c, p, sak_id, None)
        rec, _current = latest_recommendation(case)
        values: dict[str, str] = {"vedtaksdato": dt.date.today().isoformat()}
        if rec is not None:
            main = next((s for s in rec.services if s.role == "main"), None)
            if main is not None:
                values.update(
                    tjeneste=main.service,
                    enhet=main.unit,
                    prisgruppe=main.price_group or "",
                )
        return decision_form(request, p, case, values, {})

    @r.get("/saker/{sak_id}/vedtak/plassering")
    async def decision_placement(
        request: Request,
        sak_id: Id,
        c: C,
        p: Who,
        tjeneste: Annotated[str, Query(max_length=40)] = "",
        omfang: Annotated[str, Query(max_length=20)] = "",
        enhet: Annotated[str, Query(max_length=40)] = "",
    ) -> Response:
        """The live placement of the decision form (htmx): within or outside the range."""
        case = service.get_case(c, p, sak_id, None, log=False)
        rec, _current = latest_recommendation(case)
        position = None
        if rec is not None:
            version = ctx.criteria.by_id(rec.criteria_version)
            values = {"tjeneste": tjeneste, "omfang": omfang, "enhet": enhet}
            position = place(rec, version, values)
        return page(request, "casework_placement.j2", p, placement=position)

    @r.post("/saker/{sak_id}/vedtak")
    async def decide(request: Request, sak_id: Id, c: C, p: Who) -> Response:
        require(p, "saksbehandler")
        form = form_of(await request.body())
        case = service.get_case(c, p, sak_id, None, log=False)  # 404 before anything else
        guard = _Form(c, p, form, f"/saker/{sak_id}/vedtak")
        if not guard.valid:
            return stale_form(request, p)
        if guard.replay:
            return RedirectResponse(guard.replay, 303)
        fields = {
            "tjeneste": form.get("tjeneste", "").strip(),
            "omfang": form.get("omfang", "").replace(",", ".").replace(" ", "").strip(),
            "enhet": form.get("enhet", ""),
            "fra": form.get("fra", ""),
            "maal": form.get("maal", ""),
            **_blank_to_none(
                form,
                "prisgruppe",
                "til",
                "revurderes",
                "vedtaksdato",
                "avviksbegrunnelse",
                "avvikstekst",
            ),
        }
        try:
            body = m.NyttVedtak.model_validate(fields)
        except ValidationError as exc:
            return decision_form(request, p, case, form, _field_errors(exc))
        try:
            made = service.decide(c, p, sak_id, body.model_dump(), ctx.criteria, ctx.params, None)
        except service.Invalid as exc:
            return decision_form(request, p, case, form, {exc.field: str(exc)})
        return guard.done(f"/saker/{sak_id}#vedtak-{made['vedtak_id']}")

    # -- the person ------------------------------------------------------------------------------
    @r.get("/saker/{sak_id}/historikk")
    async def history(request: Request, sak_id: Id, c: C, p: Who) -> Response:
        cases = service.person_history(c, p, sak_id, None)
        mine = next(x for x in cases if x["id"] == sak_id)
        return page(
            request,
            "casework_history.j2",
            p,
            case=mine,
            cases=cases,
        )

    @r.get("/saker/{sak_id}/innsyn")
    async def case_access_log(request: Request, sak_id: Id, c: C, p: Who) -> Response:
        require(p, "saksbehandler")
        case = service.get_case(c, p, sak_id, None)
        rows = service.person_access_log(c, p, case["person"]["fodselsnummer"], None)
        return page(request, "casework_access_log.j2", p, case=case, rows=rows, errors={})

    @r.get("/innsyn")
    async def access_log_page(request: Request, p: Who) -> Response:
        require(p, "saksbehandler")
        return page(
            request, "casework_access_log.j2", p, case=None, rows=None, errors={}, values={}
        )

    @r.post("/innsyn")
    async def access_log(request: Request, c: C, p: Who) -> Response:
        """A person's access log from their identity number (in the body, never in the URL)."""
        require(p, "saksbehandler")
        form = form_of(await request.body())
        values = {"fodselsnummer": form.get("fodselsnummer", "")}
        try:
            body = m.Innsynsbegjaering(fodselsnummer=values["fodselsnummer"])
            rows = service.person_access_log(c, p, body.fodselsnummer, None)
        except ValidationError as exc:
            errors = _field_errors(exc)
        except service.Invalid as exc:
            errors = {exc.field: str(exc)}
        else:
            return page(
                request, "casework_access_log.j2", p, case=None, rows=rows, errors={}, values={}
            )
        return page(
            request,
            "casework_access_log.j2",
            p,
            status=422,
            case=None,
            rows=None,
            errors=errors,
            values=values,
        )

    return r
