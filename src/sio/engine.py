"""The engine: wires the rules of scheme.md §3 for a year over every municipality at once and
assembles the annual figures (interfaces.md §2, §4).

Each rule lives in the module named after it, under `sio.rules`, and computes for all
participating municipalities and months at once:
- `uttrekk` (extraction, base, demography) and `toppfinansiering`;
- `aktivitetstilskudd` (the vectorised activity grant), with `saerordning` (the Covid months);
- `rundsumtilskudd` (lump sum), `modell_b` (earmarked grant, also model A before `aktivitet_fra`),
  `inntektspaaslag` (supplement);
- `utfasing` (the phase-out after an exit), `merger` (which predecessors a successor continues),
  `prosjektmidler` (the project-cost limit, a check).
The engine only wires them and rounds each annual figure once to whole kroner; the trace of any
figure is built on demand (`sio.explain`) from the same rules' results.
"""

from __future__ import annotations

import datetime as dt
import gc
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property, partial
from typing import Any

from sio.data.model import InputData
from sio.data.registry import Registry
from sio.i18n import _
from sio.lazy import LazyMapping
from sio.money import round_half_away, round_ratio
from sio.parameters import ParameterSet, UsageLog, Use
from sio.results import AnnualResult
from sio.rules.aktivitetstilskudd import ActivityGrant, start_activity
from sio.rules.inntektspaaslag import Supplement, SupplementTerms, supplement_terms, supplements
from sio.rules.modell_b import oeremerket_tilskudd
from sio.rules.participation import Month, MonthState, Participation
from sio.rules.prosjektmidler import ProjectCostCheck, check_project_costs
from sio.rules.rundsumtilskudd import lump_sums
from sio.rules.saerordning import Replacement, covid_plan, covid_replacements
from sio.rules.toppfinansiering import toppfinansiering_months, yearly_amounts
from sio.rules.utfasing import EndedPhaseOut, PhaseOut, PhaseOutYear, phase_outs
from sio.rules.uttrekk import DataGap, Exact, UttrekkCalculator, UttrekkInputs
from sio.trace import Node, fmt_exact

COMPONENTS = (
    "uttrekk",
    "toppfinansiering",
    "aktivitetstilskudd",
    "rundsumtilskudd",
    "oeremerket_tilskudd",
    "inntektspaaslag",
)


@dataclass
class MonthFigures:
    """The exact amounts of one municipality in one month (kroner, as fractions)."""

    maaned: int
    modell: str
    aktivitet: bool
    uttrekk: Fraction = Fraction(0)
    toppfinansiering: Fraction = Fraction(0)
    aktivitetstilskudd_oere: int = 0
    aktivitet_linjer: int = 0
    covid_erstattet: bool = False
    rundsumtilskudd: Fraction = Fraction(0)
    oeremerket_tilskudd: Fraction = Fraction(0)
    inntektspaaslag: Fraction = Fraction(0)


@dataclass
class MunicipalityYear:
    """Everything computed for one municipality and year: the result row and its trace."""

    result: AnnualResult
    build_trace: Callable[[], Node]
    build_months: Callable[[], list[MonthFigures]] = list
    build_exact: Callable[[], dict[str, Fraction]] = dict
    build_log: Callable[[], UsageLog] = UsageLog
    project_costs: ProjectCostCheck | None = None
    notes: list[Node] = field(default_factory=list)  # e.g. a phase-out that ended this year
    _trace: Node | None = field(default=None, repr=False)
    _months: list[MonthFigures] | None = field(default=None, repr=False)
    _log: UsageLog | None = field(default=None, repr=False)
    _exact: dict[str, Fraction] | None = field(default=None, repr=False)

    @property
    def exact(self) -> dict[str, Fraction]:
        """Each component's exact annual sum (kroner) before its one rounding (built on first
        use: the annual figures are rounded from the same sums in integers)."""
        if self._exact is None:
            self._exact = self.build_exact()
        return self._exact

    @property
    def log(self) -> UsageLog:
        """The parameter values this row's figures used (built on first use)."""
        if self._log is None:
            self._log = self.build_log()
        return self._log

    @property
    def months(self) -> list[MonthFigures]:
        """The exact amounts month by month (built on first use: payments and traces need them,
        the annual figures do not)."""
        if self._months is None:
            self._months = self.build_months()
        return self._months

    @property
    def trace(self) -> Node:
        """The trace of this row, built on first use (a national run rarely needs them all)."""
        if self._trace is None:
            self._trace = self.build_trace()
            self._trace.children.extend(self.notes)
        return self._trace


