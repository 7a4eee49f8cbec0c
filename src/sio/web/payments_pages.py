"""Payment runs on the pages: run a month (`sio utbetaling kjor`), the final settlement of a
year (`sio etteroppgjoer`), a run's ledger lines and statement letters, and the payment status
per municipality (`sio utbetaling status`) — all through `sio.utbetaling.run`, the functions
the CLI calls, and the letters through `sio.report.statement`.

Who sees what: `direktorat` makes runs and sees every municipality; `okonomi` sees the lines,
letters and status of its own municipality only — its code and the codes it continues (the
letters of a run are addressed to the code in force then); they are selected for those codes
before anything is shown, and another municipality's letter answers 404. Other roles: 403.
"""

import contextlib
import dataclasses
import datetime as dt
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup
from sqlalchemy import Connection

from sio.casework.access import Forbidden, NotFound, Principal
from sio.i18n import SUPPORTED_LANGUAGES, translations
from sio.store import ledger
from sio.utbetaling.model import Brev, InngaendeSaldo, Kjoring
from sio.utbetaling.run import Computed, RunOutcome, StatusMonth, StatusRow
from sio.web.auth import PageContext, page_language
from sio.web.deferred import Deferred, deferred_route
from sio.web.fmt import Formatter

__all__ = ["router"]

ROLES = ("direktorat", "okonomi")
SHOWN_LINES = 400  # ledger lines listed on a run's page (the sums are of all)
KEEP_RUNS = 8  # stored runs kept with their letters in memory (a run never changes)
KEEP_TABLES = 16  # payment status tables kept rendered in memory (per state and language)
MONTH_RE = r"^\d{4}-\d{2}$"


def _who(p: Principal, request: Request, make: bool = False) -> None:
    """Raise unless `p` may see payments (`make`: make runs)."""
    allowed = ("direktorat",) if make else ROLES
    if p.rolle not in allowed:
        tr = translations(page_language(request))
        raise Forbidden(tr.gettext("the role {role} may not do this").format(role=p.rolle))


def own_codes(p: Principal) -> frozenset[str] | None:
    """The municipality codes whose lines a municipal user sees (its own and those it
    continues); None: every municipality."""
    if p.rolle != "okonomi" or p.kommunenummer is None:
        return None
    from sio.data.kommunehistorikk import KommuneHistorikk

    history = KommuneHistorikk.shipped()
    before = history.all_predecessors(p.kommunenummer) if p.kommunenummer in history else []
    return frozenset([p.kommunenummer, *before])


def oere_text(lang: str) -> Callable[[int], str]:
    """Øre as kroner with øre in the page's language: `1 234 567,89 kr`."""
    return Formatter(lang).oere


def _letters_for(p: Principal, brever: list[Brev]) -> list[Brev]:
    """The letters `p` may read: a municipal user's own, and those to the codes it continues
    (Stjørdal 5035 reads the letters of 1714 from before 2018)."""
    codes = own_codes(p)
    return brever if codes is None else [b for b in brever if b.mottaker.kommunenummer in codes]


STATUS_ART = "utbetalingsstatus"  # the stored payment status (`sio.store.cache`)


def status_json(row: StatusRow) -> dict[str, Any]:
    """A status row as the JSON it is stored as."""
    out = dataclasses.asdict(row)
    if row.saldo is not None and row.saldo.registrert is not None:
        out["saldo"]["registrert"] = row.saldo.registrert.isoformat()
    return out


def status_from_json(d: Mapping[str, Any]) -> StatusRow:
    """The status row `status_json` stored."""
    saldo = d.get("saldo")
    return StatusRow(
        **{
            **d,
            "months": [StatusMonth(**m) for m in d["months"]],
            "estimerte_parametere": tuple(d["estimerte_parametere"]),
            "figures": tuple(d["figures"]),
            "saldo": None
            if saldo is None
            else InngaendeSaldo(
                **{
                    **saldo,
                    "registrert": None
                    if saldo["registrert"] is None
                    else dt.datetime.fromisoformat(saldo["registrert"]),
                }
            ),
        }
    )


