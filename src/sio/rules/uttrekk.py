"""Base (grunnlag) and extraction (uttrekk), with the chained demographic index (scheme.md §3.1).

- grunnlag(k) = the municipality's net operating expenditure on the care functions flagged by
  `uttrekk.kostra_funksjoner.fNNN` in its base year (the year before its first participation).
- uttrekk(k, y) = uttrekk(k, y−1) × (1 + deflator(y)) × W(k, y) / W(k, y−1), from
  uttrekk(k, base year) = grunnlag; W(k, t) = Σ_age pop(k, age, t) × weight(age, y) — both
  populations of a ratio weighted with the weights of year y (TBU's method for demographic costs).
- A successor taking part from its first day starts from the sum of its predecessors
  (interfaces.md §2 "Extraction and base").

All values are exact (`Fraction` kroner); nothing here is rounded.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
from collections.abc import Callable
from fractions import Fraction
from functools import cached_property, partial

import polars as pl

from sio.data.registry import Registry
from sio.data.tables import AGE_GROUP_PARAM, AGE_GROUPS
from sio.i18n import _
from sio.parameters import ParameterSet, UsageLog, Use
from sio.rules.participation import Participation
from sio.trace import Node, fmt_exact


class DataGap(ValueError):
    """The input lacks something a rule needs (e.g. a base-year expenditure); names the table."""

    def __init__(self, table: str, message: str) -> None:
        self.table = table
        super().__init__(f"{table}: {message}")


class Exact:
    """An exact value with its trace and the parameter lookups behind it.

    The trace (`node`) and the lookups (`log`) may be given as functions that build them on first
    use: a national year needs every value but rarely a trace. `estimates` are the paths among
    the lookups whose value is an estimate (given when known without building the log)."""

    __slots__ = ("_estimates", "_log", "_node", "value")

    def __init__(
        self,
        value: Fraction,
        node: Node | Callable[[], Node],
        log: UsageLog | Callable[[], UsageLog] | None = None,
        estimates: frozenset[str] | None = None,
    ) -> None:
        self.value = value
        self._node = node
        self._log: UsageLog | Callable[[], UsageLog] = UsageLog() if log is None else log
        self._estimates = estimates

    @property
    def node(self) -> Node:
        if not isinstance(self._node, Node):
            self._node = self._node()
        return self._node

    @property
    def log(self) -> UsageLog:
        if not isinstance(self._log, UsageLog):
            self._log = self._log()
        return self._log

    @property
    def estimates(self) -> frozenset[str]:
        """The estimated parameters among the lookups (without building the log if known)."""
        if self._estimates is None:
            self._estimates = frozenset(self.log.estimate_paths())
        return self._estimates


def _no_node() -> Node:
    raise AssertionError("the trace builder is set once the value exists")


def _base_node(code: str, y: int, g: Exact) -> Node:
    """The trace of uttrekk in the base year: the grunnlag."""
    return Node(
        _("uttrekk {code} {year}").format(code=code, year=y),
        g.value,
        "kr",
        "= grunnlag",
        children=[g.node],
    )


def _log_of(ex: Exact) -> UsageLog:
    return ex.log


def jan1(year: int) -> dt.date:
    return dt.date(year, 1, 1)


_AGE_GROUP_SET = frozenset(AGE_GROUPS)


class UttrekkInputs:
    """The expenditure and population tables as lookups by (municipality, year), each read on
    first use. They depend on the input data alone, so the engine keeps one per data set for
    all its years (decision 0027)."""

    def __init__(self, utgifter: pl.DataFrame, befolkning: pl.DataFrame) -> None:
        self._utgifter = utgifter
        self._befolkning = befolkning

    @cached_property
    def utg(self) -> dict[tuple[str, int], list[tuple[str, int]]]:
        """The expenditure rows by (municipality, year) as (KOSTRA function, amount), sorted."""
        utg: dict[tuple[str, int], list[tuple[str, int]]] = {}
        cols = self._utgifter.select(
            "kommunenummer", "aar", "kostra_funksjon", "netto_driftsutgifter"
        )
        for k, y, f, v in zip(*(c.to_list() for c in cols.iter_columns()), strict=True):
            utg.setdefault((k, y), []).append((f, v))
        for rows in utg.values():
            rows.sort()
        return utg

    @cached_property
    def pop(self) -> dict[tuple[str, int], dict[str, int]]:
        """The population by (municipality, year) and age group."""
        pops: dict[tuple[str, int], dict[str, int]] = {}
        cols = self._befolkning.select("kommunenummer", "aar", "aldersgruppe", "antall")
        for k, y, g, n in zip(*(c.to_list() for c in cols.iter_columns()), strict=True):
            pop = pops.get((k, y))
            if pop is None:
                pop = pops[(k, y)] = {}
            pop[g] = n
        return pops


class UttrekkCalculator:
    """Computes grunnlag, W and uttrekk for any municipality and year, memoised.

    The values are computed at once, each step of the chain one exact division of integers
    (W over the weights' common denominator, which cancels in the ratio); the trace of a value
    and the lookups behind it are built on first use, from what is shared by every municipality
    of a year (the deflator and weights of the year, the base functions flagged in a base year).
    """

    def __init__(
        self,
        params: ParameterSet,
        registry: Registry,
        participation: Participation,
        utgifter: pl.DataFrame,
        befolkning: pl.DataFrame,
        inputs: UttrekkInputs | None = None,
    ) -> None:
        self.params = params
        self.registry = registry
        self.participation = participation
        # the tables read from `utgifter` and `befolkning` (given: shared with other
        # calculators of the same data)
        self._inputs = UttrekkInputs(utgifter, befolkning) if inputs is None else inputs
        self._memo: dict[tuple[str, int], Exact] = {}
        self._starts: dict[str, tuple[str, int]] = {}
        # the base functions flagged on 1 January of a base year: whether on, the lookups behind
        # the flag and the estimated paths among them
        self._flags: dict[int, dict[str, tuple[bool, list[Use], frozenset[str]]]] = {}
        self._flag_estimates: dict[tuple[int, tuple[str, ...]], frozenset[str]] = {}
        self._weights: dict[int, list[Fraction]] = {}
        self._weight_uses: dict[int, dict[tuple[str, dt.date], Use]] = {}
        self._weight_ints: dict[int, tuple[list[int], int]] = {}
        # per year of a step: the deflator, and the step's lookups (built on first use)
        self._deflators: dict[int, Fraction] = {}
        self._growth: dict[int, Fraction] = {}  # 1 + the deflator
        self._step_logs: dict[int, UsageLog] = {}
        self._step_estimates: dict[int, frozenset[str]] = {}

    @property
    def _utg(self) -> dict[tuple[str, int], list[tuple[str, int]]]:
        """The expenditure rows by (municipality, year), read on first use."""
        return self._inputs.utg

    @property
    def _pop(self) -> dict[tuple[str, int], dict[str, int]]:
        """The population by (municipality, year) and age group, read on first use."""
        return self._inputs.pop

    # -- grunnlag ---------------------------------------------------------------------------------
    def _flag(self, f: str, base_year: int) -> tuple[bool, list[Use], frozenset[str]]:
        flags = self._flags.setdefault(base_year, {})
        flag = flags.get(f)
        if flag is None:
            flag_log = UsageLog()
            on = self.params.flag(f"uttrekk.kostra_funksjoner.f{f}", jan1(base_year), flag_log)
            flag = flags[f] = (
                on,
                list(flag_log.uses.values()),
                frozenset(flag_log.estimate_paths()),
            )
        return flag

    def grunnlag(self, code: str, base_year: int) -> Exact:
        rows = self._utg.get((code, base_year))
        if not rows:
            raise DataGap(
                "utgifter",
                _("no expenditure for {code} in {year} (the base year)").format(
                    code=code, year=base_year
                ),
            )
        total = 0  # the rows are sorted (`UttrekkInputs.utg`)
        parts: list[tuple[str, int]] = []
        flags = self._flags.get(base_year, {})
        for f, v in rows:
            flag = flags.get(f)
            if flag is None:
                flag = self._flag(f, base_year)
                flags = self._flags[base_year]
            if flag[0]:
                total += v
                parts.append((f, v))
        key = (base_year, tuple(f for f, _v in rows))
        estimates = self._flag_estimates.get(key)
        if estimates is None:
            estimates = frozenset().union(*(self._flag(f, base_year)[2] for f in key[1]))
            self._flag_estimates[key] = estimates
        value = Fraction(total)
        # the trace and lookups are built on first use by partial applications (a closure
        # costs a cell per name it holds, and a national year keeps one per municipality)
        ex = Exact(
            value,
            _no_node,
            partial(UttrekkCalculator._grunnlag_log, self, rows, base_year),
            estimates,
        )
        ex._node = partial(
            UttrekkCalculator._grunnlag_node, self, code, base_year, value, parts, rows, ex
        )
        return ex

    def _grunnlag_log(self, rows: list[tuple[str, int]], base_year: int) -> UsageLog:
        log = UsageLog()
        for f, _v in rows:
            for u in self._flag(f, base_year)[1]:
                log.add(u)
        return log

    def _grunnlag_node(
        self,
        code: str,
        base_year: int,
        value: Fraction,
        parts: list[tuple[str, int]],
        rows: list[tuple[str, int]],
        ex: Exact,
    ) -> Node:
        return Node(
            _("grunnlag {code} (base year {year})").format(code=code, year=base_year),
            value,
            "kr",
            lambda: " + ".join(f"f{f} {fmt_exact(v)}" for f, v in parts) if parts else "0",
            params=list(ex.log.uses.values()),
            inputs=[
                _("utgifter: {n} rows for {code} {year}").format(
                    n=len(rows), code=code, year=base_year
                )
            ],
        )

    # -- demography -------------------------------------------------------------------------------
    def _weights_of(self, weight_year: int) -> tuple[list[int], int]:
        """The weights of 1 January of `weight_year` over their common denominator."""
        found = self._weight_ints.get(weight_year)
        if found is None:
            wlog = UsageLog()
            weights = [
                self.params.number(
                    f"uttrekk.demografi.kostnadsvekt.{AGE_GROUP_PARAM[g]}", jan1(weight_year), wlog
                )
                for g in AGE_GROUPS
            ]
            self._weights[weight_year] = weights
            self._weight_uses[weight_year] = wlog.uses
            # over a common denominator, so W is one exact division of integers
            den = math.lcm(*(w.denominator for w in weights))
            found = self._weight_ints[weight_year] = ([int(w * den) for w in weights], den)
        return found

    def _w_sum(self, code: str, t: int, weight_year: int) -> int:
        """W(k, t) × the weights' common denominator (an integer)."""
        pop = self._pop.get((code, t))
        if pop is None or not pop.keys() >= _AGE_GROUP_SET:
            raise DataGap(
                "befolkning",
                _("population by age group missing for {code} in {year}").format(code=code, year=t),
            )
        ints, _den = self._weights_of(weight_year)
        return sum(map(operator.mul, map(pop.__getitem__, AGE_GROUPS), ints))

    def w(self, code: str, t: int, weight_year: int, log: UsageLog) -> Fraction:
        """W(k, t) = Σ pop(k, group, t) × weight(group, 1 January of weight_year)."""
        total = self._w_sum(code, t, weight_year)
        log.add_all(self._weight_uses[weight_year])
        return Fraction(total, self._weight_ints[weight_year][1])

    def start(self, code: str) -> tuple[str, int]:
        """('successor', y0) for a successor taking part from its first day, else ('base', b)."""
        found = self._starts.get(code)
        if found is not None:
            return found
        k = self.registry.get(code)
        first = self.participation.first_fra(code)
        if first is None:
            raise DataGap("deltakelse", _("{code} does not take part").format(code=code))
        preds = self.registry.predecessors(code)
        if preds and first == k.gyldig_fra:
            found = ("successor", k.gyldig_fra.year)
        else:
            found = ("base", first.year - 1)
        self._starts[code] = found
        return found

    def _w_prev_sum(self, code: str, y: int) -> tuple[int, bool]:
        """W of the year before `y` over the weights' denominator (Σ over the predecessors in
        a successor's first year), and whether it is that sum."""
        kind, y0 = self.start(code)
        if kind == "successor" and y == y0:
            return sum(self._w_sum(p, y - 1, y) for p in self.registry.predecessors(code)), True
        return self._w_sum(code, y - 1, y), False

    def w_prev(self, code: str, y: int, log: UsageLog) -> tuple[Fraction, str]:
        total, summed = self._w_prev_sum(code, y)
        log.add_all(self._weight_uses[y])
        label = (
            "Σ W(" + ", ".join(self.registry.predecessors(code)) + f", {y - 1})"
            if summed
            else f"W({code}, {y - 1})"
        )
        return Fraction(total, self._weight_ints[y][1]), label

    def _deflator(self, y: int) -> Fraction:
        defl = self._deflators.get(y)
        if defl is None:
            defl = self._deflators[y] = self.params.number("uttrekk.deflator", jan1(y))
        return defl

    def _step_log(self, y: int) -> UsageLog:
        """The lookups of a step to year `y`: its deflator and the weights of year y."""
        step = self._step_logs.get(y)
        if step is None:
            step = UsageLog()
            self.params.number("uttrekk.deflator", jan1(y), step)
            self._weights_of(y)
            step.add_all(self._weight_uses[y])
            self._step_logs[y] = step
            self._step_estimates[y] = frozenset(step.estimate_paths())
        return step

    # -- uttrekk ----------------------------------------------------------------------------------
    def uttrekk(self, code: str, y: int) -> Exact:
        """The exact annual extraction uttrekk(k, y) in kroner, with its trace."""
        key = (code, y)
        found = self._memo.get(key)
        if found is not None:
            return found
        kind, y0 = self.start(code)
        if kind == "base" and y == y0:
            g = self.grunnlag(code, y)
            ex = Exact(g.value, partial(_base_node, code, y, g), partial(_log_of, g), g.estimates)
        elif kind == "successor" and y == y0 - 1:
            ex = self._successor_start(code, y)
        elif y < (y0 if kind == "base" else y0 - 1):
            raise DataGap(
                "deltakelse",
                _("uttrekk for {code} is not defined before {year}").format(code=code, year=y0),
            )
        else:
            ex = self._step(code, y, self.uttrekk(code, y - 1))
        self._memo[key] = ex
        return ex

    def _step(self, code: str, y: int, prev: Exact) -> Exact:
        """uttrekk(k, y) = uttrekk(k, y − 1) × (1 + deflator(y)) × W(k, y) / W(k, y − 1)."""
        defl = self._deflator(y)
        w_now = self._w_sum(code, y, y)
        w_before, summed = self._w_prev_sum(code, y)
        growth = self._growth.get(y)
        if growth is None:
            growth = self._growth[y] = 1 + defl
        p = prev.value
        value = Fraction(  # one normalisation (the weights' denominator cancels)
            p.numerator * growth.numerator * w_now,
            p.denominator * growth.denominator * w_before,
        )
        self._step_log(y)
        estimates = prev.estimates | self._step_estimates[y]

        return Exact(
            value,
            partial(
                UttrekkCalculator._step_node,
                self,
                code,
                y,
                value,
                p,
                defl,
                w_now,
                w_before,
                summed,
                prev,
            ),
            partial(UttrekkCalculator._step_log_of, self, prev, y),
            estimates,
        )

    def _step_log_of(self, prev: Exact, y: int) -> UsageLog:
        log = UsageLog()
        log.merge(prev.log)
        log.merge(self._step_log(y))
        return log

    def _step_node(
        self,
        code: str,
        y: int,
        value: Fraction,
        p: Fraction,
        defl: Fraction,
        w_now: int,
        w_before: int,
        summed: bool,
        prev: Exact,
    ) -> Node:
        den = self._weight_ints[y][1]
        now, before = Fraction(w_now, den), Fraction(w_before, den)
        w_label = (
            "Σ W(" + ", ".join(self.registry.predecessors(code)) + f", {y - 1})"
            if summed
            else f"W({code}, {y - 1})"
        )
        return Node(
            _("uttrekk {code} {year}").format(code=code, year=y),
            value,
            "kr",
            lambda: (
                f"{fmt_exact(p)} × (1 + {fmt_exact(defl)}) × {fmt_exact(now, 0)}"
                f" / {fmt_exact(before, 0)} = {fmt_exact(value)}"
            ),
            params=list(self._step_log(y).uses.values()),
            inputs=[
                _("demographic index W({code}, {y}) / {prev}").format(code=code, y=y, prev=w_label)
            ],
            children=[prev.node],
        )

    def _successor_start(self, code: str, y: int) -> Exact:
        parts: list[tuple[str, Exact]] = []
        for p in self.registry.predecessors(code):
            if self.participation.state(p, (y, 12)) is not None:
                parts.append((p, self.uttrekk(p, y)))
            else:
                parts.append((p, self.grunnlag(p, y)))
        total = sum((part.value for _p, part in parts), Fraction(0))
        estimates = frozenset().union(*(part.estimates for _p, part in parts))

        def build_log() -> UsageLog:
            log = UsageLog()
            for _p, part in parts:
                log.merge(part.log)
            return log

        def build_node() -> Node:
            terms = [f"{p}: {fmt_exact(part.value)}" for p, part in parts]
            return Node(
                _("uttrekk {code} {year}").format(code=code, year=y),
                total,
                "kr",
                " + ".join(terms) + f" = {fmt_exact(total)}",
                inputs=[_("successor: sum over its predecessors")],
                children=[part.node for _p, part in parts],
            )

        return Exact(total, build_node, build_log, estimates)
