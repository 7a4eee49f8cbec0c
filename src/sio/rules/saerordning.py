"""Special periods (særordning): the Covid-19 replacement of the activity grant (scheme.md §3.5).

interfaces.md §2 "Covid months": for each replaced month (`saerordning.covid.maaned_1`, `_2`, …
until the first missing index) in which a municipality is activity-financed and its participation
row has `covid_saerordning` true, if it was activity-financed in every reference month
(`saerordning.covid.referanse_N`), the month's activity grant is the mean of the reference
months' activity grants (each priced in its own month), rounded half away from zero to øre. For
a successor, a reference month before the merger counts the predecessors continuing in it.
Lump sum and toppfinansiering continue in replaced months.

(Model A before `aktivitet_fra` — paid as model B — is the other special period; it is the
`aktivitet` flag of `sio.rules.participation`.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction

from sio.data.registry import Registry
from sio.i18n import _
from sio.money import round_half_away
from sio.parameters import ParameterSet, UsageLog, Use
from sio.rules.aktivitetstilskudd import ActivityGrant
from sio.rules.merger import codes_in_month
from sio.rules.participation import Month, MonthState, Participation
from sio.trace import Node, fmt_exact

MONTH_PATH = "saerordning.covid.maaned"
REFERENCE_PATH = "saerordning.covid.referanse"


@dataclass(frozen=True)
class CovidPlan:
    """The replaced months of a year, the reference window, and what the kernel must price.

    `financed_references` are the (code, reference month) pairs whose activity grant the means
    need (predecessors' codes before a merger); `uses` the parameter lookups of the months.
    """

    replaced: tuple[Month, ...]
    references: tuple[Month, ...]
    financed_references: frozenset[tuple[str, Month]] = frozenset()
    uses: Mapping[tuple[str, dt.date], Use] = field(default_factory=dict)


@dataclass(frozen=True)
class Replacement:
    """The Covid replacement of one month of one municipality, in øre, with its trace."""

    oere: int
    node: Node


def _month_series(params: ParameterSet, prefix: str, year: int, log: UsageLog) -> list[Month]:
    out: list[Month] = []
    on = dt.date(year, 1, 1)
    n = 1
    while params.has(f"{prefix}_{n}"):
        if params.get(f"{prefix}_{n}").at(on) is None:
            break
        text = params.text(f"{prefix}_{n}", on, log)
        out.append((int(text[:4]), int(text[5:7])))
        n += 1
    return out


def covid_plan(
    params: ParameterSet,
    registry: Registry,
    participation: Participation,
    year: int,
    states: Mapping[str, Mapping[int, MonthState]],
) -> CovidPlan:
    """The Covid months of `year` for every participating municipality (`states`) at once."""
    log = UsageLog()
    replaced = [m for m in _month_series(params, MONTH_PATH, year, log) if m[0] == year]
    refs = _month_series(params, REFERENCE_PATH, year, log)
    affected = [
        code
        for code, st in states.items()
        if any((s := st.get(m[1])) is not None and s.activity and s.covid for m in replaced)
    ]
    financed: set[tuple[str, Month]] = set()
    for code in affected:
        for r in refs:
            for src in codes_in_month(registry, participation, code, r):
                s = participation.state(src, r)
                if s is not None and s.activity:
                    financed.add((src, r))
    return CovidPlan(tuple(replaced), tuple(refs), frozenset(financed), dict(log.uses))


def covid_replacements(
    plan: CovidPlan,
    activity: ActivityGrant,
    registry: Registry,
    participation: Participation,
    year: int,
    states: Mapping[str, Mapping[int, MonthState]],
) -> dict[str, dict[int, Replacement]]:
    """The replaced months' activity grants of every municipality, where the rule applies."""
    out: dict[str, dict[int, Replacement]] = {}
    for code, st in states.items():
        for m in plan.replaced:
            s = st.get(m[1])
            if s is None or not s.activity or not s.covid:
                continue
            rep = _replacement(plan.references, activity, registry, participation, code, m)
            if rep is not None:
                out.setdefault(code, {})[m[1]] = rep
    return out


def _replacement(
    refs: Iterable[Month],
    activity: ActivityGrant,
    registry: Registry,
    participation: Participation,
    code: str,
    m: Month,
) -> Replacement | None:
    """The rounded mean of the reference months, if every one was activity-financed."""
    values: list[int] = []
    parts: list[str] = []
    for r in refs:
        srcs = [
            c
            for c in codes_in_month(registry, participation, code, r)
            if (st := participation.state(c, r)) is not None and st.activity
        ]
        if not srcs:
            return None
        v = sum(activity.get(c, r) for c in srcs)
        values.append(v)
        parts.append(
            f"{r[0]}-{r[1]:02d}: {fmt_exact(v)} øre"
            + (f" ({', '.join(srcs)})" if srcs != [code] else "")
        )
    if not values:
        return None
    mean = round_half_away(Fraction(sum(values), len(values)))
    node = Node(
        _("Covid replacement {year}-{month:02d}").format(year=m[0], month=m[1]),
        mean,
        "øre",
        "(" + " + ".join(parts) + f") / {len(values)} = {fmt_exact(mean)} øre",
    )
    return Replacement(mean, node)
