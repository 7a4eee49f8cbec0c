""" "Bør vi delta?" — what taking part would mean for a municipality, any municipality in the
SSB history (`KommuneHistorikk.shipped()`), not only the participants.

The municipality types (or uploads, in the input format) its own expenditure on the KOSTRA
functions of the base, its population by age group and its activity — vedtak, or volumes per
service as a summary — and chooses a start year. The page builds an input of one municipality
from that (`build_input`: the tables of interfaces.md §1, checked by the same validation as
every import) and runs the engine on it (`sio.engine.Engine`): extraction, grant and netto per
year come from the rules themselves, never from a copy of them. Every assumption is on the page
and can be changed there: the model, the employer-tax zone and travel index, the toppfinansiering,
the population growth, the volumes, and every parameter value the figures used (an own value
replaces the parameter from the start date on; the estimated ones are named).

Roles: `direktorat` and `evaluator` may look at any municipality; `okonomi` at its own.
Nothing is stored.
"""

import datetime as dt
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path as FilePath
from typing import Annotated, Any

import polars as pl
from fastapi import APIRouter, Depends, Request, Response
from starlette.datastructures import FormData, UploadFile

from sio.casework.access import Forbidden, Principal
from sio.data.kommunehistorikk import EARLIEST, CodeVersion, KommuneHistorikk
from sio.data.readers import RawInput, RawTable
from sio.data.tables import AGA_ZONES, AGE_GROUPS, TABLE_BY_NAME
from sio.data.validation import ERROR, Problem
from sio.i18n import translations
from sio.parameters import ParameterSet
from sio.results import AnnualResult
from sio.web.auth import PageContext, page_language
from sio.web.deferred import Deferred, deferred_route

__all__ = ["Assumptions", "build_input", "estimate", "router"]

ROLES = ("direktorat", "evaluator", "okonomi")
FIRST_YEAR, LAST_YEAR = 2016, 2035
MAX_YEARS = 6
CODE = "kommune"
UPLOADABLE = ("utgifter", "befolkning", "vedtak")
FORM = "form:"  # the "file" of a table typed in the form


@dataclass
class Assumptions:
    """Everything the estimate rests on, as the form gives it (text where the input format
    keeps text: exact decimals)."""

    kommune: str
    startaar: int
    aar: int = 3
    modell: str = "A"
    aga_sone: str = "1"
    reiseindeks: str = "0"
    toppfinansiering: int = 0  # kroner per year
    utgifter: dict[str, int] = field(default_factory=dict)  # KOSTRA function → kroner
    befolkning: dict[str, int] = field(default_factory=dict)  # age group → people, base year
    vekst: dict[str, str] = field(default_factory=dict)  # age group → % change per year
    volum: dict[str, str] = field(default_factory=dict)  # service → hours/week or places
    egne: dict[str, str] = field(default_factory=dict)  # parameter path → own value
    filer: dict[str, pl.DataFrame] = field(default_factory=dict)  # uploaded tables (text)

    @property
    def base_year(self) -> int:
        return self.startaar - 1

    @property
    def years(self) -> list[int]:
        return list(range(self.startaar, self.startaar + self.aar))


@dataclass
class Estimate:
    """The engine's rows per year, the parameter values they used and the problems met."""

    rows: list[AnnualResult] = field(default_factory=list)
    used: list[dict[str, Any]] = field(default_factory=list)
    estimates: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def services(params: ParameterSet, day: dt.date) -> list[tuple[str, str, str]]:
    """The activity-financed services: (code, unit "time"/"doegn", description)."""
    out = []
    for s in params.children("aktivitetstilskudd.enhet"):
        path = f"aktivitetstilskudd.enhet.{s}"
        found = params.get(path).at(day)
        if found is not None and found.value in ("time", "doegn"):
            out.append((s, str(found.value), params.get(path).description))
    return out


def base_functions(params: ParameterSet, day: dt.date) -> list[str]:
    """The KOSTRA functions in the base on `day` (flag 1), e.g. ["234", "253", …]."""
    out = []
    for path in params.paths("uttrekk.kostra_funksjoner"):
        found = params.get(path).at(day)
        if found is not None and found.value in (1, True):
            out.append(path.rsplit(".f", 1)[-1])
    return out


def _population(a: Assumptions, year: int) -> dict[str, int]:
    """The base year's population grown by the assumed yearly change, whole people."""
    from sio.money import round_half_away

    out = {}
    for g in AGE_GROUPS:
        n = Fraction(a.befolkning.get(g, 0))
        rate = Fraction(Decimal(a.vekst.get(g) or "0")) / 100
        out[g] = round_half_away(n * (1 + rate) ** (year - a.base_year))
    return out


