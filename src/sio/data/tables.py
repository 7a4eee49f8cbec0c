"""The input tables of interfaces.md §1: their columns, and which are optional."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TableSpec:
    """One input table: its file stem, required columns, whether the file may be absent, and the
    columns a file may leave out (an extension of interfaces.md §1: a file without them stays
    valid, and reads as if every cell of them were empty)."""

    name: str
    columns: tuple[str, ...]
    optional: bool = False
    optional_columns: tuple[str, ...] = ()

    @property
    def all_columns(self) -> tuple[str, ...]:
        """The required columns, then the optional ones: the columns of the typed and stored
        table."""
        return self.columns + self.optional_columns


TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        "kommuner",
        (
            "kommunenummer",
            "navn",
            "gyldig_fra",
            "gyldig_til",
            "aga_sone",
            "reiseindeks",
            "etterfolger",
        ),
        # the payee of payment files: 9 digits with a mod-11 check digit; empty = unknown
        optional_columns=("organisasjonsnummer",),
    ),
    TableSpec(
        "deltakelse",
        ("kommunenummer", "modell", "fra", "til", "aktivitet_fra", "covid_saerordning"),
    ),
    TableSpec("utgifter", ("kommunenummer", "aar", "kostra_funksjon", "netto_driftsutgifter")),
    TableSpec("befolkning", ("kommunenummer", "aar", "aldersgruppe", "antall")),
    TableSpec("toppfinansiering", ("kommunenummer", "aar", "beloep"), optional=True),
    # an extension of interfaces.md §1: project costs paid from the supplement (model A)
    TableSpec("prosjektkostnader", ("kommunenummer", "aar", "beloep"), optional=True),
    TableSpec(
        "vedtak",
        (
            "vedtak_id",
            "person_id",
            "kommunenummer",
            "tjeneste",
            "prisgruppe",
            "omfang",
            "enhet",
            "fra",
            "til",
        ),
    ),
)

TABLE_BY_NAME: dict[str, TableSpec] = {t.name: t for t in TABLES}

AGA_ZONES: tuple[str, ...] = ("1", "1a", "2", "3", "4", "4a", "5")
AGE_GROUPS: tuple[str, ...] = ("0-66", "67-79", "80-89", "90+")
AGE_GROUP_PARAM: dict[str, str] = {
    "0-66": "alder_0_66",
    "67-79": "alder_67_79",
    "80-89": "alder_80_89",
    "90+": "alder_90_pluss",
}
UNITS: tuple[str, ...] = ("timer_per_uke", "doegn", "timer_per_maaned", "per_maaned")
HOUR_UNITS: tuple[str, ...] = ("timer_per_uke", "timer_per_maaned")
STANDARD_GROUP = "STANDARD"

# The text forms of interfaces.md §1 (validated in `sio.data.validation`).
CODE_RE = r"^\d{4}$"  # a municipality code
DATE_RE = r"^\d{4}-\d{2}-\d{2}$"
INT_RE = r"^-?\d+$"
NUM_RE = r"^-?(\d+(\.\d*)?|\.\d+)$"  # a decimal number with a decimal point
PSEUDONYM_RE = r"^\d{11}$"  # what a person_id must not look like: a national identity number
