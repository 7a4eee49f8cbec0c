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
from dataclasses import dataclass, field
from fractions import Fraction

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


@dataclass
class Exact:
    """An exact value with its trace and the parameter lookups behind it."""

    value: Fraction
    node: Node
    log: UsageLog = field(default_factory=UsageLog)


def jan1(year: int) -> dt.date:
    return dt.date(year, 1, 1)


class UttrekkCalculator:
    """Computes grunnlag, W and uttrekk for any municipality and year, memoised."""

    def __init__(
        self,
        params: ParameterSet,
        registry: Registry,
        participation: Participation,
        utgifter: pl.DataFrame,
        befolkning: pl.DataFrame,
    ) -> None:
        self.params = params
        self.registry = registry
        self.participation = participation
        self._utg: dict[tuple[str, int], list[tuple[str, int]]] = {}
        for k, y, f, v in utgifter.select(
            "kommunenummer", "aar", "kostra_funksjon", "netto_driftsutgifter"
        ).iter_rows():
            self._utg.setdefault((k, y), []).append((f, v))
        self._pop: dict[tuple[str, int], dict[str, int]] = {}
        for k, y, g, n in befolkning.select(
            "kommunenummer", "aar", "aldersgruppe", "antall"
        ).iter_rows():
            self._pop.setdefault((k, y), {})[g] = n
        self._memo: dict[tuple[str, int], Exact] = {}
        # the base functions flagged on 1 January of a base year, with the lookups behind them
        self._flags: dict[int, dict[str, tuple[bool, list[Use]]]] = {}
        self._weights: dict[int, list[Fraction]] = {}
        self._weight_uses: dict[int, dict[tuple[str, dt.date], Use]] = {}
        self._weight_ints: dict[int, tuple[list[int], int]] = {}

    # -- grunnlag ---------------------------------------------------------------------------------
    def grunnlag(self, code: str, base_year: int) -> Exact:
        rows = self._utg.get((code, base_year))
        if not rows:
            raise DataGap(
                "utgifter",
                _("no expenditure for {code} in {year} (the base year)").format(
                    code=code, year=base_year
                ),
            )
        log = UsageLog()
        total = 0
        parts: list[tuple[str, int]] = []
        flags = self._flags.setdefault(base_year, {})
        for f, v in sorted(rows):
            flag = flags.get(f)
            if flag is None:
                flag_log = UsageLog()
                on = self.params.flag(f"uttrekk.kostra_funksjoner.f{f}", jan1(base_year), flag_log)
                flag = flags[f] = (on, list(flag_log.uses.values()))
            for u in flag[1]:
                log.add(u)
            if flag[0]:
                total += v
                parts.append((f, v))
        node = Node(
            _("grunnlag {code} (base year {year})").format(code=code, year=base_year),
            Fraction(total),
            "kr",
            lambda: " + ".join(f"f{f} {fmt_exact(v)}" for f, v in parts) if parts else "0",
            params=list(log.uses.values()),
            inputs=[
                _("utgifter: {n} rows for {code} {year}").format(
                    n=len(rows), code=code, year=base_year
                )
            ],
        )
        return Exact(Fraction(total), node, log)

    # -- demography -------------------------------------------------------------------------------
    def w(self, code: str, t: int, weight_year: int, log: UsageLog) -> Fraction:
        """W(k, t) = Σ pop(k, group, t) × weight(group, 1 January of weight_year)."""
        pop = self._pop.get((code, t))
        if pop is None or any(g not in pop for g in AGE_GROUPS):
            raise DataGap(
                "befolkning",
                _("population by age group missing for {code} in {year}").format(code=code, year=t),
            )
        weights = self._weights.get(weight_year)
        if weights is None:
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
            self._weight_ints[weight_year] = ([int(w * den) for w in weights], den)
        log.add_all(self._weight_uses[weight_year])
        ints, den = self._weight_ints[weight_year]
        return Fraction(sum(pop[g] * n for g, n in zip(AGE_GROUPS, ints, strict=True)), den)

    def start(self, code: str) -> tuple[str, int]:
        """('successor', y0) for a successor taking part from its first day, else ('base', b)."""
        k = self.registry.get(code)
        first = self.participation.first_fra(code)
        if first is None:
            raise DataGap("deltakelse", _("{code} does not take part").format(code=code))
        preds = self.registry.predecessors(code)
        if preds and first == k.gyldig_fra:
            return "successor", k.gyldig_fra.year
        return "base", first.year - 1

    def w_prev(self, code: str, y: int, log: UsageLog) -> tuple[Fraction, str]:
        kind, y0 = self.start(code)
        if kind == "successor" and y == y0:
            preds = self.registry.predecessors(code)
            total = sum((self.w(p, y - 1, y, log) for p in preds), Fraction(0))
            return total, "Σ W(" + ", ".join(preds) + f", {y - 1})"
        return self.w(code, y - 1, y, log), f"W({code}, {y - 1})"

    # -- uttrekk ----------------------------------------------------------------------------------
    def uttrekk(self, code: str, y: int) -> Exact:
        """The exact annual extraction uttrekk(k, y) in kroner, with its trace."""
        key = (code, y)
        if key in self._memo:
            return self._memo[key]
        kind, y0 = self.start(code)
        label = _("uttrekk {code} {year}").format(code=code, year=y)
        if kind == "base" and y == y0:
            g = self.grunnlag(code, y)
            ex = Exact(g.value, Node(label, g.value, "kr", "= grunnlag", children=[g.node]), g.log)
        elif kind == "successor" and y == y0 - 1:
            ex = self._successor_start(code, y, label)
        elif y < (y0 if kind == "base" else y0 - 1):
            raise DataGap(
                "deltakelse",
                _("uttrekk for {code} is not defined before {year}").format(code=code, year=y0),
            )
        else:
            prev = self.uttrekk(code, y - 1)
            step = UsageLog()  # this step's own lookups, for its node
            defl = self.params.number("uttrekk.deflator", jan1(y), step)
            w_now = self.w(code, y, y, step)
            w_before, w_label = self.w_prev(code, y, step)
            log = UsageLog()
            log.merge(prev.log)
            log.merge(step)
            step_factor = (1 + defl) * w_now
            value = Fraction(  # one normalisation instead of three
                prev.value.numerator * step_factor.numerator * w_before.denominator,
                prev.value.denominator * step_factor.denominator * w_before.numerator,
            )
            node = Node(
                label,
                value,
                "kr",
                lambda: (
                    f"{fmt_exact(prev.value)} × (1 + {fmt_exact(defl)}) × {fmt_exact(w_now, 0)}"
                    f" / {fmt_exact(w_before, 0)} = {fmt_exact(value)}"
                ),
                params=list(step.uses.values()),
                inputs=[
                    _("demographic index W({code}, {y}) / {prev}").format(
                        code=code, y=y, prev=w_label
                    )
                ],
                children=[prev.node],
            )
            ex = Exact(value, node, log)
        self._memo[key] = ex
        return ex

    def _successor_start(self, code: str, y: int, label: str) -> Exact:
        log = UsageLog()
        total = Fraction(0)
        children: list[Node] = []
        terms: list[str] = []
        for p in self.registry.predecessors(code):
            if self.participation.state(p, (y, 12)) is not None:
                part = self.uttrekk(p, y)
            else:
                part = self.grunnlag(p, y)
            log.merge(part.log)
            total += part.value
            children.append(part.node)
            terms.append(f"{p}: {fmt_exact(part.value)}")
        node = Node(
            label,
            total,
            "kr",
            " + ".join(terms) + f" = {fmt_exact(total)}",
            inputs=[_("successor: sum over its predecessors")],
            children=children,
        )
        return Exact(total, node, log)
