"""The annual result of one municipality in one year: the output contract of interfaces.md §4."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

OUTPUT_COLUMNS: tuple[str, ...] = (
    "kommunenummer",
    "navn",
    "aar",
    "modell",
    "maaneder",
    "uttrekk",
    "toppfinansiering",
    "aktivitetstilskudd",
    "rundsumtilskudd",
    "oeremerket_tilskudd",
    "inntektspaaslag",
    "tilskudd",
    "netto",
    "estimerte_parametere",
)

AMOUNT_COLUMNS: tuple[str, ...] = (
    "uttrekk",
    "toppfinansiering",
    "aktivitetstilskudd",
    "rundsumtilskudd",
    "oeremerket_tilskudd",
    "inntektspaaslag",
    "tilskudd",
    "netto",
)


@dataclass(frozen=True)
class AnnualResult:
    """One row of the output contract. Amounts are whole kroner (already rounded)."""

    kommunenummer: str
    navn: str
    aar: int
    modell: str  # "A", "B" or "utfasing"
    maaneder: int
    uttrekk: int
    toppfinansiering: int
    aktivitetstilskudd: int
    rundsumtilskudd: int
    oeremerket_tilskudd: int
    inntektspaaslag: int
    tilskudd: int
    netto: int
    estimerte_parametere: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of the output contract, keys in contract order."""
        d = {k: getattr(self, k) for k in OUTPUT_COLUMNS}  # every field is a number or text
        d["estimerte_parametere"] = list(self.estimerte_parametere)
        return d