def router(ctx: PageContext) -> APIRouter:
    r = APIRouter(route_class=deferred_route(ctx), include_in_schema=False)
    Who = Annotated[Principal, Depends(ctx.principal)]
    C = Annotated[Connection, Depends(ctx.conn)]
    cache: OrderedDict[int, RunOutcome] = OrderedDict()

    def loaded(version: int | None, years: Iterable[int]) -> Computed | None:
        """`years` computed on data version `version` if the pages have it loaded (None: the
        caller loads and computes it itself)."""
        from sio.utbetaling.run import compute_loaded

        fig = None if version is None else ctx.figures.loaded(version)
        if fig is None:
            return None
        return compute_loaded(fig.calculator, fig.version, years, fig.year)

    def render(
        request: Request, template: str, p: Principal, status: int = 200, **values: object
    ) -> Response:
        lang = page_language(request)
        return ctx.render(request, template, p, status, oere=oere_text(lang), **values)

    lock = threading.Lock()

    def outcome_of(run: Kjoring) -> RunOutcome:
        """The stored run with its letters (rebuilt once, then kept)."""
        from sio.utbetaling.run import stored_run

        with lock:
            found = cache.get(run.id)
            if found is not None:
                cache.move_to_end(run.id)
                return found
        found = stored_run(
            ctx.engine, ctx.params, run, lambda years: loaded(run.data_versjon, years)
        )
        with lock:
            cache[run.id] = found
            while len(cache) > KEEP_RUNS:
                cache.popitem(last=False)
        return found

    def ledger_state() -> tuple[list[Kjoring], int | None, dict[tuple[str, int], InngaendeSaldo]]:
        from sio.store.versions import latest_version

        with ctx.engine.connect() as conn:
            return ledger.list_runs(conn), latest_version(conn), ledger.opening_balances(conn)

    def status_key(
        year: int,
        codes: frozenset[str] | None,
        runs: list[Kjoring],
        balances: Mapping[tuple[str, int], InngaendeSaldo],
    ) -> str:
        """The status's key among the stored figures of a data and parameter version: the year,
        the codes and the state of the ledger (its newest run and opening balance: both are
        only ever added to)."""
        return ":".join(
            [
                str(year),
                ",".join(sorted(codes)) if codes is not None else "*",
                str(runs[-1].id if runs else 0),
                str(max((b.id or 0 for b in balances.values()), default=0)),
            ]
        )

    def status_of(
        year: int,
        codes: frozenset[str] | None,
        runs: list[Kjoring],
        newest: int,
        balances: Mapping[tuple[str, int], InngaendeSaldo],
    ) -> list[StatusRow]:
        """The payment status of `year` (of `codes`; None: every municipality). It follows
        from the newest data version, the parameters, the runs made and the opening balances
        stored: computed once (on the loaded data where the pages have it), stored, then read.
        Raises `PaymentError` when no run covers the year."""
        from sio.store import cache as stored
        from sio.utbetaling.run import status

        key = status_key(year, codes, runs, balances)
        with ctx.engine.connect() as conn:
            kept = stored.read(conn, STATUS_ART, newest, ctx.params.version, key)
        if kept is not None:
            return [status_from_json(x) for x in kept]
        computed = loaded(newest, [year])
        rows: list[StatusRow] = []
        if codes is None:
            rows = status(ctx.engine, ctx.params, year, computed=computed)
        else:  # selected per code in the ledger's query
            for code in sorted(codes):
                rows += status(ctx.engine, ctx.params, year, code, computed)
        stored.record_computation(STATUS_ART)
        stored.write(
            ctx.engine,
            STATUS_ART,
            newest,
            ctx.params.version,
            {key: [status_json(x) for x in rows]},
        )
        return rows

    # the status tables as rendered, per (data version, parameter version, key, language): a
    # national year is some 350 rows of a dozen amounts each, which took most of the page's time
    # to read back and render on every request, and made enough objects to set off the garbage
    # collector's full passes
    tables: OrderedDict[tuple[int, str, str, str], Markup] = OrderedDict()

    def status_table(
        year: int,
        codes: frozenset[str] | None,
        runs: list[Kjoring],
        newest: int,
        balances: Mapping[tuple[str, int], InngaendeSaldo],
        lang: str,
    ) -> Markup:
        """The status of `year` (of `codes`) as the page's table in `lang`: rendered once per
        state of the ledger, data version, parameter version and language, then kept (the
        rows as `status_of` gives them). Raises `PaymentError` as `status_of`."""
        key = (newest, ctx.params.version, status_key(year, codes, runs, balances), lang)
        with lock:
            found = tables.get(key)
            if found is not None:
                tables.move_to_end(key)
                return found
        rows = status_of(year, codes, runs, newest, balances)
        tr = translations(lang)
        html = Markup(
            ctx.env.get_template("_payments_status_table.j2").render(
                {
                    "_": tr.gettext,
                    "lang": lang,
                    "f": Formatter(lang),
                    "oere": oere_text(lang),
                    "rows": rows,
                    "estimates": sorted({e for x in rows for e in x.estimerte_parametere}),
                }
            )
        )
        with lock:
            tables[key] = html
            while len(tables) > KEEP_TABLES:
                tables.popitem(last=False)
        return html

    def prepare_status(year: int | None = None) -> None:
        """After a run: the directorate's status of the run's year, computed now and stored
        (the status page then reads it), and its table rendered in each language. None: the
        year of the newest monthly run (what the status page shows first)."""
        from sio.utbetaling.run import PaymentError

        runs, newest, balances = ledger_state()
        months = [x.periode for x in runs if x.art == "maaned"]
        if year is None and months:
            year = int(max(months)[:4])
        if newest is not None and year is not None:
            with contextlib.suppress(PaymentError):
                for lang in SUPPORTED_LANGUAGES:
                    status_table(year, None, runs, newest, balances, lang)

    def after_import(_version: int) -> None:
        """A new data version from the import page changes every entitlement: the status of
        the newest run's year on the newest version, computed with its figures (loaded by
        then) and stored."""
        prepare_status()

    ctx.after_import.append(after_import)

    def runs_page(
        request: Request, c: Connection, p: Principal, status: int = 200, **values: object
    ) -> Response:
        runs = ledger.list_runs(c)
        codes = own_codes(p)
        if codes is None:
            totals = ledger.run_totals(c)
        else:
            acc: dict[int, list[int]] = defaultdict(lambda: [0, 0])
            for code in sorted(codes):
                for line in ledger.postings(c, kommunenummer=code):
                    assert line.kjoring_id is not None
                    acc[line.kjoring_id][0] += 1
                    acc[line.kjoring_id][1] += line.beloep_oere
            totals = {k: (n, s) for k, (n, s) in acc.items()}
        months = [x.periode for x in runs if x.art == "maaned"]
        settled = {x.periode for x in runs if x.art == "etteroppgjoer"}
        next_month = ""
        if months:
            y, m = (int(v) for v in max(months).split("-"))
            next_month = f"{y + m // 12}-{m % 12 + 1:02d}"
        years = sorted({int(x[:4]) for x in months})
        settle = [y for y in years if f"{y}-12" in months and str(y) not in settled]
        return render(
            request,
            "payments.j2",
            p,
            status,
            runs=list(reversed(runs)),
            totals=totals,
            next_month=values.pop("maaned", None) or next_month or "2016-05",
            years=years,
            settle=settle,
            **values,
        )

    @r.get("/utbetaling")
    async def payments(request: Request, c: C, p: Who) -> Response:
        _who(p, request)
        return runs_page(request, c, p)

    @r.post("/utbetaling/kjor")
    async def run_month_page(
        request: Request, c: C, p: Who, maaned: Annotated[str, Form(max_length=7)]
    ) -> Response:
        _who(p, request, make=True)
        tr = translations(page_language(request))
        import re

        if not re.match(MONTH_RE, maaned):
            message = tr.gettext("'{text}' is not a month YYYY-MM").format(text=maaned)
            return runs_page(request, c, p, 422, month_error=message, maaned=maaned)

        def work() -> Response:
            from sio.utbetaling.run import PaymentError, parse_month, run_month

            try:
                outcome = run_month(ctx.engine, ctx.params, parse_month(maaned), user=p.brukernavn)
            except PaymentError as exc:
                with ctx.engine.connect() as conn:
                    return runs_page(request, conn, p, 422, month_error=str(exc), maaned=maaned)
            with lock:
                cache[outcome.kjoring.id] = outcome
            if outcome.new:
                prepare_status(int(maaned[:4]))
            return RedirectResponse(f"/utbetaling/kjoring/{outcome.kjoring.id}", 303)

        return Deferred(work)

    @r.post("/utbetaling/etteroppgjoer")
    async def final_settlement(
        request: Request, c: C, p: Who, aar: Annotated[int, Form(ge=1990, le=2100)]
    ) -> Response:
        _who(p, request, make=True)

        def work() -> Response:
            from sio.utbetaling.run import PaymentError, run_final_settlement

            try:
                outcome = run_final_settlement(ctx.engine, ctx.params, aar, user=p.brukernavn)
            except PaymentError as exc:
                with ctx.engine.connect() as conn:
                    return runs_page(request, conn, p, 422, settle_error=str(exc))
            with lock:
                cache[outcome.kjoring.id] = outcome
            if outcome.new:
                prepare_status(aar)
            return RedirectResponse(f"/utbetaling/kjoring/{outcome.kjoring.id}", 303)

        return Deferred(work)

    @r.get("/utbetaling/kjoring/{run_id}")
    async def run_page(
        request: Request, c: C, p: Who, run_id: Annotated[int, Path(ge=1)], alle: bool = False
    ) -> Response:
        _who(p, request)
        run = ledger.get_run(c, run_id)
        if run is None:
            raise NotFound(translations(page_language(request)).gettext("not found"))

        def work() -> Response:
            outcome = outcome_of(run)
            letters = _letters_for(p, outcome.brever)
            lines = (
                [line for b in letters for line in b.linjer]
                if p.rolle == "okonomi"
                else outcome.lines
            )
            return render(
                request,
                "payments_run.j2",
                p,
                run=run,
                letters=letters,
                lines=lines if alle else lines[:SHOWN_LINES],
                line_count=len(lines),
                line_sum=sum(x.beloep_oere for x in lines),
                estimates=sorted({e for b in letters for e in b.estimerte_parametere}),
            )

        return Deferred(work)

    @r.get("/utbetaling/kjoring/{run_id}/brev/{code}")
    async def letter(
        request: Request,
        c: C,
        p: Who,
        run_id: Annotated[int, Path(ge=1)],
        code: Annotated[str, Path(pattern=r"^\d{4}$")],
    ) -> Response:
        _who(p, request)
        tr = translations(page_language(request))
        codes = own_codes(p)
        if codes is not None and code not in codes:
            raise NotFound(tr.gettext("not found"))
        run = ledger.get_run(c, run_id)
        if run is None:
            raise NotFound(tr.gettext("not found"))

        def work() -> Response:
            from sio.report.statement import render_statement

            found = [b for b in outcome_of(run).brever if b.mottaker.kommunenummer == code]
            if not found:
                raise NotFound(tr.gettext("not found"))
            return HTMLResponse(render_statement(found[0], page_language(request)))

        return Deferred(work)

    @r.get("/utbetaling/status")
    async def status_page(
        request: Request,
        p: Who,
        aar: Annotated[int | None, Query(ge=1990, le=2100)] = None,
    ) -> Response:
        _who(p, request)
        codes = own_codes(p)

        def work() -> Response:
            from sio.utbetaling.run import PaymentError

            runs, newest, balances = ledger_state()
            months = [x.periode for x in runs if x.art == "maaned"]
            years = sorted({int(x[:4]) for x in months})
            year = aar if aar is not None else (max(years) if years else None)
            table = Markup()
            error = None
            if year is not None and newest is not None:
                try:
                    table = status_table(
                        year, codes, runs, newest, balances, page_language(request)
                    )
                except PaymentError as exc:
                    error = str(exc)
            return render(
                request,
                "payments_status.j2",
                p,
                422 if error else 200,
                year=year,
                years=years,
                table=table,
                error=error,
            )

        return Deferred(work)

    return r
