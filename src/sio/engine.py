"""The engine: runs the rules for a year over every municipality and assembles the annual figures.

Per municipality `k` and year `y` (scheme.md §3, interfaces.md §2), month by month:
- participating month: extraction uttrekk(k, y)/12 and supplement min(sats × uttrekk, tak)/12;
- activity-financed month (model A from `aktivitet_fra`): activity grant (or its Covid
  replacement), lump sum andel × uttrekk/12 and toppfinansiering/12;
- other participating month (model B, or model A before `aktivitet_fra`): øremerket uttrekk/12;
- phase-out years after an exit: the phase-out share of the last full-year supplement.
Every amount stays exact until the annual figure, which is rounded once to whole kroner.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from sio.data.model import InputData
from sio.data.registry import Registry
from sio.i18n import _
from sio.money import round_half_away
from sio.parameters import ParameterSet, UsageLog, Use
from sio.results import AnnualResult
from sio.rules.aktivitetstilskudd import ActivityGrant, compute_activity, count_lines
from sio.rules.participation import Month, MonthState, Participation, first_day
from sio.rules.prosjektmidler import ProjectCostCheck, check_project_costs
from sio.rules.uttrekk import DataGap, UttrekkCalculator, jan1
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
    months: list[MonthFigures] = field(default_factory=list)
    exact: dict[str, Fraction] = field(default_factory=dict)
    log: UsageLog = field(default_factory=UsageLog)
    project_costs: ProjectCostCheck | None = None
    _trace: Node | None = field(default=None, repr=False)

    @property
    def trace(self) -> Node:
        """The trace of this row, built on first use (a national run rarely needs them all)."""
        if self._trace is None:
            self._trace = self.build_trace()
        return self._trace


@dataclass
class _Prepared:
    """A municipality-year before the activity grant is known."""

    code: str
    year: int
    states: dict[int, MonthState]
    node: Node
    log: UsageLog
    months: list[MonthFigures]
    topp_year: int


@dataclass
class YearResult:
    """All municipalities with money in one year."""

    year: int
    rows: list[MunicipalityYear]
    params_version: str
    data_source: str

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


class Engine:
    """Computes annual figures from validated input and a parameter set."""

    def __init__(self, data: InputData, params: ParameterSet) -> None:
        self.data = data
        self.params = params
        self.registry = Registry(data.kommuner)
        self.participation = Participation(data.deltakelse)
        self.uttrekk = UttrekkCalculator(
            params, self.registry, self.participation, data.utgifter, data.befolkning
        )
        self._uses_cache: dict[tuple[object, ...], list[Use]] = {}
        self._uses_dicts: dict[tuple[object, ...], dict[tuple[str, dt.date], Use]] = {}
        self._project: dict[tuple[str, int], int] = {}
        if data.prosjektkostnader is not None:
            self._project = {
                (k, y): v
                for k, y, v in data.prosjektkostnader.select(
                    "kommunenummer", "aar", "beloep"
                ).iter_rows()
            }
        self._topp: dict[tuple[str, int], int] = {
            (k, y): v
            for k, y, v in data.toppfinansiering.select(
                "kommunenummer", "aar", "beloep"
            ).iter_rows()
        }

    # -- months and Covid -------------------------------------------------------------------------
    def _covid_months(
        self, year: int, log: UsageLog | None = None
    ) -> tuple[list[Month], list[Month]]:
        """The replaced months within `year` and the reference window (any year)."""
        replaced = self._month_series("saerordning.covid.maaned", year, log)
        refs = self._month_series("saerordning.covid.referanse", year, log)
        return [m for m in replaced if m[0] == year], refs

    def _month_series(self, prefix: str, year: int, log: UsageLog | None) -> list[Month]:
        out: list[Month] = []
        n = 1
        while self.params.has(f"{prefix}_{n}"):
            p = self.params.get(f"{prefix}_{n}")
            if p.at(jan1(year)) is None:
                break
            text = self.params.text(f"{prefix}_{n}", jan1(year), log)
            out.append((int(text[:4]), int(text[5:7])))
            n += 1
        return out

    def _continuing_predecessors(self, code: str) -> list[str]:
        k = self.registry.get(code)
        y0 = k.gyldig_fra.year
        if self.participation.first_fra(code) != k.gyldig_fra:
            return []
        return [
            p
            for p in self.registry.predecessors(code)
            if self.participation.state(p, (y0 - 1, 12)) is not None
        ]

    def _financed_codes_in(self, code: str, m: Month) -> list[str]:
        """Which codes' activity counts as `code`'s in month m (predecessors before a merger)."""
        k = self.registry.get(code)
        if first_day(m) >= k.gyldig_fra:
            return [code]
        out: list[str] = []
        for p in self._continuing_predecessors(code):
            out.extend(self._financed_codes_in(p, m))
        return out

    # -- the year ---------------------------------------------------------------------------------
    def compute_year(self, year: int) -> YearResult:
        codes = [
            c for c in self.participation.codes() if self.participation.months_in_year(c, year)
        ]
        replaced, refs = self._covid_months(year)
        months: set[Month] = {(year, mo) for mo in range(1, 13)}
        financed: set[tuple[str, Month]] = set()
        for c in codes:
            for mo in self.participation.activity_months(c, year):
                financed.add((c, (year, mo)))
        covid_codes = [
            c
            for c in codes
            if any(
                (s := self.participation.state(c, m)) is not None and s.activity and s.covid
                for m in replaced
            )
        ]
        if covid_codes:
            for r in refs:
                months.add(r)
                for c in covid_codes:
                    for src in self._financed_codes_in(c, r):
                        st = self.participation.state(src, r)
                        if st is not None and st.activity:
                            financed.add((src, r))
        activity = compute_activity(
            self.data.vedtak,
            self.params,
            self.registry,
            sorted(months),
            financed,
            self.data.vedtak_groups,
        )
        preps = [self._prepare(c, year) for c in codes]
        rows = [self._finish(p, activity, replaced, refs) for p in preps]
        rows.extend(self._phase_outs(year, {r.result.kommunenummer for r in rows}))
        rows.sort(key=lambda r: r.result.kommunenummer)
        return YearResult(year, rows, self.params.version, self.data.source)

    def _prepare(self, code: str, year: int) -> _Prepared:
        """Everything of a municipality-year that does not need the activity grant."""
        states = self.participation.months_in_year(code, year)
        ut = self.uttrekk.uttrekk(code, year)
        log = UsageLog()
        log.merge(ut.log)
        u = ut.value
        topp_year = self._topp.get((code, year), 0)
        months: list[MonthFigures] = []
        twelfth = u / 12
        topp_month = Fraction(topp_year, 12)
        memo: dict[tuple[str, object], Fraction] = {}  # equal parameter values, equal amounts
        for mo, st in states.items():
            on = dt.date(year, mo, 1)
            mf = MonthFigures(mo, st.model, st.activity)
            mf.uttrekk = twelfth
            mf.inntektspaaslag = self._supplement_month(u, on, log, memo)
            if st.activity:
                andel = self.params.at("rundsumtilskudd.andel", on, log)
                key = ("andel", id(andel))
                if key not in memo:
                    assert isinstance(andel.value, Fraction)
                    memo[key] = andel.value * twelfth
                mf.rundsumtilskudd = memo[key]
                mf.toppfinansiering = topp_month
            else:
                mf.oeremerket_tilskudd = twelfth
            months.append(mf)
        return _Prepared(code, year, states, ut.node, log, months, topp_year)

    def _finish(
        self, prep: _Prepared, activity: ActivityGrant, replaced: list[Month], refs: list[Month]
    ) -> MunicipalityYear:
        code, year, states, log, months = prep.code, prep.year, prep.states, prep.log, prep.months
        topp_year = prep.topp_year
        covid_nodes: list[Node] = []
        for mf in months:
            if not mf.aktivitet:
                continue
            mo = mf.maaned
            mf.aktivitetstilskudd_oere = activity.get(code, (year, mo))
            if (year, mo) in replaced and states[mo].covid:
                node = self._covid_replacement(code, (year, mo), refs, activity, log)
                if node is not None:
                    mf.aktivitetstilskudd_oere = int(node.value or 0)
                    mf.covid_erstattet = True
                    covid_nodes.append(node)
        act_months = tuple(self.participation.activity_months(code, year))
        used = frozenset(activity.used_groups.get((code, year), set()))
        if used:
            # two cache levels: per municipality profile (this one) and per price group, zone
            # and travel flag inside `_log_activity_params` — profiles differ, groups repeat
            k = self.registry.get(code)
            ukey = ("all", used, k.aga_sone, k.reiseindeks != 0, year, act_months)
            udict = self._uses_dicts.get(ukey)
            if udict is None:
                tmp = UsageLog()
                for s, g in sorted(used):
                    self._log_activity_params(code, s, g, year, tmp, act_months)
                udict = tmp.uses
                self._uses_dicts[ukey] = udict
            log.add_all(udict)
        exact = {
            "uttrekk": _sum_exact(m.uttrekk for m in months),
            "toppfinansiering": _sum_exact(m.toppfinansiering for m in months),
            "aktivitetstilskudd": Fraction(sum(m.aktivitetstilskudd_oere for m in months), 100),
            "rundsumtilskudd": _sum_exact(m.rundsumtilskudd for m in months),
            "oeremerket_tilskudd": _sum_exact(m.oeremerket_tilskudd for m in months),
            "inntektspaaslag": _sum_exact(m.inntektspaaslag for m in months),
        }
        rounded = {k: round_half_away(v) for k, v in exact.items()}
        tilskudd = (
            rounded["aktivitetstilskudd"]
            + rounded["rundsumtilskudd"]
            + rounded["oeremerket_tilskudd"]
            + rounded["inntektspaaslag"]
        )
        netto = tilskudd - rounded["uttrekk"] - rounded["toppfinansiering"]
        last = max(states)
        k = self.registry.get(code)
        result = AnnualResult(
            kommunenummer=code,
            navn=k.navn,
            aar=year,
            modell=states[last].model,
            maaneder=len(states),
            uttrekk=rounded["uttrekk"],
            toppfinansiering=rounded["toppfinansiering"],
            aktivitetstilskudd=rounded["aktivitetstilskudd"],
            rundsumtilskudd=rounded["rundsumtilskudd"],
            oeremerket_tilskudd=rounded["oeremerket_tilskudd"],
            inntektspaaslag=rounded["inntektspaaslag"],
            tilskudd=tilskudd,
            netto=netto,
            estimerte_parametere=log.estimate_paths(),
        )
        check = None
        if (code, year) in self._project:
            check = check_project_costs(
                code,
                year,
                self._project[(code, year)],
                self.params,
                [m.maaned for m in months if m.modell == "A"],
                exact["inntektspaaslag"],
                log,
            )

        def build() -> Node:
            counts = count_lines(self.data.vedtak, self.params, code, year)
            for mf in months:
                mf.aktivitet_linjer = counts[mf.maaned - 1] if mf.aktivitet else 0
            trace = self._trace(result, months, exact, prep.node, covid_nodes, log, topp_year)
            if check is not None:
                verdict = _("within the limit") if check.innenfor else _("OVER the limit")
                trace.add(
                    Node(
                        _("project costs"),
                        check.beloep,
                        "kr",
                        _("{amount} kr against the limit {limit} kr: {verdict}").format(
                            amount=fmt_exact(check.beloep),
                            limit=fmt_exact(check.grense),
                            verdict=verdict,
                        ),
                        params=[
                            u for u in log.uses.values() if u.path.endswith("prosjektmidler_maks")
                        ],
                    )
                )
            return trace

        return MunicipalityYear(result, build, months, exact, log, check)

    def _log_activity_params(
        self, code: str, s: str, g: str, year: int, log: UsageLog, months: tuple[int, ...]
    ) -> None:
        """Record the parameters behind municipality `code`'s lines of (s, g) in `year`.

        The lookups depend only on the service and group, the zone, whether there is a travel
        index, and the months; they are cached so that municipalities share them.
        """
        from sio.rules.aktivitetstilskudd import k_aga, k_reise, unit_price

        k = self.registry.get(code)
        keys: list[tuple[object, ...]] = [
            ("price", s, g, year, months),
            ("aga", k.aga_sone, year, months),
            ("reise", s, k.reiseindeks != 0, year, months),
        ]
        for key in keys:
            uses = self._uses_cache.get(key)
            if uses is None:
                tmp = UsageLog()
                for mo in months:
                    m = (year, mo)
                    if key[0] == "price":
                        unit_price(self.params, s, g, m, tmp)
                        self.params.at(f"aktivitetstilskudd.enhet.{s}", first_day(m), tmp)
                    elif key[0] == "aga":
                        k_aga(self.params, k.aga_sone, m, tmp)
                    else:
                        k_reise(self.params, Fraction(int(bool(key[2]))), s, m, tmp)
                uses = list(tmp.uses.values())
                self._uses_cache[key] = uses
            for u in uses:
                log.add(u)

    def _covid_replacement(
        self, code: str, m: Month, refs: list[Month], activity: ActivityGrant, log: UsageLog
    ) -> Node | None:
        """The Covid replacement of month m: the rounded mean of the reference months, if every
        reference month was activity-financed (counting continuing predecessors)."""
        values: list[int] = []
        parts: list[str] = []
        for r in refs:
            srcs = [
                c
                for c in self._financed_codes_in(code, r)
                if (st := self.participation.state(c, r)) is not None and st.activity
            ]
            if not srcs:
                return None
            v = sum(activity.get(c, r) for c in srcs)
            values.append(v)
            parts.append(
                f"{r[0]}-{r[1]:02d}: {fmt_exact(v)} øre"
                + (f" ({', '.join(srcs)})" if srcs != [code] else "")
            )
        self._covid_months(m[0], log)
        mean = round_half_away(Fraction(sum(values), len(values)))
        return Node(
            _("Covid replacement {year}-{month:02d}").format(year=m[0], month=m[1]),
            mean,
            "øre",
            "(" + " + ".join(parts) + f") / {len(values)} = {fmt_exact(mean)} øre",
        )

    def _supplement_month(
        self,
        u: Fraction,
        on: dt.date,
        log: UsageLog,
        memo: dict[tuple[str, object], Fraction] | None = None,
    ) -> Fraction:
        """min(sats × uttrekk, tak) / 12; the cap counts as used only where it binds."""
        sats = self.params.at("inntektspaaslag.sats", on, log)
        tak = self.params.at("inntektspaaslag.tak", on)
        key = ("supplement", (id(sats), id(tak)))
        if memo is not None and key in memo:
            if memo[("binds", (id(sats), id(tak)))]:
                log.add(Use("inntektspaaslag.tak", on, tak))
            return memo[key]
        assert isinstance(sats.value, Fraction) and isinstance(tak.value, Fraction)
        binds = sats.value * u >= tak.value
        if binds:
            log.add(Use("inntektspaaslag.tak", on, tak))
        amount = (tak.value if binds else sats.value * u) / 12
        if memo is not None:
            memo[key] = amount
            memo[("binds", (id(sats), id(tak)))] = Fraction(int(binds))
        return amount

    # -- phase-out --------------------------------------------------------------------------------
    def _exit_month(self, code: str) -> Month | None:
        last = self.participation.last_month(code)
        if last is None:
            return None
        succ = self.registry.successor(code)
        if succ is not None and succ in self.registry:
            s = self.registry.get(succ)
            continued = (
                self.participation.first_fra(succ) == s.gyldig_fra
                and last == (s.gyldig_fra.year - 1, 12)
                and s.gyldig_fra.month == 1
                and s.gyldig_fra.day == 1
            )
            if continued:
                return None
        return last

    def _phase_outs(self, year: int, participating: set[str]) -> list[MunicipalityYear]:
        out: dict[str, MunicipalityYear] = {}
        for code in self.participation.codes():
            ex = self._exit_month(code)
            if ex is None or not (1 <= year - ex[0] <= 3):
                continue
            n = year - ex[0]
            log = UsageLog()
            share = self.params.number(f"inntektspaaslag.nedtrapping.aar_{n}", jan1(year), log)
            base, base_node = self._phase_out_base(code, ex[0], log)
            amount = share * base
            target = self.registry.code_on(code, jan1(year))
            k = self.registry.get(target)
            node = Node(
                _("phase-out {code} {year} (year {n} after exit {exit})").format(
                    code=target, year=year, n=n, exit=f"{ex[0]}-{ex[1]:02d}"
                ),
                amount,
                "kr",
                f"{float(share):g} × {fmt_exact(base)} = {fmt_exact(amount)}",
                params=[u for u in log.uses.values() if u.path.startswith("inntektspaaslag.ned")],
                children=[base_node],
            )
            kr = round_half_away(amount)
            if target in out:  # two phase-outs landing on one code: add them up
                prev = out[target]
                kr += prev.result.inntektspaaslag
                log.merge(prev.log)
                node.children.append(prev.trace)
            result = AnnualResult(
                kommunenummer=target,
                navn=k.navn,
                aar=year,
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
                estimerte_parametere=log.estimate_paths(),
            )
            out[target] = MunicipalityYear(
                result, _constant(node), [], {"inntektspaaslag": amount}, log
            )
        return [v for c, v in out.items() if c not in participating]

    def _phase_out_base(self, code: str, exit_year: int, log: UsageLog) -> tuple[Fraction, Node]:
        """The exact supplement of the last full 12-month year (else the last year's, ×12/n)."""
        chosen: int | None = None
        for y in range(exit_year, exit_year - 200, -1):
            n = len(self.participation.months_in_year(code, y))
            if n == 0:
                break
            if n == 12:
                chosen = y
                break
        y = chosen if chosen is not None else exit_year
        states = self.participation.months_in_year(code, y)
        ut = self.uttrekk.uttrekk(code, y)
        log.merge(ut.log)
        total = Fraction(0)
        for mo in states:
            on = dt.date(y, mo, 1)
            total += self._supplement_month(ut.value, on, log)
        scaled = total * 12 / len(states)
        formula = (
            _("supplement {year} (12 months)").format(year=y)
            if len(states) == 12
            else _("supplement {year} × 12 / {n}").format(year=y, n=len(states))
        )
        node = Node(
            _("phase-out base: supplement {year}").format(year=y),
            scaled,
            "kr",
            f"{formula} = {fmt_exact(scaled)}",
            children=[ut.node],
        )
        return scaled, node

    # -- trace ------------------------------------------------------------------------------------
    def _trace(
        self,
        result: AnnualResult,
        months: list[MonthFigures],
        exact: dict[str, Fraction],
        uttrekk_node: Node,
        covid_nodes: list[Node],
        log: UsageLog,
        topp_year: int,
    ) -> Node:
        code, year = result.kommunenummer, result.aar
        root = Node(
            _("{name} ({code}) {year}").format(name=result.navn, code=code, year=year),
            result.netto,
            "kr",
            _("netto = tilskudd − uttrekk − toppfinansiering = {a} − {b} − {c}").format(
                a=fmt_exact(result.tilskudd),
                b=fmt_exact(result.uttrekk),
                c=fmt_exact(result.toppfinansiering),
            ),
        )
        n = len(months)
        act_n = sum(1 for m in months if m.aktivitet)
        uses = list(log.uses.values())

        u = uttrekk_node.value if isinstance(uttrekk_node.value, Fraction) else Fraction(0)
        root.add(
            Node(
                "uttrekk",
                result.uttrekk,
                "kr",
                f"{fmt_exact(u)} × {n}/12 = {fmt_exact(exact['uttrekk'])}"
                f" → {fmt_exact(result.uttrekk)}",
                children=[uttrekk_node],
            )
        )
        root.add(
            Node(
                "toppfinansiering",
                result.toppfinansiering,
                "kr",
                f"{fmt_exact(topp_year)} × {act_n}/12 = {fmt_exact(exact['toppfinansiering'])}"
                f" → {fmt_exact(result.toppfinansiering)}",
                inputs=[_("toppfinansiering: {v} kr for {y}").format(v=topp_year, y=year)],
            )
        )
        act = Node(
            "aktivitetstilskudd",
            result.aktivitetstilskudd,
            "kr",
            " + ".join(fmt_exact(m.aktivitetstilskudd_oere) for m in months if m.aktivitet)
            + f" øre = {fmt_exact(exact['aktivitetstilskudd'])} kr"
            f" → {fmt_exact(result.aktivitetstilskudd)}"
            if act_n
            else "0",
            params=[x for x in uses if x.path.startswith("aktivitetstilskudd")],
        )
        for m in months:
            if m.aktivitet:
                act.add(
                    Node(
                        _("month {m:02d}").format(m=m.maaned),
                        m.aktivitetstilskudd_oere,
                        "øre",
                        _("Covid replacement")
                        if m.covid_erstattet
                        else _("sum of {n} vedtak lines").format(n=m.aktivitet_linjer),
                    )
                )
        act.children.extend(covid_nodes)
        root.add(act)
        rs_n = sum(1 for m in months if m.aktivitet)
        root.add(
            Node(
                "rundsumtilskudd",
                result.rundsumtilskudd,
                "kr",
                _("andel × uttrekk / 12 over {n} activity-financed months").format(n=rs_n)
                + f" = {fmt_exact(exact['rundsumtilskudd'])} → {fmt_exact(result.rundsumtilskudd)}",
                params=[x for x in uses if x.path.startswith("rundsumtilskudd")],
            )
        )
        ob_n = sum(1 for m in months if not m.aktivitet)
        root.add(
            Node(
                "oeremerket_tilskudd",
                result.oeremerket_tilskudd,
                "kr",
                f"{fmt_exact(u)} × {ob_n}/12 = {fmt_exact(exact['oeremerket_tilskudd'])}"
                f" → {fmt_exact(result.oeremerket_tilskudd)}",
            )
        )
        root.add(
            Node(
                "inntektspaaslag",
                result.inntektspaaslag,
                "kr",
                _("Σ min(sats × uttrekk, tak) / 12 over {n} months").format(n=n)
                + f" = {fmt_exact(exact['inntektspaaslag'])} → {fmt_exact(result.inntektspaaslag)}",
                params=[x for x in uses if x.path.startswith("inntektspaaslag")],
            )
        )
        root.add(
            Node(
                "tilskudd",
                result.tilskudd,
                "kr",
                f"{fmt_exact(result.aktivitetstilskudd)} + {fmt_exact(result.rundsumtilskudd)} + "
                f"{fmt_exact(result.oeremerket_tilskudd)} + {fmt_exact(result.inntektspaaslag)}",
            )
        )
        return root


def _sum_exact(values: Iterable[Fraction]) -> Fraction:
    """The exact sum; equal monthly amounts (usually the same object) are multiplied, not added."""
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


def _constant(node: Node) -> Callable[[], Node]:
    def get() -> Node:
        return node

    return get


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
