"""The records of the payment ledger and what the reports of a payment run are made from.

A ledger line (`Postering`) is money for one municipality, one financing year and (usually) one
month of that year, for one grant component. Lines are only ever added: the amount owed for a
period is the sum of its lines, and a correction is a new line, never an edited one.

Amounts are integer øre. Components (`komponent`) are the grants of interfaces.md §4:
`aktivitetstilskudd`, `rundsumtilskudd`, `oeremerket_tilskudd`, `inntektspaaslag`.

Kinds of line (`art`):
- `akonto`: the advance of the activity grant for the run's month, estimated from the latest
  settled month's activity;
- `maanedsandel`: the month's share of the lump sum, the supplement or the earmarked grant;
- `avregning`: a month's reported activity minus its advance (posted once, when first settled;
  it may be 0);
- `korreksjon`: a change of an already paid figure because of a new data version or parameter
  version (both versions are on the line);
- `etteroppgjoer`: the final settlement of a year, month by month and component by component;
- `avrunding`: the final settlement's line that brings a component's year to its annual figure
  in whole kroner (`maaned` is None).

An opening balance (`InngaendeSaldo`) is what a municipality was paid for a year before this
ledger took over, up to and including a month. Its months are outside the ledger; the ledger
settles the balance on one key of the year, component `inngaende_saldo` with `maaned` None
(docs/decisions/0016-opening-balance.md): entitlement of the covered months − the balance.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

KOMPONENTER: tuple[str, ...] = (
    "aktivitetstilskudd",
    "rundsumtilskudd",
    "oeremerket_tilskudd",
    "inntektspaaslag",
)

# the component of the lines that settle an opening balance (all grants of the covered months)
SALDO = "inngaende_saldo"

ARTER: tuple[str, ...] = (
    "akonto",
    "maanedsandel",
    "avregning",
    "korreksjon",
    "etteroppgjoer",
    "avrunding",
)


@dataclass(frozen=True)
class Postering:
    """One ledger line."""

    kommunenummer: str
    aar: int
    maaned: int | None  # None only for `avrunding` and the opening balance (`SALDO`)
    komponent: str
    art: str
    beloep_oere: int
    begrunnelse: str  # the reason, in the language of the run (Norwegian by default)
    data_versjon: int
    parameter_versjon: str
    forrige_data_versjon: int | None = None  # set on `korreksjon`: the version it corrects
    forrige_parameter_versjon: str | None = None
    id: int | None = None  # set once stored
    kjoring_id: int | None = None


@dataclass(frozen=True)
class Kjoring:
    """A payment run: a month's run (`art` = "maaned", `periode` "YYYY-MM") or a final
    settlement (`art` = "etteroppgjoer", `periode` "YYYY")."""

    id: int
    art: str
    periode: str
    startet: dt.datetime
    bruker: str
    data_versjon: int
    parameter_versjon: str


@dataclass(frozen=True)
class InngaendeSaldo:
    """An opening balance: `utbetalt_oere` paid to `kommunenummer` for `aar` before this ledger
    took over, for the months up to and including `til_og_med_maaned` (None: every month before
    the ledger's first run, which must then be in `aar`)."""

    kommunenummer: str
    aar: int
    utbetalt_oere: int
    til_og_med_maaned: int | None
    kilde: str  # the file and row it came from
    registrert: dt.datetime | None = None
    bruker: str = ""
    id: int | None = None

    def covered_to(self, ledger_start: tuple[int, int] | None) -> int:
        """The last month it covers: its own, else the month before the ledger's first run
        (0: it covers no month, because the ledger starts in another year or in January)."""
        if self.til_og_med_maaned is not None:
            return self.til_og_med_maaned
        if ledger_start is not None and ledger_start[0] == self.aar:
            return ledger_start[1] - 1
        return 0


@dataclass(frozen=True)
class Mottaker:
    """Who is paid: the municipality under its code at the time of the run."""

    kommunenummer: str
    navn: str
    organisasjonsnummer: str | None


@dataclass(frozen=True)
class Hittil:
    """Year to date for one financing year: entitlement for the months up to and including
    `til_maaned` (as the run's data version gives it) against everything paid for that year,
    this run included."""

    aar: int
    til_maaned: int
    rettighet_oere: int
    utbetalt_oere: int  # the opening balance included
    inngaende_saldo_oere: int | None = None  # paid before the ledger, if a balance is stored
    saldo_til_maaned: int = 0  # the last month the balance covers

    @property
    def utestaaende_oere(self) -> int:
        return self.rettighet_oere - self.utbetalt_oere


@dataclass(frozen=True)
class Brev:
    """The statement of one payment run to one municipality: its lines, their sum and the
    year-to-date position of every year the lines touch."""

    kjoring: Kjoring
    mottaker: Mottaker
    linjer: tuple[Postering, ...]
    hittil: tuple[Hittil, ...]
    estimerte_parametere: tuple[str, ...] = field(default_factory=tuple)

    @property
    def sum_oere(self) -> int:
        return sum(p.beloep_oere for p in self.linjer)

    @property
    def referanse(self) -> str:
        """The payment reference: run, period and municipality, e.g. `SIO-2020-03-K7-3024`."""
        return f"SIO-{self.kjoring.periode}-K{self.kjoring.id}-{self.mottaker.kommunenummer}"
