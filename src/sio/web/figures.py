"""The figures the directorate and municipality pages show, computed by the engine on a stored
data version and cached per (data version, parameter version): a stored version never changes and
neither does a parameter set with the same version, so neither do the results of the pair.

Two levels:
- `Summary` (and `MunicipalityFigures`): what the overview and a municipality's page show — the
  annual rows of every year, the national months, each municipality's months and its activity
  grant per service. Computed once per (data version, parameter version) and stored in the
  store (`sio.store.cache`, kind `ART`), so that the pages read them: the first request after a
  restart, and a second worker, read what was stored (`sio serve` prepares them at start).
- `Figures`: the engine on the loaded data version, for what goes down to the vedtak lines (the
  trace of a figure, a month's lines, payment status and statements). Loaded on first use, kept
  in memory (the newest two); `sio serve` with one worker loads the newest before it serves.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, Engine

from sio.engine import COMPONENTS, YearResult
from sio.engine import Engine as Calculator
from sio.i18n import get_language, language
from sio.parameters import ParameterSet
from sio.results import AnnualResult
from sio.store import cache
from sio.store.versions import latest_version, load_version

__all__ = [
    "ART",
    "FigureCache",
    "Figures",
    "MonthRow",
    "MunicipalityFigures",
    "Summary",
    "month_rows",
    "service_totals",
    "summarise",
]

KEEP = 2  # pairs kept in memory (the newest and the one before)
KEEP_MUNICIPAL = 1024  # municipality-years read from the store kept in memory
ART = "sider"  # the kind of the stored page figures (`sio.store.cache`)
YEARS_KEY = "aar"  # the annual rows and national months of every year (stored last)
NATIONAL_COLUMNS = ("uttrekk", "toppfinansiering", "tilskudd", "netto")


@dataclass
class Figures:
    """The engine on one data version with the years computed so far."""

    version: int
    calculator: Calculator
    years: dict[int, YearResult] = field(default_factory=dict)
    services: dict[tuple[int, str], dict[str, int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # a year computed in another language than the process's, for its traces (explain pages)
    translated: dict[tuple[int, str], YearResult] = field(default_factory=dict)

    def year(self, year: int, lang: str | None = None) -> YearResult:
        """The computed year (computed once). With `lang` other than the process's language:
        the year computed in that language, so that its traces speak it (the figures are the
        same)."""
        if lang is not None and lang != get_language():
            with self.lock:
                found = self.translated.get((year, lang))
                if found is None:
                    with language(lang):  # a calculator of its own: its memos hold labels
                        calc = Calculator(self.calculator.data, self.calculator.params)
                        found = calc.compute_year(year)
                    self.translated[(year, lang)] = found
                return found
        with self.lock:
            found = self.years.get(year)
            if found is None:
                found = self.years[year] = self.calculator.compute_year(year)
            return found

    def all_years(self) -> dict[int, list[AnnualResult]]:
        """Every year with participating municipalities, first year to last, with its rows."""
        out: dict[int, list[AnnualResult]] = {}
        for y in self.span():
            rows = self.year(y).results
            if rows:
                out[y] = rows
        return out

    def span(self) -> range:
        """The years from the first participation to the last year with vedtak or
        participation data."""
        first = self.calculator.participation.first_year()
        if first is None:
            return range(0)
        years = self.calculator.data.befolkning.get_column("aar")
        last = int(years.max()) if years.len() else first  # type: ignore[arg-type]
        return range(first, max(first, last) + 1)


@dataclass(frozen=True)
class Summary:
    """What the overview shows of one (data version, parameter version): every year's annual
    rows and, per year and month, the national sums of the components (exact)."""

    version: int
    params_version: str
    years: dict[int, list[AnnualResult]]
    national: dict[int, dict[int, dict[str, Fraction]]]


@dataclass(frozen=True)
class MunicipalityFigures:
    """One municipality's year as its page shows it: the months and the activity grant per
    service in øre."""

    months: list[MonthRow]
    services: dict[str, int]


class FigureCache:
    """The figures per (data version, parameter version), newest first: the stored summaries
    (read from the store, computed and stored when missing) and the loaded `Figures`."""

    def __init__(self, engine: Engine, params: ParameterSet) -> None:
        self.engine = engine
        self.params = params
        self._lock = threading.Lock()
        self._compute_lock = threading.Lock()  # one summary computed at a time
        self._cache: OrderedDict[tuple[int, str], Figures] = OrderedDict()
        self._summaries: OrderedDict[tuple[int, str], Summary] = OrderedDict()
        self._municipal: OrderedDict[tuple[int, str, int, str], MunicipalityFigures] = OrderedDict()

    def warm(self, full: bool = False) -> None:
        """Make sure the summary of the newest stored version is stored (computed if not), and
        with `full` that the version is loaded. Called before a page's transaction opens:
        loading reads the store on connections of its own, and storing writes, which SQLite
        would not grant while the page's transaction holds the write lock."""
        with self.engine.connect() as c:  # closed before loading or storing (SQLite's lock)
            v = latest_version(c)
            stored = None if v is None else self._summary_in(c, v)
        if v is None:
            return
        if full:
            self.of(v)
        if stored is None:
            self.summary_of(v)

    def newest(self, conn: Connection) -> Figures | None:
        """The figures on the newest stored data version (None when nothing is imported); if
        that version arrived after `warm`, the newest cached one (never loaded here, inside the
        caller's transaction)."""
        v = latest_version(conn)
        if v is None:
            return None
        with self._lock:
            found = self._cache.get((v, self.params.version))
            if found is None and self._cache:
                found = max(self._cache.values(), key=lambda x: x.version)
            return found

    def loaded(self, version: int) -> Figures | None:
        """The figures of `version` if they are loaded (never loads)."""
        with self._lock:
            return self._cache.get((version, self.params.version))

    def of(self, version: int) -> Figures:
        """The figures of `version` (loaded from the store on first use)."""
        key = (version, self.params.version)
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
            data, v = load_version(self.engine, self.params, version, evaluation=False)
            found = self._cache[key] = Figures(v, Calculator(data, self.params))
            while len(self._cache) > KEEP:
                self._cache.popitem(last=False)
            return found

    # -- the stored summaries ----------------------------------------------------------------
    def _summary_in(self, conn: Connection, version: int) -> Summary | None:
        """The summary of `version` from memory or the store (None: not stored)."""
        key = (version, self.params.version)
        with self._lock:
            found = self._summaries.get(key)
        if found is not None:
            return found
        stored = cache.read(conn, ART, version, self.params.version, YEARS_KEY)
        if stored is None:
            return None
        found = _summary_from_json(version, self.params.version, stored)
        with self._lock:
            self._summaries[key] = found
            while len(self._summaries) > KEEP:
                self._summaries.popitem(last=False)
        return found

    def summary_of(self, version: int) -> Summary:
        """The summary of `version`: read if stored, else computed on the loaded version and
        stored (every municipality's months and services with it) in a transaction of its own."""
        with self._compute_lock:
            with self.engine.connect() as c:
                found = self._summary_in(c, version)
            if found is not None:
                return found
            entries = summarise(self.of(version))
            cache.record_computation(ART)
            # the years last: a reader that finds them finds every municipality's entry too
            years = entries.pop(YEARS_KEY)
            with self.engine.begin() as conn:
                cache.write(conn, ART, version, self.params.version, entries)
                cache.write(conn, ART, version, self.params.version, {YEARS_KEY: years})
            with self.engine.connect() as c:
                done = self._summary_in(c, version)
            assert done is not None
            return done

    def newest_summary(self, conn: Connection) -> Summary | None:
        """The summary of the newest stored version (None when nothing is imported); if it is
        not stored yet (the version arrived after `warm`), the newest one in memory."""
        v = latest_version(conn)
        if v is None:
            return None
        found = self._summary_in(conn, v)
        if found is None:
            with self._lock:
                if self._summaries:
                    found = max(self._summaries.values(), key=lambda x: x.version)
        return found

    def municipality(
        self, conn: Connection, summary: Summary, year: int, code: str
    ) -> MunicipalityFigures:
        """The months and services of `code` in `year` (read from the store, kept in memory)."""
        key = (summary.version, summary.params_version, year, code)
        with self._lock:
            found = self._municipal.get(key)
        if found is not None:
            return found
        stored = cache.read(
            conn, ART, summary.version, summary.params_version, _municipal_key(year, code)
        )
        found = MunicipalityFigures([], {}) if stored is None else _municipal_from_json(stored)
        with self._lock:
            self._municipal[key] = found
            while len(self._municipal) > KEEP_MUNICIPAL:
                self._municipal.popitem(last=False)
        return found


