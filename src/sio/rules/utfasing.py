"""Phase-out (nedtrapping) of the income supplement after an exit (scheme.md §3.2;
interfaces.md §2 "Phase-out and output rows").

Exit = the last participating month of a municipality that is not continued by a successor. In
each of the three calendar years after the exit year the municipality gets the share
`inntektspaaslag.nedtrapping.aar_N` × its exact supplement of the last calendar year with 12
participating months (if none, the last year's supplement scaled to 12 months); no cap applies.
A phase-out follows a later renumbering to the successor; phase-outs landing on one code are paid
in one row, and none is paid to a code that participates that year. Exact until the annual
figure, which is rounded once to whole kroner.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

from sio.data.registry import Registry
from sio.i18n import _
from sio.parameters import ParameterSet, UsageLog
from sio.rules.inntektspaaslag import Supplement, SupplementTerms, supplements
from sio.rules.merger import is_continued
from sio.rules.participation import Month, Participation
from sio.rules.uttrekk import UttrekkCalculator, jan1
from sio.trace import Node, fmt_exact

SHARE = "inntektspaaslag.nedtrapping.aar"


@dataclass
class PhaseOut:
    """The phase-out paid to one code in one year: exact amount, trace, parameter lookups."""

    kommunenummer: str
    aar: int
    amount: Fraction
    node: Node
    log: UsageLog = field(default_factory=UsageLog)


def exit_month(registry: Registry, participation: Participation, code: str) -> Month | None:
    """The month `code` exits the scheme, or None (never took part, still open, or continued
    by a successor)."""
    if is_continued(registry, participation, code):
        return None
    return participation.last_month(code)


def phase_out_base(
    participation: Participation,
    uttrekk: UttrekkCalculator,
    terms_of: Callable[[int], SupplementTerms],
    code: str,
    exit_year: int,
    log: UsageLog,
) -> tuple[Fraction, Node]:
    """The exact supplement of the last full 12-month year (else the last year's, ×12/n)."""
    chosen: int | None = None
    for y in range(exit_year, exit_year - 200, -1):
        n = len(participation.months_in_year(code, y))
        if n == 0:
            break
        if n == 12:
            chosen = y
            break
    y = chosen if chosen is not None else exit_year
    months = list(participation.months_in_year(code, y))
    ut = uttrekk.uttrekk(code, y)
    log.merge(ut.log)
    supplement: Supplement = supplements(terms_of(y), {code: ut.value}, {code: months})[code]
    log.add_all(supplement.uses)
    scaled = supplement.total * 12 / len(months)
    formula = (
        _("supplement {year} (12 months)").format(year=y)
        if len(months) == 12
        else _("supplement {year} × 12 / {n}").format(year=y, n=len(months))
    )
    node = Node(
        _("phase-out base: supplement {year}").format(year=y),
        scaled,
        "kr",
        f"{formula} = {fmt_exact(scaled)}",
        children=[ut.node],
    )
    return scaled, node


def phase_outs(
    params: ParameterSet,
    registry: Registry,
    participation: Participation,
    uttrekk: UttrekkCalculator,
    terms_of: Callable[[int], SupplementTerms],
    year: int,
    participating: set[str],
) -> list[PhaseOut]:
    """Every phase-out paid in `year`, one per receiving code that does not participate."""
    out: dict[str, PhaseOut] = {}
    for code in participation.codes():
        ex = exit_month(registry, participation, code)
        if ex is None or not (1 <= year - ex[0] <= 3):
            continue
        n = year - ex[0]
        log = UsageLog()
        share = params.number(f"{SHARE}_{n}", jan1(year), log)
        base, base_node = phase_out_base(participation, uttrekk, terms_of, code, ex[0], log)
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
        if target in out:  # two phase-outs landing on one code: one row
            prev = out[target]
            log.merge(prev.log)
            node.children.append(prev.node)
            amount += prev.amount
        out[target] = PhaseOut(target, year, amount, node, log)
    return [p for c, p in sorted(out.items()) if c not in participating]