@dataclass
class YearResult:
    """All municipalities with money in one year."""

    year: int
    rows: list[MunicipalityYear]
    params_version: str
    data_source: str
    ended_phase_outs: list[EndedPhaseOut] = field(default_factory=list)
    # the activity grant's kernel result (per group and month, for the pages' service totals)
    activity: ActivityGrant | None = field(default=None, repr=False)

    @property
    def results(self) -> list[AnnualResult]:
        return [r.result for r in self.rows]

    @property
    def project_cost_breaches(self) -> list[ProjectCostCheck]:
        """Municipalities whose reported project costs exceed the limit (scheme.md §3.2)."""
        return [
            r.project_costs
            for r in self.rows
            if r.project_costs is not None and not r.project_costs.innenfor
        ]

    def get(self, code: str) -> MunicipalityYear | None:
        for r in self.rows:
            if r.result.kommunenummer == code:
                return r
        return None


@dataclass
class _ParameterCache:
    """Parameter lookups behind the activity lines, by part (see `Engine._activity_param_uses`):
    what they are depends on the parameter set only."""

    estimate_parts: dict[tuple[object, ...], frozenset[str]] = field(default_factory=dict)
    activity_parts: dict[tuple[object, ...], dict[tuple[str, dt.date], Use]] = field(
        default_factory=dict
    )
    year_estimate_sets: dict[tuple[object, ...], frozenset[str] | None] = field(
        default_factory=dict
    )


_SHARED: weakref.WeakKeyDictionary[ParameterSet, _ParameterCache] = weakref.WeakKeyDictionary()


class _DataTables:
    """What the engine reads from the input tables alone, for every year it computes: the
    registry, the participation periods, the expenditure and population lookups of `uttrekk`
    and the yearly amounts (each read on first use). Shared by every engine of the same
    `InputData` (decision 0027); nothing in it is changed after it is read (the participation
    memoises the months of a year, a function of the data)."""

    def __init__(self, data: InputData) -> None:
        self._data = weakref.ref(data)
        self._toppfinansiering = data.toppfinansiering
        self._prosjektkostnader = data.prosjektkostnader
        self.registry = Registry(data.kommuner)
        self.participation = Participation(data.deltakelse)
        self.uttrekk_inputs = UttrekkInputs(data.utgifter, data.befolkning)

    @cached_property
    def topp(self) -> dict[tuple[str, int], int]:
        return yearly_amounts(self._toppfinansiering)

    @cached_property
    def project(self) -> dict[tuple[str, int], int]:
        if self._prosjektkostnader is None:
            return {}
        return yearly_amounts(self._prosjektkostnader)


# by id() of the InputData (a frozen dataclass of frames is not hashable); an entry is dropped
# when its data are
_DATA_TABLES: dict[int, _DataTables] = {}


def _data_tables(data: InputData) -> _DataTables:
    """The tables of `data`, read once per data set."""
    found = _DATA_TABLES.get(id(data))
    if found is None or found._data() is not data:
        found = _DATA_TABLES[id(data)] = _DataTables(data)
        weakref.finalize(data, _DATA_TABLES.pop, id(data), None)
    return found


