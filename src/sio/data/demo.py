"""The built-in demo data set: a complete input directory (interfaces.md §1) for `sio demo`.

It also holds the evaluation's tables (docs/evaluation-data.md): `personer` and `kartlegging` of
every person with a vedtak (`_person_tables`), and the trial's six control municipalities
(`CONTROL_AREAS`), which never participate. Both are added without changing a row of the other
tables: their draws are their own.

What is real and what is synthetic:

- Real (scheme.md §1): the municipality codes and names, the mergers and renumberings with their
  dates, which municipalities took part, in which model, from and to when, Indre Østfold's
  postponed activity financing and the end of the scheme on 2021-12-31.
- Synthetic (plausible, not official): persons and decisions (vedtak), net operating expenditure,
  population by age, toppfinansiering, employer-contribution zones and travel indices, and the
  organisation numbers (fictional, see `fictional_organisasjonsnummer`).

The synthetic world is built per *area*, a municipality as it was before the 2018/2020 mergers
(Hobøl, Askim, Os, Fusa …). An area has a population by age group for 2014–2024 and a stream of
care "spells" (a person receiving one service for a while) up to 2021-12-31, from its first year
with decisions: 2015 for the six first-call municipalities (their base year), 2020 for the areas
merged into a participant in 2020 (Askim, Eidsberg, Trøgstad, Fusa) and 2021 for the six that
joined in 2021. Spells are cut into decisions (re-evaluations change the volume), and every
decision is split wherever the area's municipality code changes, so that each `vedtak` row lies
within its municipality's validity. A municipality code's population and expenditure are the sums
over the areas it covers in that year.

Care expenditure is calibrated to the decisions. It follows the engine's growth index (deflator ×
age-weighted population) at the level where the decisions' value, priced with the unit prices of
scheme.md §6, is on average `CALIBRATION_RATIO` of it over the area's years with decisions. The
prices, deflators and weights are copied below *for calibrating the synthetic expenditure only*;
the engine reads its own parameters. The activity grant of a model A municipality therefore comes
out near 88 % of its extraction (roughly 80–97 % in single years of small municipalities). No
sampling: every synthetic user is in the file (sampling factor 1).

The output is deterministic: the same seed gives byte-identical files.
"""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from sio.data.tables import TABLES

__all__ = [
    "CALIBRATION_RATIO",
    "CALIBRATION_UNIT_PRICES_2016",
    "FILE_COLUMNS",
    "fictional_organisasjonsnummer",
    "write_demo_data",
]

# The files the demo writes, with the columns of interfaces.md §1 (`sio.data.tables`), optional
# ones (kommuner.organisasjonsnummer) included.
FILE_COLUMNS: dict[str, tuple[str, ...]] = {
    spec.name: spec.all_columns for spec in TABLES if spec.name != "prosjektkostnader"
}

CALIBRATION_RATIO = 0.88
"""Target ratio of an area's decision value (activity grant) to its care expenditure."""

FIRST_YEAR = 2014
LAST_YEAR = 2024
SIMULATION_END = date(2021, 12, 31)
EARLIEST_CODE_DATE = date(1838, 1, 1)
"""A conventional start for the oldest codes (the 1837 local-government acts), not a real date."""

AGE_GROUPS: tuple[str, ...] = ("0-66", "67-79", "80-89", "90+")
CARE_FUNCTIONS: tuple[str, ...] = ("234", "253", "254", "261")
_CARE_FUNCTION_SHARES: tuple[float, ...] = (0.06, 0.46, 0.41, 0.07)  # ± 10 % per code and year
IRRELEVANT_FUNCTION = "232"
"""Prevention, health stations and school health: not in the base; the engine must ignore it."""

# ---------------------------------------------------------------------------------------------
# Real facts: municipalities and participation (scheme.md §1). Zones and travel indices are
# synthetic.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Kommune:
    code: str
    name: str
    fra: date
    til: date | None
    successor: str | None
    aga_sone: str
    reiseindeks: float


def _d(text: str) -> date:
    return date.fromisoformat(text)


_E = EARLIEST_CODE_DATE
_END_2017 = _d("2017-12-31")
_END_2019 = _d("2019-12-31")
_END_2023 = _d("2023-12-31")
_NEW_2018 = _d("2018-01-01")
_NEW_2020 = _d("2020-01-01")
_NEW_2024 = _d("2024-01-01")

_KOMMUNER: tuple[_Kommune, ...] = (
    # Indre Østfold: five municipalities merged 2020, renumbered 2024.
    _Kommune("0122", "Trøgstad", _E, _END_2019, "3014", "1", 0.90),
    _Kommune("0123", "Spydeberg", _E, _END_2019, "3014", "1", 0.70),
    _Kommune("0124", "Askim", _E, _END_2019, "3014", "1", 0.30),
    _Kommune("0125", "Eidsberg", _E, _END_2019, "3014", "1", 0.60),
    _Kommune("0138", "Hobøl", _E, _END_2019, "3014", "1", 0.90),
    _Kommune("3014", "Indre Østfold", _NEW_2020, _END_2023, "3118", "1", 0.60),
    _Kommune("3118", "Indre Østfold", _NEW_2024, None, None, "1", 0.60),
    # Lillesand: new number 2020.
    _Kommune("0926", "Lillesand", _E, _END_2019, "4215", "1", 0.60),
    _Kommune("4215", "Lillesand", _NEW_2020, None, None, "1", 0.60),
    # Trøndelag: new numbers 2018.
    _Kommune("1714", "Stjørdal", _E, _END_2017, "5035", "1", 0.50),
    _Kommune("5035", "Stjørdal", _NEW_2018, None, None, "1", 0.50),
    _Kommune("1664", "Selbu", _E, _END_2017, "5032", "1a", 1.20),
    _Kommune("5032", "Selbu", _NEW_2018, None, None, "1a", 1.20),
    # Bjørnafjorden: Os and Fusa merged 2020.
    _Kommune("1241", "Fusa", _E, _END_2019, "4624", "1", 1.30),
    _Kommune("1243", "Os", _E, _END_2019, "4624", "1", 0.50),
    _Kommune("4624", "Bjørnafjorden", _NEW_2020, None, None, "1", 0.70),
    # The six municipalities that joined in 2021, with their history.
    _Kommune("1027", "Audnedal", _E, _END_2019, "4225", "1", 1.40),
    _Kommune("1032", "Lyngdal", _E, _END_2019, "4225", "1", 0.80),
    _Kommune("4225", "Lyngdal", _NEW_2020, None, None, "1", 0.90),
    _Kommune("0229", "Enebakk", _E, _END_2019, "3028", "1", 0.70),
    _Kommune("3028", "Enebakk", _NEW_2020, _END_2023, "3220", "1", 0.70),
    _Kommune("3220", "Enebakk", _NEW_2024, None, None, "1", 0.70),
    _Kommune("0919", "Froland", _E, _END_2019, "4214", "1", 0.90),
    _Kommune("4214", "Froland", _NEW_2020, None, None, "1", 0.90),
    _Kommune("1851", "Lødingen", _E, None, None, "4", 1.40),
    _Kommune("1247", "Askøy", _E, _END_2019, "4627", "1", 0.40),
    _Kommune("4627", "Askøy", _NEW_2020, None, None, "1", 0.40),
    _Kommune("0906", "Arendal", _E, _END_2019, "4203", "1", 0.30),
    _Kommune("4203", "Arendal", _NEW_2020, None, None, "1", 0.30),
    # The trial's control municipalities (never participating), with their history
    # (src/sio/data/kommunehistorikk.yaml). Trøgstad (0122) is above, with Indre Østfold.
    _Kommune("0528", "Østre Toten", _E, _END_2019, "3442", "1", 0.60),
    _Kommune("3442", "Østre Toten", _NEW_2020, None, None, "1", 0.60),
    _Kommune("1634", "Oppdal", _E, _END_2017, "5021", "1a", 1.10),
    _Kommune("5021", "Oppdal", _NEW_2018, None, None, "1a", 1.10),
    _Kommune("1018", "Søgne", _E, _END_2019, "4204", "1", 0.40),
    _Kommune("4204", "Kristiansand", _NEW_2020, None, None, "1", 0.20),
    _Kommune("1246", "Fjell", _E, _END_2019, "4626", "1", 0.50),
    _Kommune("4626", "Øygarden", _NEW_2020, None, None, "1", 0.70),
    _Kommune("0137", "Våler (Østfold)", _E, _END_2019, "3018", "1", 0.80),
    _Kommune("3018", "Våler (Østfold)", _NEW_2020, _END_2023, "3114", "1", 0.80),
    _Kommune("3114", "Våler (Østfold)", _NEW_2024, None, None, "1", 0.80),
)
_KOMMUNE_BY_CODE: dict[str, _Kommune] = {k.code: k for k in _KOMMUNER}