def _municipal_key(year: int, code: str) -> str:
    return f"kommune:{year}:{code}"


def _frac(text: str) -> Fraction:
    return Fraction(text)


def summarise(fig: Figures) -> dict[str, Any]:
    """The stored entries of a version's summary: `YEARS_KEY` (the annual rows and national
    months of every year) and one entry per municipality and year (months and services)."""
    years = fig.all_years()
    entries: dict[str, Any] = {}
    national: dict[str, dict[str, dict[str, str]]] = {}
    for y, rows in years.items():
        acc: dict[int, dict[str, Fraction]] = defaultdict(lambda: defaultdict(Fraction))
        for row in rows:
            months = month_rows(fig, y, row.kommunenummer)
            for mr in months:
                for col in NATIONAL_COLUMNS:
                    acc[mr.maaned][col] += getattr(mr, col)
            entries[_municipal_key(y, row.kommunenummer)] = {
                "maaneder": [_month_json(mr) for mr in months],
                "tjenester": service_totals(fig, y, row.kommunenummer),
            }
        national[str(y)] = {
            str(mo): {c: str(v) for c, v in cols.items()} for mo, cols in sorted(acc.items())
        }
    entries[YEARS_KEY] = {
        "rader": {str(y): [r.to_dict() for r in rows] for y, rows in years.items()},
        "nasjonalt": national,
    }
    return entries