class Engine:
    """Computes annual figures from validated input and a parameter set."""

    def __init__(self, data: InputData, params: ParameterSet) -> None:
        self.data = data
        self.params = params
        # what is read from the input tables alone is shared by every engine of the same data
        # (decision 0027)
        tables = _data_tables(data)
        self.registry = tables.registry
        self.participation = tables.participation
        self.uttrekk = UttrekkCalculator(
            params,
            self.registry,
            self.participation,
            data.utgifter,
            data.befolkning,
            tables.uttrekk_inputs,
        )
        self._tables = tables
        self._terms: dict[int, SupplementTerms] = {}
        # the activity grant's parameter lookups depend on the parameters alone: shared by every
        # engine of the same parameter set
        shared = _SHARED.get(params)
        if shared is None:
            shared = _SHARED[params] = _ParameterCache()
        self._estimate_parts = shared.estimate_parts
        self._activity_parts = shared.activity_parts
        self._year_estimate_sets = shared.year_estimate_sets

    @property
    def _project(self) -> dict[tuple[str, int], int]:
        """Reported project costs by (municipality, year) (read on first use)."""
        return self._tables.project

    @property
    def _topp(self) -> dict[tuple[str, int], int]:
        """Toppfinansiering by (municipality, year) (read on first use)."""
        return self._tables.topp

    def supplement_terms(self, year: int) -> SupplementTerms:
        """The supplement's rate and cap of each month of `year` (looked up once)."""
        terms = self._terms.get(year)
        if terms is None:
            terms = self._terms[year] = supplement_terms(self.params, year)
        return terms

    # -- the year ---------------------------------------------------------------------------------
    def compute_year(self, year: int) -> YearResult:
        """All municipalities' annual figures of `year`.

        The cyclic garbage collector is paused meanwhile (decision 0025): the year builds tens
        of thousands of small objects that all stay alive with the result, so every collection
        during the run would walk the whole heap (the loaded libraries, parameters and data) and
        free nothing. The collector runs again after, as usual."""
        paused = gc.isenabled()
        gc.disable()
        try:
            return self._compute_year(year)
        finally:
            if paused:
                gc.enable()

    def _compute_year(self, year: int) -> YearResult:
        part = self.participation
        states = {c: ms for c in part.codes() if (ms := part.months_in_year(c, year))}
        months = {c: list(s) for c, s in states.items()}
        act_months = {c: [mo for mo, st in s.items() if st.activity] for c, s in states.items()}
        earmarked = {c: [mo for mo, st in s.items() if not st.activity] for c, s in states.items()}

        covid = covid_plan(self.params, self.registry, part, year, states)
        kernel_months: set[Month] = {(year, mo) for mo in range(1, 13)}
        financed = {(c, (year, mo)) for c, ms in act_months.items() for mo in ms}
        if covid.financed_references:
            kernel_months.update(covid.references)
            financed |= covid.financed_references
        # the activity kernel's tables are built here; its sums over the vedtak run in worker
        # threads (NumPy releases the GIL in its loops) while this one computes the rules that
        # do not need it
        kernel = start_activity(
            self.data.vedtak,
            self.params,
            self.registry,
            sorted(kernel_months),
            financed,
            self.data.vedtak_groups,
        )
        try:
            ut: dict[str, Exact] = {c: self.uttrekk.uttrekk(c, year) for c in states}
            values = {c: e.value for c, e in ut.items()}
            supp = supplements(self.supplement_terms(year), values, months)
            lump = lump_sums(self.params, year, values, act_months)
            earm = oeremerket_tilskudd(values, earmarked)
            topp = toppfinansiering_months(self._topp, year, act_months)
            # what each row needs that does not depend on the activity grant
            prepared = {
                c: _Prepared(
                    _YearSums(
                        values[c],
                        len(cs),
                        self._topp.get((c, year), 0),
                        len(act_months[c]),
                        lump[c].parts,
                        len(earmarked[c]),
                        supp[c],
                    ),
                    [lump[c].uses, supp[c].uses, _uttrekk_uses(ut[c])],
                )
                for c, cs in states.items()
            }
            # the phase-outs do not need the activity grant either; an error of theirs is
            # raised where it was before, once the rows are assembled
            try:
                po: PhaseOutYear | Exception = phase_outs(
                    self.params, self.registry, part, self.uttrekk, self.supplement_terms, year
                )
            except Exception as exc:
                po = exc
        except BaseException:
            kernel.result()  # the kernel's error first, as when it ran before these rules
            raise
        activity = kernel.result()
        replaced = covid_replacements(covid, activity, self.registry, part, year, states)

        rows: list[MunicipalityYear] = []
        # each month's position among the kernel's months (the year's 12 are all among them;
        # month 0 is not a month, a place holder so that `at[mo]` reads as the month number)
        position = {m: i for i, m in enumerate(activity.months)}
        at = [-1] + [position[(year, mo)] for mo in range(1, 13)]
        no_oere = [0] * len(activity.months)
        for code, code_states in states.items():
            rep = replaced.get(code, {})
            sums = activity.by_code.get(code, no_oere)
            if rep:
                act_oere = {
                    mo: rep[mo].oere if mo in rep else sums[at[mo]] for mo in act_months[code]
                }
            else:
                act_oere = {mo: sums[at[mo]] for mo in act_months[code]}
            # the parameter values used, lowest priority first (the first lookup of each wins)
            uses: list[Mapping[tuple[str, dt.date], Use]] = []
            used = activity.used_groups.get((code, year))
            if used:
                uses.append(self._activity_param_uses(code, used, year))
            if rep:
                uses.append(covid.uses)
            prep = prepared[code]
            prep.sums.activity = act_oere
            figures = partial(  # the months, built when asked for
                _build_months,
                code_states,
                values[code],
                supp[code].months,
                lump[code].months,
                topp[code],
                earm[code],
                act_oere,
                set(rep),
            )
            rows.append(self._assemble(code, year, code_states, prep, figures, uses, ut[code], rep))
        if isinstance(po, Exception):
            raise po
        rows.extend(self._phase_out_row(p) for p in po.paid)
        by_code = {r.result.kommunenummer: r for r in rows}
        for e in po.ended:  # shown in the trace of the payee's row of that year
            row = by_code.get(e.mottaker)
            if row is not None:
                row.notes.append(_ended_node(e))
        rows.sort(key=lambda r: r.result.kommunenummer)
        return YearResult(year, rows, self.params.version, self.data.source, po.ended, activity)

    def _assemble(
        self,
        code: str,
        year: int,
        states: dict[int, MonthState],
        prep: _Prepared,
        months: Callable[[], list[MonthFigures]],
        uses: list[Mapping[tuple[str, dt.date], Use]],
        ut: Exact,
        replaced: dict[int, Replacement],
    ) -> MunicipalityYear:
        """The annual row: each component's exact sum over the months, rounded once; the
        estimated parameters it rests on (the parameter lookups of its rules: `uses`, the
        activity grant's and the Covid months', then the prepared rules')."""
        sums = prep.sums
        estimates = prep.estimates
        if uses:
            estimates = set(estimates)
            for u in uses:
                estimates |= self._estimates(u)
        uses = uses + prep.uses
        rounded = prep.rounded
        akt = round_ratio(sum(sums.activity.values()), 100)
        tilskudd = (
            akt
            + rounded["rundsumtilskudd"]
            + rounded["oeremerket_tilskudd"]
            + rounded["inntektspaaslag"]
        )
        result = AnnualResult(
            kommunenummer=code,
            navn=self.registry.get(code).navn,
            aar=year,
            modell=states[max(states)].model,
            maaneder=len(states),
            uttrekk=rounded["uttrekk"],
            toppfinansiering=rounded["toppfinansiering"],
            aktivitetstilskudd=akt,
            rundsumtilskudd=rounded["rundsumtilskudd"],
            oeremerket_tilskudd=rounded["oeremerket_tilskudd"],
            inntektspaaslag=rounded["inntektspaaslag"],
            tilskudd=tilskudd,
            netto=tilskudd - rounded["uttrekk"] - rounded["toppfinansiering"],
            estimerte_parametere=tuple(sorted(estimates)),
        )
        check = None
        check_log = UsageLog()
        if (code, year) in self._project:
            check = check_project_costs(
                code,
                year,
                self._project[(code, year)],
                self.params,
                [mo for mo, st in states.items() if st.model == "A"],
                sums.supplement.total,
                check_log,
            )

        # the builders are partial applications, not closures: a national year keeps one per
        # row and figure, and a closure costs a cell per name it holds (work for the collector)
        row = MunicipalityYear(
            result, _no_trace, months, sums.exact, partial(_merged_log, check_log, uses), check
        )
        row.build_trace = partial(
            _row_trace, self, row, ut, replaced, self._topp.get((code, year), 0), check
        )
        return row

    @staticmethod
    def _estimates(uses: Mapping[tuple[str, dt.date], Use]) -> frozenset[str]:
        """The paths among `uses` whose value is an estimate (known at once for the lazily
        merged activity lookups)."""
        if isinstance(uses, _LazyUses):
            return uses.estimates
        return frozenset(u.path for u in uses.values() if u.value.evidence == "estimate")

    def _phase_out_row(self, p: PhaseOut) -> MunicipalityYear:
        kr = round_half_away(p.amount)
        result = AnnualResult(
            kommunenummer=p.kommunenummer,
            navn=self.registry.get(p.kommunenummer).navn,
            aar=p.aar,
            modell="utfasing",
            maaneder=0,
            uttrekk=0,
            toppfinansiering=0,
            aktivitetstilskudd=0,
            rundsumtilskudd=0,
            oeremerket_tilskudd=0,
            inntektspaaslag=kr,
            tilskudd=kr,
            netto=kr,
            estimerte_parametere=p.log.estimate_paths(),
        )
        node = p.node
        log = p.log
        exact = {"inntektspaaslag": p.amount}
        return MunicipalityYear(result, lambda: node, list, lambda: exact, lambda: log)

    def _activity_param_uses(
        self, code: str, used: Mapping[tuple[str, str], tuple[int, ...]], year: int
    ) -> _LazyUses:
        """The parameters behind a municipality's activity lines: unit prices and units of the
        groups it used, in the months they have lines; k_aga of its zone; k_reise of home-based
        services if it has a travel index. Looked up once per part and month (cached for every
        municipality); which of them are estimates is known at once, the merged lookups only
        when a log is asked for."""
        k = self.registry.get(code)
        travel = k.reiseindeks.numerator != 0
        found = self._year_estimates(k.aga_sone, travel, frozenset(used), year)
        if found is None:  # some part's estimated paths differ between the months of the year
            estimates: set[str] = set()
            for part in _activity_parts(k.aga_sone, travel, used, year):
                estimates |= self._part_estimates(part)
            found = frozenset(estimates)
        return _LazyUses(
            partial(Engine._activity_uses, self, k.aga_sone, travel, used, year), found
        )

    def _activity_uses(
        self, zone: str, travel: bool, used: Mapping[tuple[str, str], tuple[int, ...]], year: int
    ) -> dict[tuple[str, dt.date], Use]:
        """The merged lookups of all parts of a municipality's activity lines."""
        uses: dict[tuple[str, dt.date], Use] = {}
        for part in reversed(_activity_parts(zone, travel, used, year)):  # the first lookup wins
            uses.update(self._activity_part_uses(part))
        return uses

    def _year_estimates(
        self, zone: str, travel: bool, groups: frozenset[tuple[str, str]], year: int
    ) -> frozenset[str] | None:
        """The estimated paths behind the activity lines of a zone, travel flag and set of
        (service, price group)s in any months of `year`, when every part's estimated paths are
        the same in all twelve months (so that which months have lines does not matter); None
        otherwise. Cached per zone, flag and set of groups."""
        key = (zone, travel, groups, year)
        if key in self._year_estimate_sets:
            return self._year_estimate_sets[key]
        parts: list[tuple[object, ...]] = [("aga", zone, year)]
        for s, g in groups:
            parts += [("price", s, g, year), ("reise", s, travel, year)]
        paths: set[str] | None = set()
        for part in parts:
            same = self._same_every_month(part)
            if same is None:
                paths = None
                break
            assert paths is not None
            paths |= same
        found = self._year_estimate_sets[key] = None if paths is None else frozenset(paths)
        return found

    def _same_every_month(self, part: tuple[object, ...]) -> frozenset[str] | None:
        """The estimated paths among one part's lookups (a part key without its months), if
        they are the same in every month of its year; None if not, or if a month has no value
        (a price series that starts mid-year)."""
        key = ("every month", *part)
        if key in self._year_estimate_sets:
            return self._year_estimate_sets[key]
        sets: set[frozenset[str]] = set()
        year = part[-1]
        assert isinstance(year, int)
        try:
            january = self._activity_month_uses((*part, 1)).values()
            sets.add(frozenset(u.path for u in january if u.value.evidence == "estimate"))
            # the same values in force all year: every month makes the same lookups
            paths = {u.path for u in january}
            if part[0] == "reise":  # looked up only when the service is home-based
                paths |= {
                    f"aktivitetstilskudd.hjemmebasert.{part[1]}",
                    "aktivitetstilskudd.reise.faktor",
                }
            if not all(self._one_value_all_year(path, year) for path in paths):
                for mo in range(2, 13):
                    uses = self._activity_month_uses((*part, mo)).values()
                    sets.add(frozenset(u.path for u in uses if u.value.evidence == "estimate"))
        except LookupError:
            sets = set()
        found = self._year_estimate_sets[key] = sets.pop() if len(sets) == 1 else None
        return found

    def _one_value_all_year(self, path: str, year: int) -> bool:
        """Whether `path` has the same value (or none) in force on the first of every month."""
        try:
            param = self.params.get(path)
        except LookupError:
            return True
        first = param.at(dt.date(year, 1, 1))
        return all(param.at(dt.date(year, mo, 1)) is first for mo in range(2, 13))

    def _part_estimates(self, key: tuple[object, ...]) -> frozenset[str]:
        """The estimated paths among one part's lookups over its months (cached per part)."""
        found = self._estimate_parts.get(key)
        if found is None:
            part_months = key[-1]
            assert isinstance(part_months, tuple)
            paths: set[str] = set()
            for mo in part_months:
                month = self._estimate_parts.get((*key[:-1], mo, "month"))
                if month is None:
                    uses = self._activity_month_uses((*key[:-1], mo)).values()
                    month = frozenset(u.path for u in uses if u.value.evidence == "estimate")
                    self._estimate_parts[(*key[:-1], mo, "month")] = month
                paths |= month
            found = self._estimate_parts[key] = frozenset(paths)
        return found

    def _activity_part_uses(self, key: tuple[object, ...]) -> dict[tuple[str, dt.date], Use]:
        """The lookups of one part (a group's price and unit, a zone's k_aga, a service's
        k_reise) over some months of a year: merged from one cached entry per month, so that
        the many month sets of the groups cost no new lookups."""
        uses = self._activity_parts.get(key)
        if uses is None:
            year, months = key[-2], key[-1]
            assert isinstance(year, int) and isinstance(months, tuple)
            uses = {}
            for mo in reversed(months):  # the first month's lookup of a value wins
                uses.update(self._activity_month_uses((*key[:-1], mo)))
            self._activity_parts[key] = uses
        return uses

    def _activity_month_uses(self, key: tuple[object, ...]) -> dict[tuple[str, dt.date], Use]:
        from sio.rules.aktivitetstilskudd import k_aga, k_reise, unit_price
        from sio.rules.participation import first_day

        uses = self._activity_parts.get(key)
        if uses is None:
            tmp = UsageLog()
            year, mo = key[-2], key[-1]
            assert isinstance(year, int) and isinstance(mo, int)
            m = (year, mo)
            if key[0] == "price":
                s, g = str(key[1]), str(key[2])
                unit_price(self.params, s, g, m, tmp)
                self.params.at(f"aktivitetstilskudd.enhet.{s}", first_day(m), tmp)
            elif key[0] == "aga":
                k_aga(self.params, str(key[1]), m, tmp)
            else:
                k_reise(self.params, Fraction(int(bool(key[2]))), str(key[1]), m, tmp)
            uses = self._activity_parts[key] = tmp.uses
        return uses


