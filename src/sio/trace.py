"""The trace behind a figure: a tree of steps, each with its formula, parameters and inputs.

Every annual figure the engine reports carries such a tree; `sio explain` prints it. A node's
value is exact (a `Fraction` of kroner or øre, or an int) so that the tree reproduces the figure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from sio.parameters import Use


@dataclass
class Node:
    """One step: what it is, its value, how it was computed, and from what."""

    label: str
    value: Fraction | int | str | None = None
    unit: str = ""
    formula: str | Callable[[], str] = ""
    params: list[Use] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)

    @property
    def formula_text(self) -> str:
        """The formula with the numbers put in (built on first use when given as a function)."""
        if callable(self.formula):
            self.formula = self.formula()
        return self.formula

    def add(self, child: Node) -> Node:
        self.children.append(child)
        return child

    def walk(self) -> Iterator[Node]:
        yield self
        for c in self.children:
            yield from c.walk()

    def find(self, label_prefix: str) -> Node | None:
        for n in self.walk():
            if n.label.startswith(label_prefix):
                return n
        return None


def _finite_decimal(x: Fraction) -> Decimal | None:
    """The exact decimal of x if it has one with at most 12 decimals, else None."""
    d = x.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    if d != 1:
        return None
    dec = Decimal(x.numerator) / Decimal(x.denominator)
    return dec if -dec.as_tuple().exponent <= 12 else None  # type: ignore[operator]


@lru_cache(maxsize=8)
def _symbols(locale: str) -> tuple[str, str]:
    from babel.numbers import get_decimal_symbol, get_group_symbol

    return get_group_symbol(locale), get_decimal_symbol(locale)


def _group(digits: str, sep: str) -> str:
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return sep.join(parts)


def _fmt_decimal(dec: Decimal, places: int | None) -> str:
    from sio.i18n import babel_locale

    group, point = _symbols(babel_locale())
    text = f"{dec:f}" if places is None else f"{dec:.{places}f}"
    sign = "-" if text.startswith("-") else ""
    text = text.lstrip("-")
    whole, _, frac = text.partition(".")
    out = sign + _group(whole, group)
    return out + point + frac if frac else out


def fmt_exact(x: Fraction | int, decimals: int = 2) -> str:
    """An exact number in the current language: exact decimals when it has them, else '≈' and
    `decimals` decimals (a trace shows the number, not a rounding of it)."""
    if isinstance(x, int) or x.denominator == 1:
        return _fmt_decimal(Decimal(int(x)), None)
    dec = _finite_decimal(x)
    if dec is not None:
        return _fmt_decimal(dec, None)
    approx = Decimal(x.numerator) / Decimal(x.denominator)
    return "≈" + _fmt_decimal(approx, decimals)