_ORGNR_WEIGHTS: tuple[int, ...] = (3, 2, 7, 6, 5, 4, 3, 2)


def fictional_organisasjonsnummer(code: str) -> str:
    """A FICTIONAL organisation number for municipality code `code`: "10", the four digits of
    the code, "0", a digit and the mod-11 check digit ("0301" → "100301008").

    Not the municipality's real number, and not anyone's: Brønnøysundregistrene issue
    organisation numbers in the 8xx and 9xx series, never one beginning with 1. The digit before
    the check digit is the smallest (0 or 1) that gives a check digit other than 10."""
    if len(code) != 4 or not code.isdigit():
        raise ValueError(f"not a municipality code: {code!r}")
    for last in "01":
        body = f"10{code}0{last}"
        rest = sum(w * int(d) for w, d in zip(_ORGNR_WEIGHTS, body, strict=True)) % 11
        check = (11 - rest) % 11
        if check != 10:
            return f"{body}{check}"
    raise AssertionError("unreachable: two consecutive bodies never both give check digit 10")


def _orgnr_code(k: _Kommune) -> str:
    """The code whose (fictional) organisation number `k` has. A municipality that only got a new
    number (one predecessor: Lillesand 0926 → 4215, Enebakk 0229 → 3028 → 3220) is the same legal
    entity and keeps its number; a merger (several predecessors) gets a new one here."""
    preds = [p for p in _KOMMUNER if p.successor == k.code]
    return _orgnr_code(preds[0]) if len(preds) == 1 else k.code


@dataclass(frozen=True)
class _Participation:
    code: str
    model: str
    fra: date
    til: date
    aktivitet_fra: date | None


def _p(
    code: str, model: str, fra: str, til: str, aktivitet_fra: str | None = None
) -> _Participation:
    return _Participation(
        code, model, _d(fra), _d(til), _d(aktivitet_fra) if aktivitet_fra else None
    )


_DELTAKELSE: tuple[_Participation, ...] = (
    # First call, from 2016-05-01.
    _p("0138", "A", "2016-05-01", "2019-12-31"),
    _p("0926", "A", "2016-05-01", "2019-12-31"),
    _p("1243", "A", "2016-05-01", "2019-12-31"),
    _p("1714", "A", "2016-05-01", "2017-12-31"),
    _p("5035", "A", "2018-01-01", "2021-12-31"),
    _p("1664", "B", "2016-05-01", "2017-12-31"),
    _p("5032", "B", "2018-01-01", "2019-05-31"),
    _p("5032", "A", "2019-06-01", "2021-12-31", "2019-06-01"),
    _p("0123", "B", "2016-05-01", "2019-05-31"),
    _p("0123", "A", "2019-06-01", "2019-12-31"),
    # After the 2020 mergers; Indre Østfold's activity financing postponed (Covid-19).
    _p("4215", "A", "2020-01-01", "2021-12-31"),
    _p("4624", "A", "2020-01-01", "2021-12-31"),
    _p("3014", "A", "2020-01-01", "2021-12-31", "2021-01-01"),
    # The six that joined in 2021.
    _p("4225", "A", "2021-01-01", "2021-12-31"),
    _p("3028", "A", "2021-01-01", "2021-12-31"),
    _p("4214", "A", "2021-01-01", "2021-12-31"),
    _p("1851", "A", "2021-01-01", "2021-12-31"),
    _p("4627", "A", "2021-01-01", "2021-12-31"),
    _p("4203", "A", "2021-01-01", "2021-12-31"),
)

# ---------------------------------------------------------------------------------------------
# Synthetic areas: population level near the real one, everything else invented.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Area:
    code: str  # the area's oldest code; it follows the successor chain from there
    population_2014: int
    growth: float  # yearly population growth
    share_67: float  # share aged 67 and over in 2014
    first_year: int  # first year with simulated decisions
    # A control municipality that merged ends with its last day as a municipality of its own:
    # no decision, population or expenditure after it.
    end: date | None = None
    key: str = ""  # the area's name in seeds and tables when it is not its code
    population: bool = True  # False: its own decisions only (the code's population is another's)

    @property
    def id(self) -> str:
        return self.key or self.code