class _LazyUses(LazyMapping[tuple[str, dt.date], Use]):
    """Parameter lookups merged on first use; the estimated paths among them known at once."""

    def __init__(
        self, build: Callable[[], dict[tuple[str, dt.date], Use]], estimates: frozenset[str]
    ) -> None:
        super().__init__(build)
        self.estimates = estimates


@dataclass
class _YearSums:
    """What a municipality's annual components are summed from: its uttrekk and months, the
    year's toppfinansiering, its rules' monthly amounts and (once known) its activity øre per
    activity-financed month."""

    uttrekk: Fraction
    months: int
    topp: int
    activity_months: int
    lump: list[tuple[Fraction, int]]
    earmarked_months: int
    supplement: Supplement
    activity: dict[int, int] = field(default_factory=dict)

    def rounded(self) -> dict[str, int]:
        """Each exact annual sum but the activity grant's rounded once to whole kroner, in
        integers (the sums as numerator and denominator, not normalised)."""
        n, d = self.uttrekk.numerator, self.uttrekk.denominator
        return {
            "uttrekk": round_ratio(n * self.months, 12 * d),
            "toppfinansiering": round_ratio(self.topp * self.activity_months, 12),
            "rundsumtilskudd": _round_parts(self.lump),
            "oeremerket_tilskudd": round_ratio(n * self.earmarked_months, 12 * d),
            "inntektspaaslag": _round_parts(self.supplement.parts, self.supplement.months),
        }

    def exact(self) -> dict[str, Fraction]:
        twelfth = self.uttrekk / 12
        return {
            "uttrekk": twelfth * self.months,
            "toppfinansiering": Fraction(self.topp * self.activity_months, 12),
            "aktivitetstilskudd": Fraction(sum(self.activity.values()), 100),
            "rundsumtilskudd": _sum_parts(self.lump, {}),
            "oeremerket_tilskudd": twelfth * self.earmarked_months,
            "inntektspaaslag": _sum_parts(self.supplement.parts, self.supplement.months),
        }


