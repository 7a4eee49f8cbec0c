"""Mergers and renumberings (kommunesammenslåing): which predecessors a successor continues.

interfaces.md §2 "Extraction and base": a successor — a municipality whose predecessors name it as
`etterfolger`; its `gyldig_fra` is 1 January — that takes part from its first day continues the
predecessors that took part in the December before. A predecessor continuing in a successor has
not exited (no phase-out), and its months before the merger count as the successor's where a rule
looks back (the Covid reference months, the phase-out base).
"""

from __future__ import annotations

from sio.data.registry import Registry
from sio.rules.participation import Month, Participation, first_day


def continues_from_first_day(registry: Registry, participation: Participation, code: str) -> bool:
    """Whether `code` takes part from its own first day (so it can continue predecessors)."""
    return participation.first_fra(code) == registry.get(code).gyldig_fra


def continuing_predecessors(
    registry: Registry, participation: Participation, code: str
) -> list[str]:
    """The predecessors that `code` continues: those taking part in the December before its
    first day, if `code` itself takes part from its first day; else none."""
    if not continues_from_first_day(registry, participation, code):
        return []
    y0 = registry.get(code).gyldig_fra.year
    return [
        p for p in registry.predecessors(code) if participation.state(p, (y0 - 1, 12)) is not None
    ]


def continued_at(registry: Registry, participation: Participation, code: str) -> Month | None:
    """The month in which `code` would be continued by its successor: the December before a
    successor (starting 1 January) that takes part from its first day; else None."""
    succ = registry.successor(code)
    if succ is None or succ not in registry:
        return None
    s = registry.get(succ)
    if (s.gyldig_fra.month, s.gyldig_fra.day) != (1, 1):
        return None
    if not continues_from_first_day(registry, participation, succ):
        return None
    return (s.gyldig_fra.year - 1, 12)


def is_continued(registry: Registry, participation: Participation, code: str) -> bool:
    """Whether `code`'s last participating month is the month its successor continues it in
    (`continued_at`): then `code` has not exited."""
    last = participation.last_month(code)
    return last is not None and last == continued_at(registry, participation, code)


def codes_in_month(
    registry: Registry, participation: Participation, code: str, m: Month
) -> list[str]:
    """Whose figures count as `code`'s in month m: `code` itself from its first day, before it
    the predecessors it continues (recursively, across several mergers)."""
    if first_day(m) >= registry.get(code).gyldig_fra:
        return [code]
    out: list[str] = []
    for p in continuing_predecessors(registry, participation, code):
        out.extend(codes_in_month(registry, participation, p, m))
    return out
