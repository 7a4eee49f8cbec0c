"""Phase-out (nedtrapping) of the income supplement after an exit (scheme.md §3.2;
interfaces.md §2 "Phase-out and output rows").

- Exit = the last month of a participation spell (a participating month followed by a month
  without participation) of a municipality that is not continued by a successor; one exit per
  spell, each with its own phase-out.
- In each of the three calendar years after the exit year: the share
  `inntektspaaslag.nedtrapping.aar_N` × the exact supplement of the last calendar year with 12
  participating months, looked for across any gap and over the predecessors the municipality
  continues (a year before a merger is full only if every continuing predecessor took part all
  12 months; its supplement is then the sum of theirs, each with its own cap); if there is none,
  the exit year's supplement scaled to 12 months. No cap applies to the phase-out itself.
- A phase-out follows a later renumbering or merger to the successor (the payee). It ends in the
  first year in which the municipality, or the successor it follows, participates again: that
  year and later ones pay none of it, and the run says so (`EndedPhaseOut`).
- Phase-outs landing on one code in one year are added exactly, in one row; the engine rounds
  the sum once to whole kroner like every annual figure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

from sio.data.registry import Registry
from sio.i18n import _
from sio.parameters import ParameterSet, UsageLog
from sio.rules.inntektspaaslag import SupplementTerms, supplements
from sio.rules.merger import continued_at, continuing_predecessors
from sio.rules.participation import Month, Participation, month_of
from sio.rules.uttrekk import UttrekkCalculator, jan1
from sio.trace import Node, fmt_exact

SHARE = "inntektspaaslag.nedtrapping.aar"
YEARS = 3


@dataclass
class PhaseOut:
    """The phase-out paid to one code in one year: exact amount, trace, parameter lookups."""

    kommunenummer: str
    aar: int
    amount: Fraction
    node: Node
    log: UsageLog = field(default_factory=UsageLog)


@dataclass(frozen=True)
class EndedPhaseOut:
    """A phase-out not paid in `aar` because its payee participates again (interfaces.md §2)."""

    kommunenummer: str  # the municipality that exited
    mottaker: str  # the code it would have been paid to
    aar: int
    exit: Month
    amount: Fraction
    node: Node
    estimates: tuple[str, ...] = ()  # estimated parameters the amount rests on


@dataclass
class PhaseOutYear:
    """The phase-outs of one year: those paid (one per payee) and those that ended."""

    paid: list[PhaseOut]
    ended: list[EndedPhaseOut]


@dataclass
class _Context:
    params: ParameterSet
    registry: Registry
    participation: Participation
    uttrekk: UttrekkCalculator
    terms_of: Callable[[int], SupplementTerms]


def exits(registry: Registry, participation: Participation, code: str) -> list[Month]:
    """The months `code` exits the scheme: the last month of each closed spell that is not the
    December before a successor which takes part from its first day (1 January)."""
    continued = continued_at(registry, participation, code)
    ends = (month_of(end) for _start, end in participation.spells(code) if end is not None)
    return [m for m in ends if m != continued]


def _supplement(
    ctx: _Context, code: str, y: int, log: UsageLog, upto: int = 12
) -> tuple[Fraction, Node]:
    """The exact supplement of `code` in year `y` over its participating months up to `upto`."""
    months = [mo for mo in ctx.participation.months_in_year(code, y) if mo <= upto]
    ut = ctx.uttrekk.uttrekk(code, y)
    log.merge(ut.log)
    s = supplements(ctx.terms_of(y), {code: ut.value}, {code: months})[code]
    log.add_all(s.uses)
    total = s.total
    node = Node(
        _("supplement {code} {year}").format(code=code, year=y),
        total,
        "kr",
        _("Σ min(sats × uttrekk, tak) / 12 over {n} months").format(n=len(months))
        + f" = {fmt_exact(total)}",
        children=[ut.node],
    )
    return total, node


def _full_year_supplement(
    ctx: _Context, code: str, y: int, log: UsageLog
) -> tuple[Fraction, Node] | None:
    """The supplement of `code`'s year `y` if it had 12 participating months — before `code`
    existed, counting the predecessors it continues (each all 12 months, each its own cap)."""
    k = ctx.registry.get(code)
    if y >= k.gyldig_fra.year:
        if len(ctx.participation.months_in_year(code, y)) != 12:
            return None
        return _supplement(ctx, code, y, log)
    preds = continuing_predecessors(ctx.registry, ctx.participation, code)
    if not preds:
        return None
    parts = [_full_year_supplement(ctx, p, y, log) for p in preds]
    if any(p is None for p in parts):
        return None
    found = [p for p in parts if p is not None]
    total = sum((v for v, _n in found), Fraction(0))
    node = Node(
        _("supplement {year}: Σ over the continued predecessors {codes}").format(
            year=y, codes=", ".join(preds)
        ),
        total,
        "kr",
        " + ".join(fmt_exact(v) for v, _n in found) + f" = {fmt_exact(total)}",
        children=[n for _v, n in found],
    )
    return total, node


def phase_out_base(ctx: _Context, code: str, exit: Month, log: UsageLog) -> tuple[Fraction, Node]:
    """The supplement of the last calendar year up to the exit year with 12 participating months
    (across gaps and predecessors), else the exit year's supplement × 12 / its months."""
    first = ctx.participation.first_year() or exit[0]
    for y in range(exit[0], first - 1, -1):
        found = _full_year_supplement(ctx, code, y, log)
        if found is not None:
            value, inner = found
            node = Node(
                _("phase-out base: supplement {year}").format(year=y),
                value,
                "kr",
                _("supplement {year} (12 months)").format(year=y) + f" = {fmt_exact(value)}",
                children=[inner],
            )
            return value, node
    y = exit[0]  # the exit year's months of this spell (a later spell's months are its own)
    n = len([mo for mo in ctx.participation.months_in_year(code, y) if mo <= exit[1]])
    value, inner = _supplement(ctx, code, y, log, exit[1])
    scaled = value * 12 / n
    node = Node(
        _("phase-out base: supplement {year}").format(year=y),
        scaled,
        "kr",
        _("supplement {year} × 12 / {n}").format(year=y, n=n) + f" = {fmt_exact(scaled)}",
        children=[inner],
    )
    return scaled, node