class _Prepared:
    """A row's sums, rounded figures and lookups that do not depend on the activity grant
    (computed while the activity kernel runs)."""

    __slots__ = ("estimates", "rounded", "sums", "uses")

    def __init__(self, sums: _YearSums, uses: list[Mapping[tuple[str, dt.date], Use]]) -> None:
        self.sums = sums
        self.uses = uses
        self.rounded = sums.rounded()
        estimates: set[str] = set()
        for u in uses:
            estimates |= Engine._estimates(u)
        self.estimates = estimates


def _sum_parts(parts: list[tuple[Fraction, int]], months: Mapping[int, Fraction]) -> Fraction:
    """The exact sum of monthly amounts given as (amount, number of months); `months` if none."""
    if not parts:
        return _sum_exact(months.values())
    return sum((a * n for a, n in parts), Fraction(0))


def _round_parts(
    parts: list[tuple[Fraction, int]], months: Mapping[int, Fraction] | None = None
) -> int:
    """`_sum_parts` rounded half away from zero (one amount: in integers)."""
    if len(parts) == 1:
        ((a, n),) = parts
        return round_ratio(a.numerator * n, a.denominator)
    return round_half_away(_sum_parts(parts, months or {}))


def _uttrekk_uses(ut: Exact) -> _LazyUses:
    """The lookups behind an uttrekk, merged on first use; its estimates known at once."""
    return _LazyUses(partial(_exact_uses, ut), ut.estimates)


