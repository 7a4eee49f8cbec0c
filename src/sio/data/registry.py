"""Municipality registry: codes with validity periods, names, zones and successor links."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction

import polars as pl

from sio.money import to_fraction


@dataclass(frozen=True)
class Kommune:
    """One municipality code as the `kommuner` table describes it."""

    kommunenummer: str
    navn: str
    gyldig_fra: dt.date
    gyldig_til: dt.date | None
    aga_sone: str
    reiseindeks: Fraction
    etterfolger: str | None

    def valid_on(self, day: dt.date) -> bool:
        return self.gyldig_fra <= day and (self.gyldig_til is None or day <= self.gyldig_til)


class Registry:
    """Lookups over the `kommuner` table: names, zones, successors and predecessors."""

    def __init__(self, kommuner: pl.DataFrame) -> None:
        self._by_code: dict[str, Kommune] = {}
        for r in kommuner.iter_rows(named=True):
            self._by_code[r["kommunenummer"]] = Kommune(
                r["kommunenummer"],
                r["navn"],
                r["gyldig_fra"],
                r["gyldig_til"],
                r["aga_sone"],
                to_fraction(r["reiseindeks"]),
                r["etterfolger"],
            )
        self._preds: dict[str, list[str]] = {}
        for k in self._by_code.values():
            if k.etterfolger:
                self._preds.setdefault(k.etterfolger, []).append(k.kommunenummer)
        for v in self._preds.values():
            v.sort()

    def __contains__(self, code: str) -> bool:
        return code in self._by_code

    def get(self, code: str) -> Kommune:
        return self._by_code[code]

    def codes(self) -> list[str]:
        return sorted(self._by_code)

    def predecessors(self, code: str) -> list[str]:
        return list(self._preds.get(code, []))

    def successor(self, code: str) -> str | None:
        return self._by_code[code].etterfolger

    def code_on(self, code: str, day: dt.date) -> str:
        """The code that `code` has become on `day` (following successors), or `code` itself."""
        seen = {code}
        cur = code
        while not self._by_code[cur].valid_on(day):
            nxt = self._by_code[cur].etterfolger
            if nxt is None or nxt in seen or nxt not in self._by_code:
                break
            seen.add(nxt)
            cur = nxt
        return cur