def _summary_from_json(version: int, params_version: str, stored: Mapping[str, Any]) -> Summary:
    years = {
        int(y): [
            AnnualResult(**{**d, "estimerte_parametere": tuple(d["estimerte_parametere"])})
            for d in rows
        ]
        for y, rows in stored["rader"].items()
    }
    national = {
        int(y): {int(mo): {c: _frac(v) for c, v in cols.items()} for mo, cols in months.items()}
        for y, months in stored["nasjonalt"].items()
    }
    return Summary(version, params_version, dict(sorted(years.items())), national)


_EXACT = COMPONENTS  # the month's exact amounts, as the engine names them


def _month_json(mr: MonthRow) -> dict[str, Any]:
    out: dict[str, Any] = {
        "maaned": mr.maaned,
        "modell": mr.modell,
        "aktivitet": mr.aktivitet,
        "covid": mr.covid,
    }
    out.update({c: str(getattr(mr, c)) for c in _EXACT})
    return out


def _municipal_from_json(stored: Mapping[str, Any]) -> MunicipalityFigures:
    months = [
        MonthRow(
            maaned=m["maaned"],
            modell=m["modell"],
            aktivitet=m["aktivitet"],
            covid=m["covid"],
            **{c: _frac(m[c]) for c in _EXACT},
        )
        for m in stored["maaneder"]
    ]
    return MunicipalityFigures(months, {k: int(v) for k, v in stored["tjenester"].items()})


@dataclass(frozen=True)
class MonthRow:
    """One month of a municipality: each component in whole kroner (rounded for display only,
    the annual figures are rounded once by the engine)."""

    maaned: int
    modell: str
    aktivitet: bool
    uttrekk: Fraction
    toppfinansiering: Fraction
    aktivitetstilskudd: Fraction
    rundsumtilskudd: Fraction
    oeremerket_tilskudd: Fraction
    inntektspaaslag: Fraction
    covid: bool

    @property
    def tilskudd(self) -> Fraction:
        """The four grants (interfaces.md §2: toppfinansiering is deducted, not granted)."""
        return (
            self.aktivitetstilskudd
            + self.rundsumtilskudd
            + self.oeremerket_tilskudd
            + self.inntektspaaslag
        )

    @property
    def netto(self) -> Fraction:
        return self.tilskudd - self.uttrekk - self.toppfinansiering


def month_rows(figures: Figures, year: int, code: str) -> list[MonthRow]:
    """The months of `code` in `year` with their exact components (empty if it has none)."""
    my = figures.year(year).get(code)
    if my is None:
        return []
    return [
        MonthRow(
            m.maaned,
            m.modell,
            m.aktivitet,
            m.uttrekk,
            m.toppfinansiering,
            Fraction(m.aktivitetstilskudd_oere, 100),
            m.rundsumtilskudd,
            m.oeremerket_tilskudd,
            m.inntektspaaslag,
            m.covid_erstattet,
        )
        for m in my.months
    ]


def service_totals(figures: Figures, year: int, code: str) -> dict[str, int]:
    """The activity grant of `code` in `year` per service, in øre: the sum of the vedtak lines
    of its activity-financed months (a Covid month's mean is not split by service), as the
    activity kernel summed them per service (`ActivityGrant.by_service`)."""
    found = figures.services.get((year, code))
    if found is not None:
        return found
    computed = figures.year(year)
    my = computed.get(code)
    months = [
        (year, mf.maaned)
        for mf in (my.months if my is not None else [])
        if mf.aktivitet and not mf.covid_erstattet
    ]
    out = computed.activity.by_service(code, months) if computed.activity is not None else {}
    figures.services[(year, code)] = out
    return out