_AREAS: tuple[_Area, ...] = (
    _Area("0122", 5_300, 0.003, 0.18, 2020),  # Trøgstad
    _Area("0123", 5_900, 0.009, 0.16, 2015),  # Spydeberg
    _Area("0124", 16_000, 0.009, 0.17, 2020),  # Askim
    _Area("0125", 11_400, 0.005, 0.19, 2020),  # Eidsberg
    _Area("0138", 5_600, 0.010, 0.15, 2015),  # Hobøl
    _Area("0229", 11_000, 0.006, 0.15, 2021),  # Enebakk
    _Area("0906", 45_000, 0.004, 0.16, 2021),  # Arendal
    _Area("0919", 6_000, 0.010, 0.15, 2021),  # Froland
    _Area("0926", 11_000, 0.008, 0.17, 2015),  # Lillesand
    _Area("1027", 1_800, 0.002, 0.18, 2021),  # Audnedal
    _Area("1032", 8_000, 0.008, 0.17, 2021),  # Lyngdal
    _Area("1241", 3_900, 0.000, 0.19, 2020),  # Fusa
    _Area("1243", 20_000, 0.018, 0.13, 2015),  # Os
    _Area("1247", 29_000, 0.010, 0.14, 2021),  # Askøy
    _Area("1664", 4_100, 0.002, 0.19, 2015),  # Selbu
    _Area("1714", 24_000, 0.011, 0.14, 2015),  # Stjørdal
    _Area("1851", 2_100, -0.005, 0.20, 2021),  # Lødingen
    # The control municipalities, from 2015 like the first-call participants. Søgne, Fjell and
    # Trøgstad end as municipalities of their own on 2019-12-31 (mergers); Trøgstad's area above
    # is simulated from 2020 as part of Indre Østfold and keeps the code's population.
    _Area("0528", 14_700, 0.002, 0.20, 2015),  # Østre Toten
    _Area("1634", 6_800, 0.004, 0.19, 2015),  # Oppdal
    _Area("1018", 11_000, 0.011, 0.15, 2015, _END_2019),  # Søgne
    _Area("1246", 25_000, 0.013, 0.12, 2015, _END_2019),  # Fjell
    _Area("0137", 5_300, 0.008, 0.18, 2015),  # Våler (Østfold)
    _Area("0122", 5_300, 0.003, 0.18, 2015, _END_2019, "0122-kontroll", False),  # Trøgstad
)
CONTROL_AREAS: tuple[str, ...] = ("0528", "1634", "1018", "1246", "0122-kontroll", "0137")
"""The areas of the trial's six control municipalities (scheme.md §1)."""

# ---------------------------------------------------------------------------------------------
# Services (scheme.md §6). Prices copied for calibrating the synthetic expenditure only.
# ---------------------------------------------------------------------------------------------

CALIBRATION_UNIT_PRICES_2016: dict[str, dict[str, float]] = {
    "HJSPL": {"STANDARD": 720.0},
    "PB_DAGL": {"STANDARD": 520.0},
    "PB_OPPL": {"STANDARD": 560.0},
    "BPA": {"STANDARD": 390.0},
    "OMSORGSSTOENAD": {"STANDARD": 210.0},
    "STOETTEKONTAKT": {"STANDARD": 260.0},
    "AVLASTNING_INST": {"STANDARD": 3_100.0},
    "AVLASTNING_UTENFOR": {"STANDARD": 2_600.0},
    "BOLIG_HELDOEGN": {"STANDARD": 2_500.0},
    "INST_KORT": {
        "STANDARD": 3_400.0,
        "UTREDNING": 3_500.0,
        "REHABILITERING": 3_800.0,
        "LINDRENDE": 4_200.0,
    },
    "INST_LANG": {"STANDARD": 3_100.0, "SKJERMET": 3_500.0, "FORSTERKET": 4_300.0},
}
"""Unit prices in 2016 kroner (scheme.md §6), for calibrating the synthetic expenditure only."""

_CALIBRATION_DEFLATOR: dict[int, float] = {
    2016: 0.027,
    2017: 0.025,
    2018: 0.030,
    2019: 0.030,
    2020: 0.031,
    2021: 0.030,
    2022: 0.025,
}
_CALIBRATION_COST_WEIGHTS: tuple[float, float, float, float] = (
    3_000.0,
    20_000.0,
    110_000.0,
    300_000.0,
)
_CALIBRATION_AGA: dict[str, float] = {
    "1": 0.141,
    "1a": 0.106,
    "2": 0.106,
    "3": 0.064,
    "4": 0.051,
    "4a": 0.079,
    "5": 0.0,
}
_CALIBRATION_AGA_REF = 0.141
_CALIBRATION_WAGE_SHARE = 0.80
_CALIBRATION_TRAVEL_FACTOR = 0.10
_HOME_BASED: frozenset[str] = frozenset({"HJSPL", "PB_DAGL", "PB_OPPL"})
_STAY_OPEN: frozenset[str] = frozenset({"INST_LANG", "BOLIG_HELDOEGN", "TRYGGHETSALARM"})


@dataclass(frozen=True)
class _Profile:
    """How often a service starts and how long it lasts, in the synthetic world."""

    service: str
    starts: tuple[float, float, float, float]  # new spells per inhabitant and year, by age group
    mean_years: float  # mean spell length (exponential); 0 = a short stay of 5–30 days
    redecisions_per_year: float  # re-evaluations that give a new decision with a new volume
    attach_to: tuple[str, ...] = ()  # services whose users may also get this one
    attach_share: float = 0.0


# Order matters: a profile can only attach to services generated before it, and long-term
# stays (INST_LANG) end the home-based services of the persons they are attached to.
_PROFILES: tuple[_Profile, ...] = (
    _Profile("HJSPL", (0.0008, 0.020, 0.073, 0.133), 3.0, 0.1),
    _Profile("PB_DAGL", (0.0009, 0.0056, 0.026, 0.043), 3.5, 0.1, ("HJSPL",), 0.5),
    _Profile("PB_OPPL", (0.0010, 0.002, 0.002, 0.002), 1.0, 0.2),
    _Profile("TRYGGHETSALARM", (0.0, 0.003, 0.018, 0.035), 3.0, 0.0, ("HJSPL", "PB_DAGL"), 0.6),
    _Profile("MATOMBRINGING", (0.0, 0.0013, 0.011, 0.021), 1.5, 0.0, ("HJSPL",), 0.7),
    _Profile("DAGAKTIVITET", (0.0001, 0.002, 0.008, 0.008), 2.0, 0.0, ("HJSPL",), 0.5),
    _Profile("INST_KORT", (0.0004, 0.020, 0.080, 0.120), 0.0, 0.0, ("HJSPL",), 0.7),
    _Profile("INST_LANG", (0.00009, 0.0035, 0.026, 0.096), 2.3, 0.05, ("HJSPL", "INST_KORT"), 0.6),
    _Profile("BOLIG_HELDOEGN", (0.0003, 0.001, 0.003, 0.004), 5.0, 0.0),
    _Profile("BPA", (0.00014, 0.0001, 0.0001, 0.0001), 5.0, 0.3),
    _Profile("OMSORGSSTOENAD", (0.0004, 0.00067, 0.00067, 0.00067), 3.0, 0.4),
    _Profile("AVLASTNING_INST", (0.0002, 0.0005, 0.0005, 0.0), 3.0, 0.6, ("OMSORGSSTOENAD",), 0.5),
    _Profile("AVLASTNING_UTENFOR", (0.00027, 0.0001, 0.0, 0.0), 3.0, 0.6, ("OMSORGSSTOENAD",), 0.5),
    _Profile("STOETTEKONTAKT", (0.0009, 0.0003, 0.0001, 0.0), 2.5, 0.2, ("BOLIG_HELDOEGN",), 0.3),
)

