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
    # An imported row replaces the stored row of its key whole: an optional column the file
    # lacks is empty in it, not the stored value (an assessment is one record, not a patch).
    whole_rows: bool = False

    @property
    def all_columns(self) -> tuple[str, ...]:
        """The required columns, then the optional ones: the columns of the typed and stored
        table."""
        return self.columns + self.optional_columns


IPLOS_COLUMNS: tuple[str, ...] = (
    "sosial_deltakelse",
    "beslutninger_dagliglivet",
    "styre_atferd",
    "alminnelig_husarbeid",
    "skaffe_varer",
    "personlig_hygiene",
    "av_og_paakledning",
    "spise",
    "lage_mat",
    "ivareta_egen_helse",
    "bevege_seg_innendoers",
    "bevege_seg_utendoers",
    "toalett",
    "hukommelse",
    "kommunikasjon",
    "syn",
    "hoersel",
)
"""The 17 IPLOS score columns of `kartlegging`: the field names of
`sio.criteria.iplos.IplosScores`, in IPLOS order. Written out here because they are the file
format (a public promise) and because importing the criteria package costs about 0.3 s at the
start of every command; tests/test_evaluation_data.py checks that the two are the same."""

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
    # Extensions of interfaces.md §1 for the evaluation (docs/evaluation-data.md): the persons'
    # needs assessments and the persons themselves, both optional and pseudonymous.
    TableSpec(
        "kartlegging",
        ("person_id", "kommunenummer", "dato"),
        optional=True,
        optional_columns=(*IPLOS_COLUMNS, "behovsniva"),
        whole_rows=True,
    ),
    TableSpec(
        "personer",
        ("person_id", "foedselsaar"),
        optional=True,
        optional_columns=("kjoenn", "bor_alene"),
        whole_rows=True,
    ),
)

TABLE_BY_NAME: dict[str, TableSpec] = {t.name: t for t in TABLES}
EVALUATION_TABLES: tuple[str, ...] = ("kartlegging", "personer")
"""The tables only the evaluation reads: the engine's commands load without them
(`load_input(..., evaluation=False)`), so that they cost a computation nothing."""

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
KJOENN: tuple[str, ...] = ("K", "M")  # personer.kjoenn: kvinne, mann (empty = unknown)
