"""The trace behind a figure: a tree of steps, each with its formula, parameters and inputs.

Every annual figure the engine reports carries such a tree; `sio explain` prints it. A node's
value is exact (a `Fraction` of kroner or øre, or an int) so that the tree reproduces the figure.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction

from sio.parameters import Use


@dataclass
class Node:
    """One step: what it is, its value, how it was computed, and from what."""

    label: str
    value: Fraction | int | str | None = None
    unit: str = ""
    formula: str = ""
    params: list[Use] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)

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


def fmt_exact(x: Fraction | int, decimals: int = 2) -> str:
    """An exact number as text: integers as is, fractions with a few decimals and a '≈'."""
    if isinstance(x, int) or x.denominator == 1:
        return f"{int(x):,}".replace(",", " ")
    approx = f"{float(x):,.{decimals}f}".replace(",", " ")
    return approx if Fraction(approx.replace(" ", "")) == x else f"≈{approx}"
