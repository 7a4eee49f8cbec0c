"""Payment runs, final settlements and the payment status, on the data store.

This is where the engine, the settlement rules and the ledger meet (scheme.md §3.6):
- `run_month` makes the payment run of a month: it loads the newest data version, computes the
  entitlement of every year from the ledger's first year to the month's year, plans the lines
  (`sio.rules.settlement.plan_month_run`) and posts them with the run in one transaction;
- `run_final_settlement` makes the etteroppgjør of a year;
- `statements` rebuilds the statement letters of any stored run from the ledger and the run's own
  data and parameter versions; `status` compares entitlement and payments per month.

Order rules (checked again inside the run lock): the ledger starts with the run of any month
before which no money of its year is due (May 2016 for the scheme's first cohort) — or, where
money was due and paid before the ledger took over, is covered by an opening balance
(`sio.utbetaling.opening`); months are run one after the other, each once; a year's final
settlement needs its December run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Any

from sqlalchemy import Connection, Engine

from sio.data.model import InputData
from sio.data.registry import Registry
from sio.engine import Engine as FinancingEngine
from sio.engine import MunicipalityYear, YearResult
from sio.i18n import _
from sio.parameters import ParameterError, ParameterSet, UsageLog, load_parameters
from sio.rules.participation import Month, first_day, month_index, month_of
from sio.rules.settlement import (
    Balance,
    RunContext,
    YearEntitlement,
    ledger_state,
    plan_final_settlement,
    plan_month_run,
    year_entitlement,
)
from sio.store import ledger
from sio.store.statistics import analyze_grown
from sio.store.versions import current_user, latest_version, load_version
from sio.utbetaling.model import SALDO, Brev, Hittil, InngaendeSaldo, Kjoring, Mottaker, Postering

LAG_PATH = "utbetaling.avregning_forsinkelse"
EXACT_COMPONENTS = ("rundsumtilskudd", "oeremerket_tilskudd", "inntektspaaslag")


class PaymentError(Exception):
    """A run that must not be made (order, missing organisation numbers, …): exit code 2."""


@dataclass
class Computed:
    """The entitlement of a data version and parameter set over a range of years."""

    data: InputData
    data_versjon: int
    params: ParameterSet
    engine: FinancingEngine
    years: dict[int, YearResult]
    rows: dict[tuple[str, int], MunicipalityYear]
    entitlements: dict[tuple[str, int], YearEntitlement]

    @property
    def registry(self) -> Registry:
        return self.engine.registry

    @cached_property
    def payees(self) -> dict[str, Mottaker]:
        """Every municipality of the data as a payee (name and organisation number)."""
        k = self.data.kommuner
        orgnr = k["organisasjonsnummer"] if "organisasjonsnummer" in k.columns else None
        return {
            code: Mottaker(code, navn, (orgnr[i] if orgnr is not None else None) or None)
            for i, (code, navn) in enumerate(zip(k["kommunenummer"], k["navn"], strict=True))
        }

    def estimate_paths(self, keys: Iterable[tuple[str, int]]) -> tuple[str, ...]:
        log = UsageLog()
        for key in keys:
            row = self.rows.get(key)
            if row is not None:
                log.merge(row.log)
        return log.estimate_paths()


@dataclass
class RunOutcome:
    """A run as stored: `new` is False when it existed already (nothing was posted now)."""

    kjoring: Kjoring
    new: bool
    lines: list[Postering]
    brever: list[Brev] = field(default_factory=list)
    lag: int = 1


def entitlement_of(row: MunicipalityYear) -> YearEntitlement:
    """The entitlement of one computed municipality-year, month by month (see settlement)."""
    r = row.result
    annual = {
        "aktivitetstilskudd": r.aktivitetstilskudd,
        "rundsumtilskudd": r.rundsumtilskudd,
        "oeremerket_tilskudd": r.oeremerket_tilskudd,
        "inntektspaaslag": r.inntektspaaslag,
    }
    if r.modell == "utfasing":  # the phase-out supplement, 1/12 in every month of the year
        amount = row.exact.get("inntektspaaslag", Fraction(r.inntektspaaslag))
        exact = {"inntektspaaslag": {m: amount / 12 for m in range(1, 13)}}
        return year_entitlement(r.kommunenummer, r.aar, {}, exact, annual)
    activity = {mf.maaned: mf.aktivitetstilskudd_oere for mf in row.months if mf.aktivitet}
    exact_series: dict[str, dict[int, Fraction]] = {}
    for komp in EXACT_COMPONENTS:
        series = {mf.maaned: getattr(mf, komp) for mf in row.months if getattr(mf, komp) != 0}
        if series:
            exact_series[komp] = series
    return year_entitlement(r.kommunenummer, r.aar, activity, exact_series, annual)


def compute(
    engine: Engine, params: ParameterSet, years: Iterable[int], versjon: int | None = None
) -> Computed:
    """Load a data version (default newest) and compute the entitlement of `years`."""
    data, dv = load_version(engine, params, versjon)
    return compute_loaded(FinancingEngine(data, params), dv, years)


def compute_loaded(
    fin: FinancingEngine,
    data_versjon: int,
    years: Iterable[int],
    known: Callable[[int], YearResult] | None = None,
) -> Computed:
    """The entitlement of `years` on data already loaded into `fin` (data version
    `data_versjon`); `known` gives a year already computed by `fin` (the pages' loaded figures),
    instead of computing it again."""
    results = {y: known(y) if known is not None else fin.compute_year(y) for y in years}
    rows = {(row.result.kommunenummer, y): row for y, r in results.items() for row in r.rows}
    ents = {key: entitlement_of(row) for key, row in rows.items()}
    return Computed(fin.data, data_versjon, fin.params, fin, results, rows, ents)


# -- parameter versions --------------------------------------------------------------------------


def overrides_json(overrides: Mapping[str, Mapping[dt.date, Any]] | None) -> Any:
    """An override mapping as JSON (dates as text, exact numbers as `n/d` text)."""
    if not overrides:
        return None
    out: dict[str, dict[str, Any]] = {}
    for path, series in overrides.items():
        out[path] = {}
        for day, value in series.items():
            if isinstance(value, Fraction) or (
                value is not None and not isinstance(value, int | str)
            ):
                value = str(value)
            out[path][day.isoformat()] = value
    return out


def params_of_version(conn: Connection, versjon: str, current: ParameterSet) -> ParameterSet:
    """The parameter set a stored run used: the defaults with the run's stored overrides.

    Refused when this installation's defaults no longer give the same version.
    """
    if versjon == current.version:
        return current
    known, stored = ledger.parameter_overrides(conn, versjon)
    base = load_parameters()
    if known:
        series = {
            path: {dt.date.fromisoformat(d): v for d, v in values.items()}
            for path, values in (stored or {}).items()
        }
        params = (
            base.with_overrides(series, source=f"parameterversjon {versjon}") if series else base
        )
        if params.version == versjon:
            return params
    raise PaymentError(
        _(
            "parameter version {version} cannot be reproduced with this installation's "
            "parameters (they have changed since the run)"
        ).format(version=versjon)
    )


# -- order of runs -------------------------------------------------------------------------------


def parse_month(text: str) -> Month:
    try:
        y, m = text.split("-")
        month = (int(y), int(m))
        if len(y) != 4 or len(m) != 2 or not 1 <= month[1] <= 12:
            raise ValueError
        return month
    except ValueError:
        raise PaymentError(_("'{text}' is not a month YYYY-MM").format(text=text)) from None


def month_text(m: Month) -> str:
    return f"{m[0]}-{m[1]:02d}"


def _monthly(runs: Sequence[Kjoring]) -> list[Month]:
    return [parse_month(r.periode) for r in runs if r.art == "maaned"]


def _settled_years(runs: Sequence[Kjoring]) -> frozenset[int]:
    return frozenset(int(r.periode) for r in runs if r.art == "etteroppgjoer")


def check_month_order(runs: Sequence[Kjoring], month: Month) -> None:
    """Months follow one another from the ledger's first run, which may be any month (a run
    that exists is fine: the caller reports it). That no money of the first run's year falls
    before it is checked against the entitlement (`check_ledger_start`)."""
    done = _monthly(runs)
    if month in done or not done:
        return
    nxt = month_of(month_index(max(done)) + 1)
    if month != nxt:
        raise PaymentError(
            _("months are run in order: the next month to run is {next}, not {month}").format(
                next=month_text(nxt), month=month_text(month)
            )
        )


def check_ledger_start(
    entitlements: Mapping[tuple[str, int], YearEntitlement],
    month: Month,
    balances: Mapping[tuple[str, int], InngaendeSaldo] | None = None,
) -> None:
    """The ledger may start in any month (the scheme started in May 2016) as long as no
    municipality is entitled to money in that year before it that no opening balance covers:
    the year's final settlement then pays exactly the year's entitlement. Otherwise the run is
    refused, naming the first month with money (the ledger must start there or earlier, or an
    opening balance must say what was paid for it). An opening balance without its last month
    must be of the year the ledger starts in, after its January."""
    balances = balances or {}
    for (code, y), b in sorted(balances.items()):
        if b.til_og_med_maaned is None and (y != month[0] or month[1] == 1):
            raise PaymentError(
                _(
                    "the ledger cannot start in {month}: the opening balance of {code} for {year} "
                    "({source}) says no til_og_med_maaned, and no month of {year} lies before "
                    "the ledger's first run (nothing was posted)"
                ).format(month=month_text(month), code=code, year=y, source=b.kilde)
            )
    early: dict[str, int] = {}
    for (code, y), ent in entitlements.items():
        if y != month[0]:
            continue
        bal = balances.get((code, y))
        covered = bal.covered_to(month) if bal is not None else 0
        for m in sorted(ent.months):
            if covered < m < month[1] and any(v != 0 for v in ent.months[m].values()):
                early[code] = min(m, early.get(code, m))
                break
    if early:
        first = min(early.values())
        raise PaymentError(
            _(
                "the ledger cannot start in {month}: {codes} are entitled to money earlier in "
                "{year}, which its final settlement could not pay in full; start in {first} or "
                "earlier, or register what was paid before with `sio utbetaling inngaende-saldo` "
                "(nothing was posted)"
            ).format(
                month=month_text(month),
                codes=", ".join(sorted(early)),
                year=month[0],
                first=month_text((month[0], first)),
            )
        )


def plan_balances(
    balances: Mapping[tuple[str, int], InngaendeSaldo], start: Month
) -> dict[tuple[str, int], Balance]:
    """The opening balances as the plans use them, for a ledger whose first run is `start`."""
    return {
        key: Balance(b.covered_to(start), b.utbetalt_oere)
        for key, b in balances.items()
        if b.covered_to(start) > 0
    }


def _first_month(runs: Sequence[Kjoring], month: Month) -> Month:
    done = _monthly(runs)
    return min(done) if done else month


def settlement_lag(params: ParameterSet, month: Month) -> int:
    """`utbetaling.avregning_forsinkelse` for the run of `month`: whole months ≥ 1."""
    value = params.number(LAG_PATH, first_day(month))
    if value.denominator != 1 or value < 1:
        raise ParameterError(LAG_PATH, f"must be a whole number ≥ 1, not {value}")
    return int(value)


def _fault_injection_pause() -> None:
    """For the crash tests only: `SIO_TEST_HOLD_RUN=SECONDS` holds a run inside its
    transaction after its lines are written, so that a test can kill the process there."""
    hold = os.environ.get("SIO_TEST_HOLD_RUN")
    if hold:
        time.sleep(float(hold))


# -- payees ---------------------------------------------------------------------------------------


def payees(
    computed: Computed, lines: Iterable[Postering], on: dt.date
) -> dict[str, list[Postering]]:
    """Lines grouped by the municipality that receives them on `on` (a merged municipality's
    earlier lines go to its successor)."""
    out: dict[str, list[Postering]] = {}
    for p in lines:
        code = p.kommunenummer
        if code in computed.registry:
            code = computed.registry.code_on(code, on)
        out.setdefault(code, []).append(p)
    return out


def mottaker(computed: Computed, code: str) -> Mottaker:
    return computed.payees.get(code) or Mottaker(code, code, None)


def _check_orgnr(computed: Computed, lines: Sequence[Postering], on: dt.date) -> None:
    missing = []
    for code, ls in payees(computed, lines, on).items():
        if (
            sum(p.beloep_oere for p in ls) != 0
            and mottaker(computed, code).organisasjonsnummer is None
        ):
            m = mottaker(computed, code)
            missing.append(f"{m.kommunenummer} {m.navn}")
    if missing:
        raise PaymentError(
            _(
                "kommuner: organisasjonsnummer: missing for {names}; a payment needs the "
                "payee's organisation number (nothing was posted)"
            ).format(names=", ".join(missing))
        )


# -- the runs -------------------------------------------------------------------------------------


def run_month(
    engine: Engine,
    params: ParameterSet,
    month: Month,
    *,
    overrides: Any = None,
    user: str | None = None,
    before_commit: Callable[[RunOutcome], None] | None = None,
) -> RunOutcome:
    """The payment run of `month` (posted once; a second call returns the stored run).

    `before_commit` gets a new run with its lines and letters inside the run's transaction; if
    it raises (the payment file cannot be written), nothing is posted."""
    user = user or current_user()
    periode = month_text(month)
    with engine.connect() as conn:
        runs = ledger.list_runs(conn)
    existing = next((r for r in runs if r.art == "maaned" and r.periode == periode), None)
    if existing is not None:
        return _stored(engine, params, existing)
    check_month_order(runs, month)
    first = _first_month(runs, month)
    lag = settlement_lag(params, month)
    computed = compute(engine, params, range(first[0], month[0] + 1))
    ctx = RunContext(computed.data_versjon, params.version)
    on = first_day(month)
    if not _monthly(runs):
        with engine.connect() as conn:
            check_ledger_start(computed.entitlements, month, ledger.opening_balances(conn))

    def plan(conn: Connection) -> list[Postering]:
        now_runs = ledger.list_runs(conn)
        check_month_order(now_runs, month)
        balances = ledger.opening_balances(conn)
        if not _monthly(now_runs):
            check_ledger_start(computed.entitlements, month, balances)
        start = _first_month(now_runs, month)
        state = ledger_state(ledger.postings(conn))
        lines = plan_month_run(
            month,
            computed.entitlements,
            state,
            _settled_years(now_runs),
            lag,
            ctx,
            start,
            plan_balances(balances, start),
        )
        _check_orgnr(computed, lines, on)
        return lines

    return _post(
        engine, params, computed, "maaned", periode, user, overrides, plan, lag, before_commit
    )


def run_final_settlement(
    engine: Engine,
    params: ParameterSet,
    year: int,
    *,
    overrides: Any = None,
    user: str | None = None,
    before_commit: Callable[[RunOutcome], None] | None = None,
) -> RunOutcome:
    """The final settlement (etteroppgjør) of `year`, once (a second call returns it);
    `before_commit` as for `run_month`."""
    user = user or current_user()
    with engine.connect() as conn:
        runs = ledger.list_runs(conn)
    existing = next((r for r in runs if r.art == "etteroppgjoer" and r.periode == str(year)), None)
    if existing is not None:
        return _stored(engine, params, existing)
    _check_final_order(runs, year)
    computed = compute(engine, params, [year])
    ctx = RunContext(computed.data_versjon, params.version)
    on = dt.date(year, 12, 1)

    def plan(conn: Connection) -> list[Postering]:
        now_runs = ledger.list_runs(conn)
        _check_final_order(now_runs, year)
        state = ledger_state(ledger.postings(conn, aar=year))
        balances = plan_balances(ledger.opening_balances(conn), min(_monthly(now_runs)))
        lines = plan_final_settlement(year, computed.entitlements, state, ctx, balances)
        _check_orgnr(computed, lines, on)
        return lines

    return _post(
        engine,
        params,
        computed,
        "etteroppgjoer",
        str(year),
        user,
        overrides,
        plan,
        before_commit=before_commit,
    )


def _post(
    engine: Engine,
    params: ParameterSet,
    computed: Computed,
    art: str,
    periode: str,
    user: str,
    overrides: Any,
    plan: Callable[[Connection], list[Postering]],
    lag: int = 1,
    before_commit: Callable[[RunOutcome], None] | None = None,
) -> RunOutcome:
    """Post a planned run (or return the stored one if a concurrent run got there first).

    With `before_commit`, the new run's letters are made from the run's own transaction and
    handed to it before the commit, so that a payment file that cannot be written (a full
    disk) leaves the ledger as it was."""
    tx: list[Connection] = []
    made: list[RunOutcome] = []

    def planned(conn: Connection) -> list[Postering]:
        tx.append(conn)
        return plan(conn)

    def posted() -> None:
        _fault_injection_pause()
        if before_commit is None:
            return
        conn = tx[-1]
        run = ledger.find_run(conn, art, periode)
        assert run is not None  # inserted in this transaction
        lines = ledger.postings(conn, kjoring_id=run.id)
        outcome = RunOutcome(run, True, lines, _statements(conn, computed, run, lines), lag)
        before_commit(outcome)
        made.append(outcome)

    try:
        run, lines = ledger.post_run(
            engine,
            art,
            periode,
            user,
            computed.data_versjon,
            params.version,
            params.source,
            overrides,
            planned,
            posted,
        )
    except ledger.AlreadyRun as exc:
        return _stored(engine, params, exc.run)
    # the ledger grew: fresh planner statistics for its tables, after the commit (decision 0026)
    analyze_grown(
        engine, (ledger.payment_run.name, ledger.posting.name), {ledger.posting.name: len(lines)}
    )
    if made:
        return made[0]
    outcome = RunOutcome(run, True, lines, lag=lag)
    outcome.brever = _statements(engine, computed, run, lines)
    return outcome


def _check_final_order(runs: Sequence[Kjoring], year: int) -> None:
    """The year is in the ledger (its first run is in the year or before: no money of the year
    falls before it, `check_ledger_start`) and its December is run."""
    done = _monthly(runs)
    if not done or min(done) > (year, 12):
        raise PaymentError(
            _("{year} is not in the ledger: it starts with the run of {first}").format(
                year=year, first=month_text(min(done)) if done else "—"
            )
        )
    if max(done) < (year, 12):
        raise PaymentError(
            _(
                "the final settlement of {year} needs the payment run of {year}-12 first "
                "(the newest run is {last})"
            ).format(year=year, last=month_text(max(done)))
        )


def _stored(
    engine: Engine,
    params: ParameterSet,
    run: Kjoring,
    loaded: Callable[[Iterable[int]], Computed | None] | None = None,
) -> RunOutcome:
    """A stored run with its lines and statements (recomputed with the run's own versions;
    `loaded`, given the years, may return them computed on data already loaded)."""
    with engine.connect() as conn:
        lines = ledger.postings(conn, kjoring_id=run.id)
        run_params = params_of_version(conn, run.parameter_versjon, params)
        runs = ledger.list_runs(conn)
    years = _years_of_run(runs, run)
    computed = loaded(years) if loaded is not None else None
    if (
        computed is None
        or computed.data_versjon != run.data_versjon
        or computed.params.version != run_params.version
    ):
        computed = compute(engine, run_params, years, run.data_versjon)
    lag = settlement_lag(run_params, run_month_of(run)) if run.art == "maaned" else 1
    return RunOutcome(run, False, lines, _statements(engine, computed, run, lines), lag)


def stored_run(
    engine: Engine,
    params: ParameterSet,
    run: Kjoring,
    loaded: Callable[[Iterable[int]], Computed | None] | None = None,
) -> RunOutcome:
    """A stored run with its lines and statement letters, rebuilt with the run's own data and
    parameter versions (what the pages show of a run made before). `loaded`, given the run's
    years, may return them computed on data already loaded (used when its data and parameter
    versions are the run's)."""
    return _stored(engine, params, run, loaded)


def run_month_of(run: Kjoring) -> Month:
    """The month a run is for (a final settlement: December of its year)."""
    return parse_month(run.periode) if run.art == "maaned" else (int(run.periode), 12)


def _years_of_run(runs: Sequence[Kjoring], run: Kjoring) -> range:
    if run.art == "etteroppgjoer":
        return range(int(run.periode), int(run.periode) + 1)
    month = run_month_of(run)
    return range(_first_month(runs, month)[0], month[0] + 1)


# -- statements and status -----------------------------------------------------------------------


def _due_months(ent: YearEntitlement, til: int) -> int:
    return sum(ent.month_total(m) for m in ent.months if m <= til)


def _statements(
    source: Engine | Connection, computed: Computed, run: Kjoring, lines: Sequence[Postering]
) -> list[Brev]:
    """One statement per receiving municipality with lines in the run (read on `source`: a
    connection inside the run's transaction sees the run before it commits)."""
    month = run_month_of(run)
    on = first_day(month)
    reading = contextlib.nullcontext(source) if isinstance(source, Connection) else source.connect()
    with reading as conn:
        runs = ledger.list_runs(conn)
        settled = _settled_years([r for r in runs if r.id <= run.id])
        paid_before = ledger.paid_per_year(conn, run.id)
        balances = ledger.opening_balances(conn)
    start = min(_monthly(runs)) if _monthly(runs) else month
    out: list[Brev] = []
    for code, ls in sorted(payees(computed, lines, on).items()):
        keys = sorted({(p.kommunenummer, p.aar) for p in ls})
        hittil: dict[int, list[int]] = {}
        for c, y in keys:
            til = month[1] if y == month[0] else 12
            ent = computed.entitlements.get((c, y))
            due = 0
            if ent is not None:
                due = _due_months(ent, til) + (sum(ent.rounding.values()) if y in settled else 0)
            acc = hittil.setdefault(y, [til, 0, 0, 0, 0])
            acc[1] += due
            acc[2] += paid_before.get((c, y), 0)
            bal = balances.get((c, y))
            if bal is not None:  # paid before the ledger took over: part of what is paid
                acc[2] += bal.utbetalt_oere
                acc[3] += bal.utbetalt_oere
                acc[4] = max(acc[4], bal.covered_to(start))
        with_saldo = {y for c, y in keys if (c, y) in balances}
        out.append(
            Brev(
                run,
                mottaker(computed, code),
                tuple(ls),
                tuple(
                    Hittil(y, v[0], v[1], v[2], v[3] if y in with_saldo else None, v[4])
                    for y, v in sorted(hittil.items())
                ),
                computed.estimate_paths(keys),
            )
        )
    return out


@dataclass
class StatusMonth:
    maaned: int
    rettighet_oere: int
    utbetalt_oere: int
    data_versjoner: list[int]
    parameter_versjoner: list[str]
    arter: list[str]


@dataclass
class StatusRow:
    """Entitlement against payments of one municipality in one year."""

    kommunenummer: str
    navn: str
    aar: int
    til_maaned: int
    etteroppgjoer: bool
    rettighet_oere: int
    utbetalt_oere: int
    rettighet_aar_oere: int
    data_versjon: int
    parameter_versjon: str
    months: list[StatusMonth]
    avrunding_rettighet_oere: int = 0
    avrunding_utbetalt_oere: int = 0
    estimerte_parametere: tuple[str, ...] = ()
    saldo: InngaendeSaldo | None = None  # the opening balance of the year, if any
    saldo_til_maaned: int = 0  # the last month it covers
    saldo_rettighet_oere: int = 0  # the entitlement of the months it covers
    saldo_utbetalt_oere: int = 0  # the balance plus the ledger's lines that settle it
    figures: tuple[str, ...] = ()  # the grants of the year that are not 0 (for the estimates)

    @property
    def utestaaende_oere(self) -> int:
        return self.rettighet_oere - self.utbetalt_oere


def status(
    engine: Engine,
    params: ParameterSet,
    year: int,
    kommune: str | None = None,
    computed: Computed | None = None,
) -> list[StatusRow]:
    """Per municipality and month of `year`: entitlement (as the newest data version and these
    parameters give it, for the months run so far), what has been paid, and the versions of the
    paid lines. `computed`: `year` already computed on the newest data version with `params`
    (used only if it is that version)."""
    with engine.connect() as conn:
        runs = ledger.list_runs(conn)
        lines = ledger.postings(conn, aar=year, kommunenummer=kommune)
        balances = ledger.opening_balances(conn)
        newest = latest_version(conn)
    done = _monthly(runs)
    if not done or min(done) > (year, 12) or max(done) < (year, 1):
        raise PaymentError(_("no payment run covers {year}").format(year=year))
    til = 12 if max(done) >= (year, 12) else max(done)[1]
    settled = year in _settled_years(runs)
    if (
        computed is None
        or computed.data_versjon != newest
        or computed.params.version != params.version
        or year not in computed.years
    ):
        computed = compute(engine, params, [year])
    by_key: dict[tuple[str, int | None], list[Postering]] = {}
    saldo_lines: dict[str, int] = {}
    for p in lines:
        if p.komponent == SALDO:
            saldo_lines[p.kommunenummer] = saldo_lines.get(p.kommunenummer, 0) + p.beloep_oere
        else:
            by_key.setdefault((p.kommunenummer, p.maaned), []).append(p)
    codes = {c for (c, y) in computed.entitlements if y == year} | {p.kommunenummer for p in lines}
    codes |= {c for (c, y) in balances if y == year}
    if kommune is not None:
        codes &= {kommune}
    out: list[StatusRow] = []
    for code in sorted(codes):
        ent = computed.entitlements.get((code, year))
        bal = balances.get((code, year))
        before = bal.covered_to(min(done)) if bal is not None else 0
        months: list[StatusMonth] = []
        for m in range(before + 1, til + 1):
            ps = by_key.get((code, m), [])
            due = ent.month_total(m) if ent else 0
            if not ps and due == 0:
                continue
            months.append(
                StatusMonth(
                    m,
                    due,
                    sum(p.beloep_oere for p in ps),
                    sorted({p.data_versjon for p in ps}),
                    sorted({p.parameter_versjon for p in ps}),
                    sorted({p.art for p in ps}),
                )
            )
        rounding = sum(ent.rounding.values()) if ent and settled else 0
        rounding_paid = sum(p.beloep_oere for p in by_key.get((code, None), []))
        saldo_due = ent.through(before) if ent is not None and bal is not None else 0
        saldo_paid = (bal.utbetalt_oere if bal is not None else 0) + saldo_lines.get(code, 0)
        due_total = sum(x.rettighet_oere for x in months) + rounding + saldo_due
        paid_total = sum(x.utbetalt_oere for x in months) + rounding_paid + saldo_paid
        row = computed.rows.get((code, year))
        out.append(
            StatusRow(
                code,
                row.result.navn if row else mottaker(computed, code).navn,
                year,
                til,
                settled,
                due_total,
                paid_total,
                ent.annual_oere if ent else 0,
                computed.data_versjon,
                params.version,
                months,
                rounding,
                rounding_paid,
                row.result.estimerte_parametere if row else (),
                bal,
                before,
                saldo_due,
                saldo_paid,
                tuple(
                    f
                    for f in ("aktivitetstilskudd", *EXACT_COMPONENTS)
                    if row is not None and getattr(row.result, f)
                ),
            )
        )
    return out