def _exact_uses(ut: Exact) -> dict[tuple[str, dt.date], Use]:
    return ut.log.uses


def _activity_parts(
    zone: str, travel: bool, used: Mapping[tuple[str, str], tuple[int, ...]], year: int
) -> list[tuple[object, ...]]:
    """The parts of a municipality's activity lookups: k_aga of its zone in all months with
    lines; per (service, price group) its price and unit, and k_reise, in its months."""
    all_months = tuple(sorted({mo for ms in used.values() for mo in ms}))
    parts: list[tuple[object, ...]] = [("aga", zone, year, all_months)]
    for (s, g), ms in sorted(used.items()):
        parts.append(("price", s, g, year, ms))
        parts.append(("reise", s, travel, year, ms))
    return parts


def _build_months(
    states: dict[int, MonthState],
    uttrekk: Fraction,
    supplement: dict[int, Fraction],
    lump: dict[int, Fraction],
    topp: dict[int, Fraction],
    earmarked: dict[int, Fraction],
    activity: dict[int, int],
    replaced: set[int],
) -> list[MonthFigures]:
    """A municipality-year's months from its rules' monthly amounts."""
    twelfth = uttrekk / 12
    out: list[MonthFigures] = []
    for mo, s in states.items():
        mf = MonthFigures(mo, s.model, s.activity, uttrekk=twelfth)
        mf.inntektspaaslag = supplement[mo]
        if s.activity:
            mf.rundsumtilskudd = lump[mo]
            mf.toppfinansiering = topp[mo]
            mf.aktivitetstilskudd_oere = activity[mo]
            mf.covid_erstattet = mo in replaced
        else:
            mf.oeremerket_tilskudd = earmarked[mo]
        out.append(mf)
    return out