def _frame(name: str, rows: Sequence[Mapping[str, str | None]]) -> pl.DataFrame:
    cols = TABLE_BY_NAME[name].all_columns
    return pl.DataFrame(
        {c: [r.get(c) for r in rows] for c in cols}, schema={c: pl.Utf8 for c in cols}
    )


def build_input(a: Assumptions, history: KommuneHistorikk) -> RawInput:
    """The input tables of one municipality taking part from 1 January of the start year."""
    version = history.version_on(a.kommune, dt.date(a.startaar, 1, 1))
    assert version is not None
    code = a.kommune
    kommuner = [
        {
            "kommunenummer": code,
            "navn": version.name,
            "gyldig_fra": (
                version.valid_from if version.valid_from > EARLIEST else EARLIEST
            ).isoformat(),
            "gyldig_til": None,
            "aga_sone": a.aga_sone,
            "reiseindeks": a.reiseindeks,
            "etterfolger": None,
            "organisasjonsnummer": None,
        }
    ]
    deltakelse = [
        {
            "kommunenummer": code,
            "modell": a.modell,
            "fra": f"{a.startaar}-01-01",
            "til": None,
            "aktivitet_fra": None,
            "covid_saerordning": "true",
        }
    ]
    utgifter = [
        {
            "kommunenummer": code,
            "aar": str(a.base_year),
            "kostra_funksjon": f,
            "netto_driftsutgifter": str(v),
        }
        for f, v in sorted(a.utgifter.items())
    ]
    befolkning = [
        {"kommunenummer": code, "aar": str(y), "aldersgruppe": g, "antall": str(n)}
        for y in [a.base_year, *a.years]
        for g, n in _population(a, y).items()
    ]
    topp = [
        {"kommunenummer": code, "aar": str(y), "beloep": str(a.toppfinansiering)}
        for y in a.years
        if a.toppfinansiering
    ]
    end = f"{a.years[-1]}-12-31"
    vedtak = [
        {
            "vedtak_id": f"BVD-{s}",
            "person_id": f"P-BVD-{s}",
            "kommunenummer": code,
            "tjeneste": s,
            "prisgruppe": None,
            "omfang": v,
            "enhet": "doegn" if unit == "doegn" else "timer_per_uke",
            "fra": f"{a.startaar}-01-01",
            "til": end,
        }
        for s, v, unit in _volumes(a)
    ]
    tables: dict[str, Sequence[Mapping[str, str | None]]] = {
        "kommuner": kommuner,
        "deltakelse": deltakelse,
        "utgifter": utgifter,
        "befolkning": befolkning,
        "toppfinansiering": topp,
        "vedtak": vedtak,
    }
    out = {}
    for name, rows in tables.items():
        if name in a.filer:
            frame = a.filer[name]
            if "kommunenummer" in frame.columns:
                frame = frame.filter(pl.col("kommunenummer") == code)
            out[name] = RawTable(name, f"{name}.csv", frame)
        else:
            out[name] = RawTable(name, f"{FORM}{name}", _frame(name, rows))
    return RawInput(FilePath("bor-vi-delta"), out)


def _volumes(a: Assumptions) -> list[tuple[str, str, str]]:
    return [(s, v.strip(), a.volum.get(f"{s}:enhet", "time")) for s, v in _volume_items(a)]


def _volume_items(a: Assumptions) -> list[tuple[str, str]]:
    return [
        (s, v) for s, v in sorted(a.volum.items()) if ":" not in s and v.strip() not in ("", "0")
    ]


def with_own_values(params: ParameterSet, a: Assumptions) -> ParameterSet:
    """The parameters with the user's own values, each in force from the start date on."""
    start = dt.date(a.startaar, 1, 1)
    series: dict[str, dict[dt.date, Any]] = {}
    for path, text in a.egne.items():
        if not text.strip() or not params.has(path):
            continue
        prm = params.get(path)
        values = {dv.start: dv.value for dv in prm.values if dv.start < start}
        values[start] = text.strip()
        series[path] = values
    if not series:
        return params
    return params.with_overrides(series, source="bor-vi-delta")