# Hour-based volumes: (low, high, mode) in hours per week, and the share decided per month.
_HOUR_VOLUMES: dict[str, tuple[float, float, float, float]] = {
    "HJSPL": (1.0, 15.0, 2.5, 0.10),
    "PB_DAGL": (1.0, 6.0, 1.5, 0.10),
    "PB_OPPL": (1.0, 8.0, 2.0, 0.10),
    "BPA": (10.0, 60.0, 20.0, 0.15),
    "OMSORGSSTOENAD": (2.0, 20.0, 6.0, 0.60),
    "STOETTEKONTAKT": (1.0, 5.0, 2.0, 0.50),
}
_WEEKS_PER_MONTH = 4.3
_PRICE_GROUPS: dict[str, tuple[tuple[str, float], ...]] = {
    "INST_KORT": (("", 0.55), ("UTREDNING", 0.15), ("REHABILITERING", 0.20), ("LINDRENDE", 0.10)),
    "INST_LANG": (("", 0.70), ("SKJERMET", 0.22), ("FORSTERKET", 0.08)),
}


@dataclass
class _Spell:
    person: str
    service: str
    start: int  # date ordinal
    end: int  # date ordinal, inclusive; may lie after SIMULATION_END
    prisgruppe: str
    removed: bool = False


@dataclass(frozen=True)
class _Row:
    """One vedtak row before ids are given: a decision piece within one municipality code."""

    kommunenummer: str
    person: str
    service: str
    prisgruppe: str
    enhet: str
    omfang: float
    fra: int
    til: int | None


# ---------------------------------------------------------------------------------------------
# Population
# ---------------------------------------------------------------------------------------------


def _area_population(area: _Area, rng: random.Random) -> dict[int, tuple[int, int, int, int]]:
    """Population on 1 January by age group, 2014–2024: slow growth and slow ageing.

    Relative to the total, the group 67–79 grows 2.5 % a year (the post-war cohorts), 90+ 1 %,
    and 80–89 keeps its share.
    """
    out: dict[int, tuple[int, int, int, int]] = {}
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        t = year - FIRST_YEAR
        total = area.population_2014 * (1.0 + area.growth) ** t * (1.0 + rng.gauss(0.0, 0.002))
        n67 = round(total * area.share_67 * 0.680 * 1.025**t)
        n80 = round(total * area.share_67 * 0.265)
        n90 = round(total * area.share_67 * 0.055 * 1.010**t)
        out[year] = (round(total) - n67 - n80 - n90, n67, n80, n90)
    return out


# ---------------------------------------------------------------------------------------------
# Spells, decisions and pieces
# ---------------------------------------------------------------------------------------------


def _count(rng: random.Random, expected: float) -> int:
    """A Poisson-like count (normal approximation), never negative."""
    if expected <= 0.0:
        return 0
    return max(0, round(rng.gauss(expected, math.sqrt(expected))))


def _draw_group(rng: random.Random, service: str) -> str:
    groups = _PRICE_GROUPS.get(service)
    if groups is None:
        return ""
    r = rng.random()
    acc = 0.0
    for name, share in groups:
        acc += share
        if r < acc:
            return name
    return groups[0][0]


def _draw_volume(rng: random.Random, service: str) -> tuple[str, float]:
    """The unit and first volume of a spell."""
    if service in _HOUR_VOLUMES:
        low, high, mode, monthly = _HOUR_VOLUMES[service]
        if service == "HJSPL":
            weekly = min(high, max(low, rng.lognormvariate(math.log(3.5), 0.6)))
        else:
            weekly = rng.triangular(low, high, mode)
        if rng.random() < monthly:
            return "timer_per_maaned", round(weekly * _WEEKS_PER_MONTH, 1)
        return "timer_per_uke", round(weekly, 1)
    if service in ("AVLASTNING_INST", "AVLASTNING_UTENFOR"):
        # An average share of a place: 0.2 ≈ six days a month.
        return "doegn", round(rng.triangular(0.1, 0.5, 0.2), 1)
    if service in ("BOLIG_HELDOEGN", "INST_KORT", "INST_LANG"):
        return "doegn", 1.0
    if service == "DAGAKTIVITET":
        return "per_maaned", float(rng.choice((4, 8, 8, 12)))
    if service == "MATOMBRINGING":
        return "per_maaned", float(rng.choice((8, 12, 20, 30)))
    return "per_maaned", 1.0  # TRYGGHETSALARM


def _next_volume(rng: random.Random, service: str, enhet: str, omfang: float) -> float:
    """The volume after a re-evaluation: needs mostly grow."""
    if enhet == "doegn" and service not in ("AVLASTNING_INST", "AVLASTNING_UTENFOR"):
        return omfang
    if enhet == "per_maaned":
        return omfang
    factor = rng.uniform(0.85, 1.35)
    if service in _HOUR_VOLUMES:
        low, high, _, _ = _HOUR_VOLUMES[service]
        scale = _WEEKS_PER_MONTH if enhet == "timer_per_maaned" else 1.0
        return round(min(high * scale, max(low * scale, omfang * factor)), 1)
    return round(min(0.5, max(0.1, omfang * factor)), 1)