def _participates(participation: Participation, code: str, year: int) -> bool:
    return bool(participation.months_in_year(code, year))


def phase_outs(
    params: ParameterSet,
    registry: Registry,
    participation: Participation,
    uttrekk: UttrekkCalculator,
    terms_of: Callable[[int], SupplementTerms],
    year: int,
) -> PhaseOutYear:
    """Every phase-out of `year`: paid ones added per payee, and the ones that ended."""
    ctx = _Context(params, registry, participation, uttrekk, terms_of)
    paid: dict[str, PhaseOut] = {}
    ended: list[EndedPhaseOut] = []
    for code in participation.codes():
        for ex in exits(registry, participation, code):
            n = year - ex[0]
            if not 1 <= n <= YEARS:
                continue
            log = UsageLog()
            share = params.number(f"{SHARE}_{n}", jan1(year), log)
            base, base_node = phase_out_base(ctx, code, ex, log)
            amount = share * base
            target = registry.code_on(code, jan1(year))
            node = Node(
                _("phase-out {code} {year} (year {n} after exit {exit})").format(
                    code=target, year=year, n=n, exit=f"{ex[0]}-{ex[1]:02d}"
                ),
                amount,
                "kr",
                f"{float(share):g} × {fmt_exact(base)} = {fmt_exact(amount)}",
                params=[u for u in log.uses.values() if u.path.startswith(SHARE)],
                children=[base_node],
            )
            # back in after the exit: later in the exit year itself (the first year in which it
            # participates again is then the exit year: no year of this phase-out is paid), or
            # in a year after it up to this one
            back_in = [mo for mo in participation.months_in_year(code, ex[0]) if mo > ex[1]] + [
                t
                for t in range(ex[0] + 1, year + 1)
                if _participates(participation, registry.code_on(code, jan1(t)), t)
            ]
            if back_in:
                ended.append(
                    EndedPhaseOut(code, target, year, ex, amount, node, log.estimate_paths())
                )
                continue
            prev = paid.get(target)
            if prev is None:
                paid[target] = PhaseOut(target, year, amount, node, log)
                continue
            log.merge(prev.log)
            total = prev.amount + amount
            both = Node(
                _("phase-outs landing on {code} in {year}").format(code=target, year=year),
                total,
                "kr",
                f"{fmt_exact(prev.amount)} + {fmt_exact(amount)} = {fmt_exact(total)}",
                children=[prev.node, node],
            )
            paid[target] = PhaseOut(target, year, total, both, log)
    return PhaseOutYear([p for _c, p in sorted(paid.items())], ended)