def estimate(params: ParameterSet, a: Assumptions, history: KommuneHistorikk) -> Estimate:
    """The engine on the municipality's constructed input, year by year."""
    from sio.data.validation import validate_raw
    from sio.engine import Engine
    from sio.parameters import ParameterError

    out = Estimate()
    try:
        own = with_own_values(params, a)
    except (ParameterError, ValueError) as exc:
        out.problems.append(Problem(f"{FORM}parametere", None, None, "value", str(exc)))
        return out
    data, problems = validate_raw(build_input(a, history), own)
    out.problems = problems
    if data is None:
        return out
    engine = Engine(data, own)
    seen: dict[tuple[str, dt.date], Any] = {}
    for y in a.years:
        row = engine.compute_year(y).get(a.kommune)
        if row is None:
            continue
        out.rows.append(row.result)
        for key, use in row.log.uses.items():
            seen.setdefault(key, use)
    out.estimates = sorted({p for r in out.rows for p in r.estimerte_parametere})
    for (path, start), use in sorted(seen.items()):
        prm = own.get(path)
        out.used.append(
            {
                "path": path,
                "start": start,
                "value": use.value.value,
                "evidence": use.value.evidence,
                "unit": prm.unit,
                "description": prm.description,
                "own": a.egne.get(path, ""),
            }
        )
    return out


# -- the form ------------------------------------------------------------------------------------


def _int(form: FormData, name: str, default: int, errors: dict[str, str], msg: str) -> int:
    text = str(form.get(name) or "").replace("\u00a0", "").replace(" ", "")
    if not text:
        return default
    if not re.fullmatch(r"-?\d+", text):
        errors[name] = msg
        return default
    return int(text)


def _decimal(form: FormData, name: str, errors: dict[str, str], msg: str) -> str:
    text = str(form.get(name) or "").strip().replace(",", ".")
    if not text:
        return ""
    try:
        Decimal(text)
    except InvalidOperation:
        errors[name] = msg
        return ""
    return text


async def read_form(
    form: FormData, params: ParameterSet, tr: Any
) -> tuple[Assumptions, dict[str, str]]:
    """The assumptions of the form, and the fields in error (field → message)."""
    errors: dict[str, str] = {}
    whole = tr.gettext("a whole number")
    number = tr.gettext("a number (decimal point or comma)")
    code = str(form.get(CODE) or "")
    start = _int(form, "startaar", 2021, errors, whole)
    if not FIRST_YEAR <= start <= LAST_YEAR:
        errors["startaar"] = tr.gettext("a year from {a} to {b}").format(a=FIRST_YEAR, b=LAST_YEAR)
        start = 2021
    a = Assumptions(code, start)
    a.aar = _int(form, "aar", 3, errors, whole)
    if not 1 <= a.aar <= MAX_YEARS:
        errors["aar"] = tr.gettext("from 1 to {n} years").format(n=MAX_YEARS)
        a.aar = 3
    a.modell = "B" if form.get("modell") == "B" else "A"
    zone = str(form.get("aga_sone") or "1")
    a.aga_sone = zone if zone in AGA_ZONES else "1"
    a.reiseindeks = _decimal(form, "reiseindeks", errors, number) or "0"
    a.toppfinansiering = _int(form, "toppfinansiering", 0, errors, whole)
    day = dt.date(start - 1, 1, 1)
    for f in base_functions(params, day):
        value = _int(form, f"utgift_{f}", 0, errors, whole)
        if value:
            a.utgifter[f] = value
    for i, g in enumerate(AGE_GROUPS):
        n = _int(form, f"bef_{i}", 0, errors, whole)
        if n < 0:
            errors[f"bef_{i}"] = whole
        a.befolkning[g] = n
        a.vekst[g] = _decimal(form, f"vekst_{i}", errors, number)
    for s, unit, _d in services(params, dt.date(start, 1, 1)):
        a.volum[s] = _decimal(form, f"volum_{s}", errors, number)
        a.volum[f"{s}:enhet"] = unit
    for key, item in form.multi_items():
        if key.startswith("egen__") and isinstance(item, str) and item.strip():
            path = key[len("egen__") :]
            if params.has(path):
                a.egne[path] = item.strip().replace(",", ".")
    for name in UPLOADABLE:
        upload = form.get(f"fil_{name}")
        if isinstance(upload, UploadFile) and upload.filename:
            raw = await upload.read()
            try:
                a.filer[name] = pl.read_csv(io.BytesIO(raw), infer_schema=False)
            except (pl.exceptions.PolarsError, ValueError) as exc:
                errors[f"fil_{name}"] = tr.gettext("cannot read file: {error}").format(error=exc)
    return a, errors