class _PersonIds:
    """Pseudonymous person ids: 'P' and ten hexadecimal digits, unique, never a national id."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def new(self, rng: random.Random) -> str:
        while True:
            pid = f"P{rng.getrandbits(40):010x}"
            if pid not in self._seen:
                self._seen.add(pid)
                return pid


def _simulate_area(
    area: _Area,
    population: dict[int, tuple[int, int, int, int]],
    rng: random.Random,
    ids: _PersonIds,
) -> list[_Spell]:
    """All spells of an area that are in force on or after 1 January of its first year.

    The spells in force on that day (the initial stock) have the stationary distribution of
    exponential lengths: as many as start in a year × the mean length, each begun an
    exponentially distributed time before and lasting an exponentially distributed time after.
    Then spells start through the years up to 2021. Short stays start a year early instead.
    """
    window_start = date(area.first_year, 1, 1).toordinal()
    horizon = SIMULATION_END.toordinal()
    by_service: dict[str, list[_Spell]] = {}
    by_person: dict[str, list[_Spell]] = {}

    def expected_starts(profile: _Profile, year: int) -> float:
        pop = population[min(max(year, FIRST_YEAR), LAST_YEAR)]
        return sum(n * r for n, r in zip(pop, profile.starts, strict=True))

    def add(profile: _Profile, spells: list[_Spell], start: int, end: int) -> None:
        spell = _Spell("", profile.service, start, end, _draw_group(rng, profile.service))
        spell.person = _attach(rng, spell, profile, by_service, by_person) or ids.new(rng)
        by_person.setdefault(spell.person, []).append(spell)
        if profile.service == "INST_LANG":
            _end_home_services(spell, by_person[spell.person])
        spells.append(spell)

    for profile in _PROFILES:
        spells: list[_Spell] = []
        by_service[profile.service] = spells
        first_year = area.first_year
        if profile.mean_years == 0.0:
            first_year -= 1
        else:
            mean_days = profile.mean_years * 365.0
            stock = expected_starts(profile, area.first_year - 1) * profile.mean_years
            for _ in range(_count(rng, stock)):
                begun = round(rng.expovariate(1.0 / mean_days))
                left = max(1, round(rng.expovariate(1.0 / mean_days)))
                add(profile, spells, window_start - begun, window_start + left - 1)
        for year in range(first_year, SIMULATION_END.year + 1):
            first_day, last_day = _year_bounds(year)
            for _ in range(_count(rng, expected_starts(profile, year))):
                start = first_day + rng.randrange(last_day - first_day + 1)
                if profile.mean_years == 0.0:
                    length = rng.randint(5, 30)
                else:
                    length = max(14, round(rng.expovariate(1.0 / (profile.mean_years * 365.0))))
                add(profile, spells, start, start + length - 1)
    return [
        s
        for spells in by_service.values()
        for s in spells
        if not s.removed and s.end >= window_start and s.start <= horizon
    ]


def _attach(
    rng: random.Random,
    spell: _Spell,
    profile: _Profile,
    by_service: dict[str, list[_Spell]],
    by_person: dict[str, list[_Spell]],
) -> str | None:
    """A person who already receives a related service on the spell's first day, if one fits."""
    if not profile.attach_to or rng.random() >= profile.attach_share:
        return None
    pools = [by_service.get(name, []) for name in profile.attach_to]
    total = sum(len(pool) for pool in pools)
    if total == 0:
        return None
    for _ in range(15):
        index = rng.randrange(total)
        for pool in pools:
            if index < len(pool):
                break
            index -= len(pool)
        host = pool[index]
        if host.removed or not host.start <= spell.start <= host.end:
            continue
        others = by_person[host.person]
        if any(
            o.service in (spell.service, "INST_LANG")
            and not o.removed
            and o.start <= spell.end
            and spell.start <= o.end
            for o in others
        ):
            continue
        return host.person
    return None


def _end_home_services(stay: _Spell, spells: list[_Spell]) -> None:
    """A long-term stay ends the person's home-based services and later short stays."""
    for s in spells:
        if s is stay or s.service in ("INST_LANG", "BOLIG_HELDOEGN"):
            continue
        if s.start >= stay.start:
            s.removed = True
        elif s.end >= stay.start:
            s.end = stay.start - 1


def _decisions(
    rng: random.Random, spell: _Spell, profile: _Profile, window_start: int
) -> list[tuple[int, int | None, str, float]]:
    """A spell cut into decisions (fra, til or None = open, unit, volume)."""
    horizon = SIMULATION_END.toordinal()
    enhet, omfang = _draw_volume(rng, spell.service)
    out: list[tuple[int, int | None, str, float]] = []
    fra = spell.start
    while fra <= spell.end and fra <= horizon:
        if profile.redecisions_per_year > 0.0:
            mean_days = 365.0 / profile.redecisions_per_year
            til = min(spell.end, fra + max(60, round(rng.expovariate(1.0 / mean_days))) - 1)
        else:
            til = spell.end
        if til >= window_start:
            closed: int | None = til
            # Still in force at the end of the data: long stays stay open, other decisions
            # keep a planned end or are open ("until further notice"); short stays always end.
            if (
                til > horizon
                and spell.service != "INST_KORT"
                and (spell.service in _STAY_OPEN or til > horizon + 730 or rng.random() < 0.5)
            ):
                closed = None
            out.append((fra, closed, enhet, omfang))
        fra = til + 1
        omfang = _next_volume(rng, spell.service, enhet, omfang)
    return out


def _code_chain(code: str) -> list[_Kommune]:
    chain = [_KOMMUNE_BY_CODE[code]]
    while chain[-1].successor is not None:
        chain.append(_KOMMUNE_BY_CODE[chain[-1].successor or ""])
    return chain


def _split_by_code(
    chain: Sequence[_Kommune], fra: int, til: int | None
) -> list[tuple[str, int, int | None]]:
    """The parts of [fra, til] within each code's validity; an open end stays open only in a code
    that still exists."""
    out: list[tuple[str, int, int | None]] = []
    for k in chain:
        k_fra = k.fra.toordinal()
        k_til = k.til.toordinal() if k.til is not None else None
        lo = max(fra, k_fra)
        if til is None:
            hi = k_til
        elif k_til is None:
            hi = til
        else:
            hi = min(til, k_til)
        if hi is None or lo <= hi:
            out.append((k.code, lo, hi))
    return out


# ---------------------------------------------------------------------------------------------
# Calibration: the value of decisions, priced as the engine would (approximately)
# ---------------------------------------------------------------------------------------------


@cache
def _price_factor(year: int) -> float:
    """Price level of `year` relative to 2016 (backwards with the 2016 deflator)."""
    factor = 1.0
    if year < 2016:
        return (1.0 + _CALIBRATION_DEFLATOR[2016]) ** (year - 2016)
    for t in range(2017, year + 1):
        factor *= 1.0 + _CALIBRATION_DEFLATOR.get(t, _CALIBRATION_DEFLATOR[2022])
    return factor


def _daily_value_2016(row: _Row) -> float:
    """Value per day in force, in 2016 kroner, with the zone and travel corrections."""
    prices = CALIBRATION_UNIT_PRICES_2016.get(row.service)
    if prices is None:
        return 0.0
    price = prices[row.prisgruppe or "STANDARD"]
    kommune = _KOMMUNE_BY_CODE[row.kommunenummer]
    k_aga = 1.0 + _CALIBRATION_WAGE_SHARE * (
        _CALIBRATION_AGA[kommune.aga_sone] - _CALIBRATION_AGA_REF
    ) / (1.0 + _CALIBRATION_AGA_REF)
    k_reise = 1.0 + _CALIBRATION_TRAVEL_FACTOR * kommune.reiseindeks
    if row.service not in _HOME_BASED:
        k_reise = 1.0
    if row.enhet == "timer_per_uke":
        volume = row.omfang / 7.0
    elif row.enhet == "timer_per_maaned":
        volume = row.omfang * 12.0 / 365.0
    else:
        volume = row.omfang
    return volume * price * k_aga * k_reise


