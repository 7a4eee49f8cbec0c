"""The input tables of interfaces.md §1: their columns, and which are optional."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TableSpec:
    """One input table: its file stem, required columns and whether the file may be absent."""

    name: str
    columns: tuple[str, ...]
    optional: bool = False


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