def _field_of(p: Problem, a: Assumptions) -> str | None:
    """The form field a problem in typed input belongs to (for the link from the message)."""
    if p.file.endswith(".csv"):
        return f"fil_{p.file[:-4]}" if p.file[:-4] in UPLOADABLE else None
    table = p.file.removeprefix(FORM)
    if table == "kommuner":
        return {"aga_sone": "aga_sone", "reiseindeks": "reiseindeks"}.get(p.field or "", CODE)
    if table == "utgifter" and p.row is not None:
        keys = sorted(a.utgifter)
        i = p.row - 2
        return f"utgift_{keys[i]}" if 0 <= i < len(keys) else None
    if table == "befolkning" and p.row is not None:
        return f"bef_{(p.row - 2) % len(AGE_GROUPS)}"
    if table == "vedtak" and p.row is not None:
        items = _volume_items(a)
        i = p.row - 2
        return f"volum_{items[i][0]}" if 0 <= i < len(items) else None
    if table == "toppfinansiering":
        return "toppfinansiering"
    if table == "deltakelse":
        return "startaar"
    return None


def router(ctx: PageContext) -> APIRouter:
    r = APIRouter(route_class=deferred_route(ctx), include_in_schema=False)
    Who = Annotated[Principal, Depends(ctx.principal)]
    history = KommuneHistorikk.shipped()

    def allowed(p: Principal, request: Request) -> None:
        if p.rolle not in ROLES:
            tr = translations(page_language(request))
            raise Forbidden(tr.gettext("the role {role} may not do this").format(role=p.rolle))

    def municipalities(p: Principal) -> list[CodeVersion]:
        """The municipality codes (each period under a name) `p` may look at."""
        return [
            v
            for code in history.codes()
            if p.rolle != "okonomi" or code == p.kommunenummer
            for v in history.versions(code)
        ]

    def page(
        request: Request,
        p: Principal,
        a: Assumptions,
        errors: dict[str, str],
        result: Estimate | None,
        status: int = 200,
    ) -> Response:
        day = dt.date(a.startaar, 1, 1)
        problems = []
        if result is not None:
            problems = [
                {"problem": x, "field": _field_of(x, a)}
                for x in result.problems
                if x.severity == ERROR
            ]
        return ctx.render(
            request,
            "join.j2",
            p,
            status,
            a=a,
            errors=errors,
            result=result,
            problems=problems,
            municipalities=municipalities(p),
            functions=base_functions(ctx.params, dt.date(a.base_year, 1, 1)),
            services=services(ctx.params, day),
            age_groups=list(enumerate(AGE_GROUPS)),
            zones=AGA_ZONES,
            population={y: _population(a, y) for y in [a.base_year, *a.years]},
        )

    @r.get("/bor-vi-delta")
    async def join_form(request: Request, p: Who) -> Response:
        allowed(p, request)
        code = p.kommunenummer if p.rolle == "okonomi" and p.kommunenummer else ""
        return page(request, p, Assumptions(code, 2021), {}, None)

    @r.post("/bor-vi-delta")
    async def join_estimate(request: Request, p: Who) -> Response:
        allowed(p, request)
        tr = translations(page_language(request))
        form = await request.form()
        a, errors = await read_form(form, ctx.params, tr)
        await form.close()
        if p.rolle == "okonomi" and a.kommune != p.kommunenummer:
            errors[CODE] = tr.gettext("a finance officer looks at the own municipality only")
        elif a.kommune not in history:
            errors[CODE] = tr.gettext("choose a municipality")
        else:
            end = dt.date(a.years[-1], 12, 31)
            first = history.version_on(a.kommune, dt.date(a.base_year, 1, 1))
            last = history.version_on(a.kommune, end)
            if first is None or last is None or first != last:
                errors["startaar"] = tr.gettext(
                    "{code} is not one and the same municipality from {a} to {b}: choose "
                    "other years or the code in force then"
                ).format(code=a.kommune, a=a.base_year, b=a.years[-1])
        functions = base_functions(ctx.params, dt.date(a.base_year, 1, 1))
        if not a.utgifter and "utgifter" not in a.filer and functions:
            errors[f"utgift_{functions[0]}"] = tr.gettext("give the expenditure of the base year")
        if errors:
            return page(request, p, a, errors, None, 422)

        def work() -> Response:
            result = estimate(ctx.params, a, history)
            status = 422 if any(x.severity == ERROR for x in result.problems) else 200
            return page(request, p, a, errors, result, status)

        return Deferred(work)

    return r