def _add_value(values: dict[int, float], row: _Row, first_year: int) -> None:
    daily = _daily_value_2016(row)
    if daily == 0.0:
        return
    til = row.til if row.til is not None else SIMULATION_END.toordinal()
    for year in range(first_year, SIMULATION_END.year + 1):
        year_first, year_last = _year_bounds(year)
        lo = max(row.fra, year_first)
        hi = min(til, year_last)
        if lo <= hi:
            values[year] = values.get(year, 0.0) + daily * (hi - lo + 1) * _price_factor(year)


@cache
def _year_bounds(year: int) -> tuple[int, int]:
    return date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal()


def _care_index(population: tuple[int, int, int, int], year: int) -> float:
    """Price level × age-weighted population: how the engine grows a base (scheme.md §3.1)."""
    weighted = sum(n * w for n, w in zip(population, _CALIBRATION_COST_WEIGHTS, strict=True))
    return _price_factor(year) * weighted


def _calibrated_care(
    values: dict[int, float], population: dict[int, tuple[int, int, int, int]], rng: random.Random
) -> dict[int, float]:
    """Care expenditure 2014–2024 that follows the engine's index, at a level where the decisions'
    value is `CALIBRATION_RATIO` of it on (geometric) average over the simulated years.

    Following the index rather than each year's value keeps a noisy base year (few long-term
    residents in a small municipality) from tilting the ratio in every later year.
    """
    logs = [math.log(v / _care_index(population[y], y)) for y, v in sorted(values.items())]
    level = math.exp(sum(logs) / len(logs)) / CALIBRATION_RATIO
    return {
        year: level * _care_index(population[year], year) * rng.gauss(1.0, 0.015)
        for year in range(FIRST_YEAR, LAST_YEAR + 1)
    }


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


@cache
def _iso(ordinal: int | None) -> str:
    return "" if ordinal is None else date.fromordinal(ordinal).isoformat()


def _fmt_date(day: date | None) -> str:
    return "" if day is None else day.isoformat()


def _valid_years(k: _Kommune) -> range:
    """Years 2014–2024 on whose 1 January the code is valid."""
    first = max(FIRST_YEAR, k.fra.year + (0 if (k.fra.month, k.fra.day) == (1, 1) else 1))
    last = LAST_YEAR if k.til is None else min(LAST_YEAR, k.til.year)
    return range(first, last + 1)


def _areas_of(code: str, year: int) -> list[_Area]:
    jan1 = date(year, 1, 1)
    out = []
    for area in _AREAS:
        if not area.population or (area.end is not None and jan1 > area.end):
            continue
        for k in _code_chain(area.code):
            if k.fra <= jan1 and (k.til is None or jan1 <= k.til):
                if k.code == code:
                    out.append(area)
                break
    return out