def _no_trace() -> Node:
    raise AssertionError("the row's trace builder is set once the row exists")


def _merged_log(check_log: UsageLog, uses: list[Mapping[tuple[str, dt.date], Use]]) -> UsageLog:
    """A row's parameter lookups: the project-cost check's, then its rules' (the first of each
    value wins)."""
    merged = dict(check_log.uses)
    for u in uses:
        merged.update(u)
    return UsageLog(merged)


def _row_trace(
    engine: Engine,
    row: MunicipalityYear,
    ut: Exact,
    replaced: dict[int, Replacement],
    topp_year: int,
    check: ProjectCostCheck | None,
) -> Node:
    """The trace of a row (built on first use)."""
    from sio.explain import year_trace

    covid_nodes = [replaced[mo].node for mo in sorted(replaced)]
    return year_trace(
        engine, row.result, row.months, row.exact, ut.node, covid_nodes, row.log, topp_year, check
    )


def _ended_node(e: EndedPhaseOut) -> Node:
    """The trace note of a phase-out that ended: what it would have been, and why it is not paid."""
    note = Node(
        _("phase-out of {code} not paid in {year}").format(code=e.kommunenummer, year=e.aar),
        0,
        "kr",
        _(
            "{code} exited {exit}; {payee} participates again by {year}, so the phase-out "
            "ends: {amount} kr not paid"
        ).format(
            code=e.kommunenummer,
            exit=f"{e.exit[0]}-{e.exit[1]:02d}",
            payee=e.mottaker,
            year=e.aar,
            amount=fmt_exact(round_half_away(e.amount)),
        ),
        children=[e.node],
    )
    return note


def _sum_exact(values: Iterable[Fraction]) -> Fraction:
    """The exact sum; equal monthly amounts (usually the same object) are multiplied, not added."""
    values = list(values)
    if not values:
        return Fraction(0)
    first = values[0]
    if all(v is first for v in values):
        return first * len(values) if len(values) > 1 else first
    counts: dict[int, list[Any]] = {}
    for v in values:
        entry = counts.get(id(v))
        if entry is None:
            counts[id(v)] = [v, 1]
        else:
            entry[1] += 1
    total = Fraction(0)
    for v, n in counts.values():
        total += v * n
    return total


def compute(data: InputData, params: ParameterSet, year: int) -> YearResult:
    """Compute one year (the function the CLI and the tests call)."""
    return Engine(data, params).compute_year(year)


__all__ = [
    "COMPONENTS",
    "DataGap",
    "Engine",
    "MonthFigures",
    "MunicipalityYear",
    "YearResult",
    "compute",
]
