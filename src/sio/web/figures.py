"""The figures the directorate and municipality pages show, computed by the engine on a stored
data version and cached per (data version, parameter version): a stored version never changes and
neither does a parameter set with the same version, so neither do the results of the pair."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from fractions import Fraction

from sqlalchemy import Connection, Engine

from sio.engine import Engine as Calculator
from sio.engine import YearResult
from sio.i18n import get_language, language
from sio.parameters import ParameterSet
from sio.results import AnnualResult
from sio.store.versions import latest_version, load_version

__all__ = ["FigureCache", "Figures", "MonthRow", "month_rows"]

KEEP = 2  # pairs kept in memory (the newest and the one before)


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


class FigureCache:
    """The figures per (data version, parameter version), newest first."""

    def __init__(self, engine: Engine, params: ParameterSet) -> None:
        self.engine = engine
        self.params = params
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[int, str], Figures] = OrderedDict()

    def warm(self) -> None:
        """Load the newest stored version if it is not cached yet. Called before a page's
        transaction opens: loading reads the store on connections of its own, which SQLite
        would not grant while the page's transaction holds the write lock."""
        with self.engine.connect() as c:
            v = latest_version(c)
        if v is not None:
            self.of(v)

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

    def of(self, version: int) -> Figures:
        """The figures of `version` (loaded from the store on first use)."""
        key = (version, self.params.version)
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
            data, v = load_version(self.engine, self.params, version)
            found = self._cache[key] = Figures(v, Calculator(data, self.params))
            while len(self._cache) > KEEP:
                self._cache.popitem(last=False)
            return found


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