def _write_csv(path: Path, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> int:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
    return len(rows)


def _split_integer(total: int, weights: Sequence[float]) -> list[int]:
    """`total` split by `weights` into whole numbers that add up to `total`."""
    s = sum(weights)
    parts = [math.floor(total * w / s) for w in weights[:-1]]
    parts.append(total - sum(parts))
    return parts


def write_demo_data(out_dir: Path, seed: int = 2016) -> dict[str, int]:
    """Write the demo input directory (six CSV files and LESMEG.txt) to `out_dir`.

    Returns the number of data rows per table (file stem, e.g. ``"vedtak"``). The same seed
    always gives byte-identical files.
    """
    out_dir.mkdir(parents=True, exist_ok=True)

    def rng_for(label: str) -> random.Random:
        return random.Random(f"sio-demo:{seed}:{label}")

    area_pop = {a.id: _area_population(a, rng_for(f"pop:{a.id}")) for a in _AREAS}
    rows, area_value = _simulate_vedtak(area_pop, rng_for)
    area_care = {
        a.id: _calibrated_care(area_value[a.id], area_pop[a.id], rng_for(f"utgifter:{a.id}"))
        for a in _AREAS
    }
    tables: dict[str, list[list[str]]] = {
        "kommuner": _kommuner_table(),
        "deltakelse": _deltakelse_table(),
        **_code_tables(area_pop, area_care, rng_for),
        "vedtak": _vedtak_table(rows),
        **_person_tables(rows, seed),
    }
    counts = {
        name: _write_csv(out_dir / f"{name}.csv", FILE_COLUMNS[name], tables[name])
        for name in FILE_COLUMNS
    }
    (out_dir / "LESMEG.txt").write_text(_readme(seed, counts), encoding="utf-8", newline="\n")
    return counts


def _simulate_vedtak(
    area_pop: dict[str, dict[int, tuple[int, int, int, int]]],
    rng_for: Callable[[str], random.Random],
) -> tuple[list[_Row], dict[str, dict[int, float]]]:
    """Decision rows of every area (split per municipality code) and their value per year."""
    ids = _PersonIds()
    profiles = {p.service: p for p in _PROFILES}
    rows: list[_Row] = []
    area_value: dict[str, dict[int, float]] = {}
    for area in _AREAS:
        rng = rng_for(f"vedtak:{area.id}")
        chain = _code_chain(area.code)
        window_start = date(area.first_year, 1, 1).toordinal()
        values: dict[int, float] = {}
        for spell in _simulate_area(area, area_pop[area.id], rng, ids):
            profile = profiles[spell.service]
            for fra, til, enhet, omfang in _decisions(rng, spell, profile, window_start):
                for code, lo, hi in _split_by_code(chain, fra, til):
                    if hi is not None and hi < window_start:
                        continue  # a part before the simulated years
                    if area.end is not None:  # a control that merged: cut at its end
                        end = area.end.toordinal()
                        if lo > end:
                            continue
                        hi = end if hi is None else min(hi, end)
                    person, service, group = spell.person, spell.service, spell.prisgruppe
                    row = _Row(code, person, service, group, enhet, omfang, lo, hi)
                    rows.append(row)
                    _add_value(values, row, area.first_year)
        area_value[area.id] = values
    return rows, area_value


def _kommuner_table() -> list[list[str]]:
    return [
        [
            k.code,
            k.name,
            _fmt_date(k.fra),
            _fmt_date(k.til),
            k.aga_sone,
            f"{k.reiseindeks:.2f}",
            k.successor or "",
            fictional_organisasjonsnummer(_orgnr_code(k)),
        ]
        for k in sorted(_KOMMUNER, key=lambda k: k.code)
    ]


def _deltakelse_table() -> list[list[str]]:
    return [
        [p.code, p.model, _fmt_date(p.fra), _fmt_date(p.til), _fmt_date(p.aktivitet_fra), "true"]
        for p in sorted(_DELTAKELSE, key=lambda p: (p.code, p.fra))
    ]


def _code_tables(
    area_pop: dict[str, dict[int, tuple[int, int, int, int]]],
    area_care: dict[str, dict[int, float]],
    rng_for: Callable[[str], random.Random],
) -> dict[str, list[list[str]]]:
    """befolkning, utgifter and toppfinansiering: per code and year, summed over its areas."""
    befolkning: list[list[str]] = []
    utgifter: list[list[str]] = []
    toppfinansiering: list[list[str]] = []
    participation_years = {
        (p.code, y) for p in _DELTAKELSE for y in range(p.fra.year, p.til.year + 1)
    }
    for k in sorted(_KOMMUNER, key=lambda k: k.code):
        rng = rng_for(f"kode:{k.code}")
        for year in _valid_years(k):
            areas = _areas_of(k.code, year)
            if not areas:
                continue  # a successor of a merged control, in the data for its links only
            pop = [sum(area_pop[a.id][year][i] for a in areas) for i in range(4)]
            for group, n in zip(AGE_GROUPS, pop, strict=True):
                befolkning.append([k.code, str(year), group, str(n)])
            inhabitants = sum(pop)
            care_total = round(sum(area_care[a.id][year] for a in areas))
            weights = [w * rng.uniform(0.9, 1.1) for w in _CARE_FUNCTION_SHARES]
            by_function = dict(
                zip(CARE_FUNCTIONS, _split_integer(care_total, weights), strict=True)
            )
            per_inhabitant = 1_000.0 * 1.04 ** (year - FIRST_YEAR) * rng.uniform(0.85, 1.15)
            by_function[IRRELEVANT_FUNCTION] = round(inhabitants * per_inhabitant)
            for function in sorted(by_function):
                utgifter.append([k.code, str(year), function, str(by_function[function])])
            if (k.code, year) in participation_years:
                beloep = round(inhabitants * rng.uniform(300.0, 550.0))
                toppfinansiering.append([k.code, str(year), str(beloep)])
    return {
        "utgifter": utgifter,
        "befolkning": befolkning,
        "toppfinansiering": toppfinansiering,
    }


def _vedtak_table(rows: list[_Row]) -> list[list[str]]:
    """Rows sorted by code, start and person, with ids numbered per code (V0138-000001)."""

    def key(r: _Row) -> tuple[str, int, str, str, int, str, str, float]:
        til = r.til if r.til is not None else 10**9
        return (r.kommunenummer, r.fra, r.person, r.service, til, r.prisgruppe, r.enhet, r.omfang)

    out: list[list[str]] = []
    counter: dict[str, int] = {}
    for r in sorted(rows, key=key):
        n = counter[r.kommunenummer] = counter.get(r.kommunenummer, 0) + 1
        out.append(
            [
                f"V{r.kommunenummer}-{n:06d}",
                r.person,
                r.kommunenummer,
                r.service,
                r.prisgruppe,
                f"{r.omfang:.1f}",
                r.enhet,
                _iso(r.fra),
                _iso(r.til),
            ]
        )
    return out


# Need level by what a person receives (noe/avgrenset, middels til stort, omfattende): SSB's
# users by need level and service (tables 11642/12003, approximate; docs/synthetic-data.md).
_NEED_BY_SERVICE: tuple[tuple[frozenset[str], tuple[float, float, float]], ...] = (
    (frozenset({"INST_LANG"}), (0.02, 0.15, 0.83)),
    (
        frozenset({"BOLIG_HELDOEGN", "BPA", "AVLASTNING_INST", "AVLASTNING_UTENFOR"}),
        (0.1, 0.35, 0.55),
    ),
    (frozenset({"INST_KORT"}), (0.12, 0.40, 0.48)),
)
_NEED_BY_HOURS: tuple[tuple[float, tuple[float, float, float]], ...] = (
    (3.0, (0.70, 0.25, 0.05)),
    (8.0, (0.30, 0.55, 0.15)),
    (float("inf"), (0.10, 0.40, 0.50)),
)
_NEED_OTHERWISE = (0.60, 0.30, 0.10)
# Age group by the service a person starts with: the services' start rates by age (_PROFILES)
# times the share of the age group in the population (about 80 / 13 / 5 / 1.5 %).
_AGE_SHARES = (0.80, 0.135, 0.05, 0.015)
_AGE_RANGES = ((5, 66), (67, 79), (80, 89), (90, 103))
_WOMEN = (0.48, 0.55, 0.63, 0.73)
_ALONE = (0.40, 0.48, 0.62, 0.72)


def _pick(rng: random.Random, weights: Sequence[float]) -> int:
    r = rng.random() * sum(weights)
    for i, w in enumerate(weights):
        r -= w
        if r < 0:
            return i
    return len(weights) - 1


def _person_tables(rows: list[_Row], seed: int) -> dict[str, list[list[str]]]:
    """`personer` and `kartlegging` (docs/evaluation-data.md) of every person with a vedtak: an
    age group drawn from the service the person starts with, a need level from the services and
    home hours the person receives, a year of birth within the age group, and one assessment 0–60
    days before the person's first decision whose 17 scores give exactly that need level. Drawn
    after, and apart from, everything else: the other files do not depend on them."""
    import numpy as np
    import polars as pl

    from sio.data.synth_evaluation import assessment_scores

    rng = random.Random(f"sio-demo:{seed}:personer")
    profiles = {p.service: p for p in _PROFILES}
    by_person: dict[str, list[_Row]] = {}
    for r in sorted(rows, key=lambda r: (r.person, r.fra, r.kommunenummer, r.service)):
        by_person.setdefault(r.person, []).append(r)
    personer: list[list[str]] = []
    dates: list[date] = []
    codes: list[str] = []
    needs: list[int] = []
    for person, own in sorted(by_person.items()):
        first = own[0]
        starts = profiles[first.service].starts
        age = _pick(rng, [a * b for a, b in zip(_AGE_SHARES, starts, strict=True)])
        services = {r.service for r in own}
        hours = sum(
            r.omfang if r.enhet == "timer_per_uke" else r.omfang / _WEEKS_PER_MONTH
            for r in own
            if r.service in _HOME_BASED and r.fra == first.fra
        )
        weights = next((w for group, w in _NEED_BY_SERVICE if services & group), None)
        if weights is None and services & _HOME_BASED:
            weights = next(w for limit, w in _NEED_BY_HOURS if hours < limit)
        needs.append(_pick(rng, weights or _NEED_OTHERWISE))
        lo, hi = _AGE_RANGES[age]
        first_day = date.fromordinal(first.fra)
        born = first_day.year - rng.randint(lo, hi)
        kommune = _KOMMUNE_BY_CODE[first.kommunenummer]
        day = max(date.fromordinal(first.fra - rng.randint(0, 60)), kommune.fra)
        dates.append(day)
        codes.append(kommune.code)
        personer.append(
            [
                person,
                str(born),
                "K" if rng.random() < _WOMEN[age] else "M",
                "true" if rng.random() < _ALONE[age] else "false",
            ]
        )
    generator = np.random.default_rng(random.Random(f"sio-demo:{seed}:kartlegging").getrandbits(64))
    need = np.array(needs, dtype=np.int64)
    scores = assessment_scores(generator, need, pl.Series(dates, dtype=pl.Date)).rows()
    levels = ("noe_avgrenset", "middels_til_stort", "omfattende")
    kartlegging = [
        [row[0], code, day.isoformat(), *(str(x) for x in score), levels[n]]
        for row, code, day, score, n in zip(personer, codes, dates, scores, needs, strict=True)
    ]
    return {"personer": personer, "kartlegging": kartlegging}


def _readme(seed: int, counts: dict[str, int]) -> str:
    lines = [
        "Demodata for SIO – statlig finansiering av omsorgstjenester",
        "===========================================================",
        "",
        f"Laget av sio.data.demo.write_demo_data med frø {seed}. Samme frø gir nøyaktig",
        "de samme filene. Katalogen kan brukes direkte som inndata, for eksempel:",
        "",
        "    sio compute --data <denne katalogen> --year 2019",
        "",
        "HVA ER EKTE",
        "",
        "- Kommunenumre og navn, sammenslåinger og nye kommunenumre med datoer:",
        "  Hobøl, Spydeberg, Askim, Eidsberg og Trøgstad ble Indre Østfold (3014) 1.1.2020,",
        "  og 3118 fra 1.1.2024. Lillesand fikk nytt nummer 4215 og Os og Fusa ble",
        "  Bjørnafjorden (4624) 1.1.2020. Stjørdal (5035) og Selbu (5032) fikk nye numre",
        "  1.1.2018. Lyngdal (4225, fra Lyngdal og Audnedal), Enebakk (3028, 3220 fra 2024),",
        "  Froland (4214), Askøy (4627) og Arendal (4203) har sine numre fra 2020.",
        "- Deltakelsen i forsøket: modell A i Hobøl, Lillesand, Stjørdal og Os og modell B i",
        "  Selbu og Spydeberg fra 1.5.2016; modell B ble avviklet i mai 2019 og alle gikk over",
        "  til modell A. I 2020 deltok Lillesand, Bjørnafjorden, Indre Østfold, Selbu og",
        "  Stjørdal; aktivitetsfinansieringen i Indre Østfold ble utsatt til 1.1.2021 på grunn",
        "  av covid-19. Fra 2021 kom Lyngdal, Enebakk, Froland, Lødingen, Askøy og Arendal med.",
        "  Forsøket ble avsluttet 31.12.2021.",
        "- Tjenestekodene, enhetene og prisgruppene følger prosjektets beskrivelse av ordningen.",
        "",
        "HVA ER SYNTETISK (oppdiktet, men plausibelt – ikke offisielle tall)",
        "",
        "- Personer og vedtak. person_id er et pseudonym (P og ti heksadesimale tegn); ingen",
        "  ekte personer og ingen fødselsnumre. Vedtakene dekker 2015–2021 for kommunene i",
        "  første runde (Hobøl, Spydeberg, Lillesand, Stjørdal, Selbu og Os), 2020–2021 for",
        "  Askim, Eidsberg, Trøgstad og Fusa (slått sammen med deltakere) og 2021 for de seks",
        "  nye kommunene, og i tillegg vedtak som gjaldt da perioden begynte. Åpne vedtak",
        "  (uten til-dato) løper videre. Et vedtak som krysser en sammenslåing eller et nytt",
        "  kommunenummer, er delt i to rader med hver sin vedtak-ID. Alle syntetiske brukere",
        "  er med (ingen utvalg, utvalgsfaktor 1).",
        "- Kontrollkommunene i evalueringen av forsøket (Østre Toten, Oppdal, Søgne, Fjell,",
        "  Trøgstad og Våler) med ekte kommunenumre og historikk, men syntetiske vedtak,",
        "  befolkning og utgifter fra 2015. De deltar aldri. Søgne, Fjell og Trøgstad ble slått",
        "  sammen med andre kommuner 1.1.2020; vedtakene deres slutter 31.12.2019.",
        "- personer.csv (fødselsår, kjønn, om personen bor alene) og kartlegging.csv (én",
        "  IPLOS-kartlegging med 17 skårer og bistandsbehov per person, før personens første",
        "  vedtak) for alle som har vedtak. Se docs/evaluation-data.md.",
        "- Netto driftsutgifter for KOSTRA-funksjonene 234, 253, 254 og 261, og for 232, som",
        "  ikke inngår i grunnlaget. Utgiftene til omsorg er kalibrert mot vedtakene: verdien av",
        "  vedtakene, priset med enhetsprisene i prosjektets standardparametere, er i snitt",
        f"  om lag {round(CALIBRATION_RATIO * 100)} % av utgiftene i årene med vedtak; i små "
        "kommuner varierer forholdet",
        "  mer fra år til år. Utgiftene følger deflatoren og befolkningens alderssammensetning",
        "  og vokser med om lag 4–5 % i året.",
        "- Befolkning 1. januar etter aldersgruppe: nivået ligger nær de virkelige",
        "  innbyggertallene, men fordelingen og utviklingen er konstruert.",
        "- Toppfinansiering (ressurskrevende tjenester) for deltakerårene.",
        "- Arbeidsgiveravgiftssoner og reiseindekser.",
        "- Organisasjonsnumrene er oppdiktet (gyldig kontrollsiffer, men ingen ekte",
        "  organisasjonsnumre begynner med 1). En kommune som bare fikk nytt kommunenummer,",
        "  beholder organisasjonsnummeret; en sammenslått kommune får her et nytt.",
        "- gyldig_fra 1838-01-01 for de eldste kommunenumrene er en konvensjon, ikke datoen",
        "  nummeret faktisk ble tatt i bruk.",
        "",
        "Tallene må ikke brukes som fakta om kommunene.",
        "",
        "ANTALL RADER",
        "",
    ]
    lines += [f"- {name}.csv: {n}" for name, n in counts.items()]
    return "\n".join(lines) + "\n"
