"""The built-in demo data set: determinism, the input format of interfaces.md §1, the validity
rules the engine relies on, and the calibration of expenditure to the decisions."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from stdnum.no import orgnr

from sio.data.demo import (
    CALIBRATION_UNIT_PRICES_2016,
    fictional_organisasjonsnummer,
    write_demo_data,
)

EXPECTED_COLUMNS: dict[str, list[str]] = {
    "kommuner": [
        "kommunenummer",
        "navn",
        "gyldig_fra",
        "gyldig_til",
        "aga_sone",
        "reiseindeks",
        "etterfolger",
        "organisasjonsnummer",
    ],
    "deltakelse": ["kommunenummer", "modell", "fra", "til", "aktivitet_fra", "covid_saerordning"],
    "utgifter": ["kommunenummer", "aar", "kostra_funksjon", "netto_driftsutgifter"],
    "befolkning": ["kommunenummer", "aar", "aldersgruppe", "antall"],
    "toppfinansiering": ["kommunenummer", "aar", "beloep"],
    "vedtak": [
        "vedtak_id",
        "person_id",
        "kommunenummer",
        "tjeneste",
        "prisgruppe",
        "omfang",
        "enhet",
        "fra",
        "til",
    ],
    # the evaluation's persons and assessments (docs/evaluation-data.md), added for issue 10
    "kartlegging": [
        "person_id",
        "kommunenummer",
        "dato",
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
        "behovsniva",
    ],
    "personer": ["person_id", "foedselsaar", "kjoenn", "bor_alene"],
}
# Successors of the merged control municipalities Søgne and Fjell: in kommuner for the links
# only, without population, expenditure or decisions (the demo does not model Kristiansand or
# Øygarden).
LINK_ONLY = frozenset({"4204", "4626"})
CODE = re.compile(r"^\d{4}$")
OPEN_END = date.max


def _read(directory: Path, name: str) -> list[dict[str, str]]:
    with (directory / f"{name}.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _d(text: str) -> date:
    return date.fromisoformat(text)


def _end(text: str) -> date:
    return OPEN_END if text == "" else date.fromisoformat(text)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("demo")
    return out, write_demo_data(out)


@pytest.fixture(scope="module")
def kommuner(demo: tuple[Path, dict[str, int]]) -> dict[str, dict[str, str]]:
    return {r["kommunenummer"]: r for r in _read(demo[0], "kommuner")}


def test_same_seed_gives_identical_bytes(demo: tuple[Path, dict[str, int]], tmp_path: Path) -> None:
    first, counts = demo
    assert write_demo_data(tmp_path / "again") == counts
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in (tmp_path / "again").iterdir())
    for name in names:
        assert (first / name).read_bytes() == (tmp_path / "again" / name).read_bytes(), name


def test_another_seed_gives_other_decisions(
    demo: tuple[Path, dict[str, int]], tmp_path: Path
) -> None:
    write_demo_data(tmp_path, seed=7)
    assert (tmp_path / "vedtak.csv").read_bytes() != (demo[0] / "vedtak.csv").read_bytes()
    assert (tmp_path / "kommuner.csv").read_bytes() == (demo[0] / "kommuner.csv").read_bytes()


def test_files_columns_and_counts(demo: tuple[Path, dict[str, int]]) -> None:
    out, counts = demo
    assert set(counts) == set(EXPECTED_COLUMNS)
    for name, columns in EXPECTED_COLUMNS.items():
        text = (out / f"{name}.csv").read_text(encoding="utf-8")
        assert text.splitlines()[0] == ",".join(columns), name
        assert "\r" not in text
        assert len(_read(out, name)) == counts[name], name
    readme = (out / "LESMEG.txt").read_text(encoding="utf-8")
    assert "syntetisk" in readme.lower() and "ekte" in readme.lower()
    # the six control municipalities (issue 10) add their own decisions to the participants'
    controls = {"0528", "3442", "1634", "5021", "1018", "1246", "0137", "3018", "3114"}
    own = [r for r in _read(out, "vedtak") if r["kommunenummer"] not in controls]
    trogstad_before_2020 = [r for r in own if r["kommunenummer"] == "0122"]
    assert 15_000 <= len(own) - len(trogstad_before_2020) <= 40_000
    assert counts["vedtak"] <= 70_000


def test_codes_are_four_digit_strings(demo: tuple[Path, dict[str, int]]) -> None:
    out, _ = demo
    for name in EXPECTED_COLUMNS:
        if name == "personer":
            continue  # no municipality
        for row in _read(out, name):
            assert CODE.match(row["kommunenummer"]), (name, row)
    for row in _read(out, "kommuner"):
        assert row["etterfolger"] == "" or CODE.match(row["etterfolger"])
    assert "0138" in {r["kommunenummer"] for r in _read(out, "kommuner")}


def test_successor_starts_the_day_after_its_predecessors(
    kommuner: dict[str, dict[str, str]],
) -> None:
    for code, k in kommuner.items():
        if k["etterfolger"]:
            successor = kommuner[k["etterfolger"]]
            assert _d(k["gyldig_til"]) + timedelta(days=1) == _d(successor["gyldig_fra"]), code
        else:
            assert k["gyldig_til"] == "", code
    assert kommuner["3014"]["etterfolger"] == "3118"
    assert {c for c, k in kommuner.items() if k["etterfolger"] == "3014"} == {
        "0122",
        "0123",
        "0124",
        "0125",
        "0138",
    }
    assert kommuner["1714"]["etterfolger"] == "5035"
    assert kommuner["5035"]["gyldig_fra"] == "2018-01-01"


def test_participation_months_are_disjoint_and_valid(
    demo: tuple[Path, dict[str, int]], kommuner: dict[str, dict[str, str]]
) -> None:
    months: dict[str, set[tuple[int, int]]] = defaultdict(set)
    for row in _read(demo[0], "deltakelse"):
        code, fra, til = row["kommunenummer"], _d(row["fra"]), _d(row["til"])
        assert row["modell"] in ("A", "B")
        assert row["covid_saerordning"] == "true"
        assert fra.day == 1 and (til + timedelta(days=1)).day == 1
        assert til <= date(2021, 12, 31)
        if row["aktivitet_fra"]:
            assert row["modell"] == "A" and _d(row["aktivitet_fra"]).day == 1
        k = kommuner[code]
        assert _d(k["gyldig_fra"]) <= fra and til <= _end(k["gyldig_til"]), row
        y, m = fra.year, fra.month
        while (y, m) <= (til.year, til.month):
            assert (y, m) not in months[code], row
            months[code].add((y, m))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    rows = {(r["kommunenummer"], r["modell"]): r for r in _read(demo[0], "deltakelse")}
    assert rows[("3014", "A")]["aktivitet_fra"] == "2021-01-01"
    assert rows[("1664", "B")]["fra"] == "2016-05-01"


def test_vedtak_lie_within_their_municipality(
    demo: tuple[Path, dict[str, int]], kommuner: dict[str, dict[str, str]]
) -> None:
    ids = set()
    for row in _read(demo[0], "vedtak"):
        k = kommuner[row["kommunenummer"]]
        fra, til = _d(row["fra"]), _end(row["til"])
        assert fra <= til, row
        assert _d(k["gyldig_fra"]) <= fra, row
        assert til <= _end(k["gyldig_til"]), row
        assert row["vedtak_id"] not in ids
        ids.add(row["vedtak_id"])


def test_vedtak_units_and_volumes(demo: tuple[Path, dict[str, int]]) -> None:
    hour = {"HJSPL", "PB_DAGL", "PB_OPPL", "BPA", "OMSORGSSTOENAD", "STOETTEKONTAKT"}
    day = {"AVLASTNING_INST", "AVLASTNING_UTENFOR", "BOLIG_HELDOEGN", "INST_KORT", "INST_LANG"}
    lump = {"TRYGGHETSALARM", "DAGAKTIVITET", "MATOMBRINGING"}
    seen: set[str] = set()
    for row in _read(demo[0], "vedtak"):
        service, unit = row["tjeneste"], row["enhet"]
        seen.add(service)
        assert re.fullmatch(r"\d+(\.\d)?", row["omfang"]), row
        assert float(row["omfang"]) > 0
        if service in hour:
            assert unit in ("timer_per_uke", "timer_per_maaned"), row
        elif service in day:
            assert unit == "doegn", row
        else:
            assert service in lump and unit == "per_maaned", row
        if row["prisgruppe"]:
            assert row["prisgruppe"] in CALIBRATION_UNIT_PRICES_2016[service], row
    assert seen == hour | day | lump


def test_decisions_of_one_person_and_service_do_not_overlap(
    demo: tuple[Path, dict[str, int]],
) -> None:
    periods: dict[tuple[str, str], list[tuple[date, date]]] = defaultdict(list)
    for row in _read(demo[0], "vedtak"):
        periods[(row["person_id"], row["tjeneste"])].append((_d(row["fra"]), _end(row["til"])))
    for key, spans in periods.items():
        spans.sort()
        for (_, til), (fra, _) in pairwise(spans):
            assert til < fra, key


def test_person_ids_are_pseudonyms(demo: tuple[Path, dict[str, int]]) -> None:
    for row in _read(demo[0], "vedtak"):
        pid = row["person_id"]
        assert not re.search(r"\d{11}", pid), pid
        assert re.fullmatch(r"P[0-9a-f]{10}", pid), pid


def test_population_for_every_code_in_every_valid_year(
    demo: tuple[Path, dict[str, int]], kommuner: dict[str, dict[str, str]]
) -> None:
    groups: dict[tuple[str, int], set[str]] = defaultdict(set)
    totals: dict[tuple[str, int], int] = defaultdict(int)
    for row in _read(demo[0], "befolkning"):
        key = (row["kommunenummer"], int(row["aar"]))
        assert row["aldersgruppe"] not in groups[key]
        groups[key].add(row["aldersgruppe"])
        totals[key] += int(row["antall"])
    expected = {
        (code, year)
        for code, k in kommuner.items()
        for year in range(2014, 2025)
        if _d(k["gyldig_fra"]) <= date(year, 1, 1) <= _end(k["gyldig_til"])
        and code not in LINK_ONLY
    }
    assert set(groups) == expected
    assert all(g == {"0-66", "67-79", "80-89", "90+"} for g in groups.values())
    # A successor's population is about the sum of its predecessors' the year before.
    before = sum(totals[(c, 2019)] for c in ("0122", "0123", "0124", "0125", "0138"))
    assert 0.97 < totals[("3014", 2020)] / before < 1.03
    assert 4_000 < totals[("1664", 2016)] < 4_500


def test_expenditure_for_every_code_and_year(
    demo: tuple[Path, dict[str, int]],
) -> None:
    population = {(r["kommunenummer"], r["aar"]) for r in _read(demo[0], "befolkning")}
    functions: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in _read(demo[0], "utgifter"):
        functions[(row["kommunenummer"], row["aar"])].add(row["kostra_funksjon"])
        assert re.fullmatch(r"\d+", row["netto_driftsutgifter"])
    assert set(functions) == population
    assert all(f == {"232", "234", "253", "254", "261"} for f in functions.values())
    for row in _read(demo[0], "toppfinansiering"):
        assert 2016 <= int(row["aar"]) <= 2021
        assert 500_000 < int(row["beloep"]) < 30_000_000


def test_activity_is_calibrated_to_expenditure(demo: tuple[Path, dict[str, int]]) -> None:
    """The decisions' value (unit prices × volume, 2016 prices grown ~3 % a year) is near 88 %
    of the care expenditure for the participants' years with decisions."""
    out, _ = demo
    care: dict[tuple[str, int], int] = defaultdict(int)
    for row in _read(out, "utgifter"):
        if row["kostra_funksjon"] != "232":
            care[(row["kommunenummer"], int(row["aar"]))] += int(row["netto_driftsutgifter"])
    value: dict[tuple[str, int], float] = defaultdict(float)
    for row in _read(out, "vedtak"):
        prices = CALIBRATION_UNIT_PRICES_2016.get(row["tjeneste"])
        if prices is None:
            continue
        omfang, unit = float(row["omfang"]), row["enhet"]
        per_day = {"timer_per_uke": omfang / 7, "timer_per_maaned": omfang * 12 / 365}.get(
            unit, omfang
        )
        price = prices[row["prisgruppe"] or "STANDARD"]
        fra, til = _d(row["fra"]), min(_end(row["til"]), date(2021, 12, 31))
        for year in range(max(fra.year, 2016), til.year + 1):
            days = (min(til, date(year, 12, 31)) - max(fra, date(year, 1, 1))).days + 1
            value[(row["kommunenummer"], year)] += per_day * days * price * 1.03 ** (year - 2016)
    checked = [("5035", 2019), ("4624", 2021), ("4203", 2021), ("1243", 2017)]
    ratios = [value[key] / care[key] for key in checked]
    assert all(0.75 < r < 1.0 for r in ratios), ratios


def test_every_municipality_has_a_valid_fictional_organisation_number(
    kommuner: dict[str, dict[str, str]],
) -> None:
    numbers = {code: k["organisasjonsnummer"] for code, k in kommuner.items()}
    for code, number in numbers.items():
        assert orgnr.is_valid(number) and len(number) == 9 and number.isdigit(), code
        assert number.startswith("10"), code  # no real organisation number begins with 1
    # a new number for the same municipality keeps its organisation number …
    assert numbers["0926"] == numbers["4215"]  # Lillesand
    assert numbers["0229"] == numbers["3028"] == numbers["3220"]  # Enebakk
    assert numbers["3014"] == numbers["3118"]  # Indre Østfold
    # … a merger gets a new one
    assert numbers["4624"] not in {numbers["1241"], numbers["1243"]}  # Bjørnafjorden
    assert len({numbers[c] for c in ("0122", "0123", "0124", "0125", "0138", "3014")}) == 6


def test_fictional_organisation_numbers_by_hand() -> None:
    """Digits "10" + code + "0" + d, weights 3 2 7 6 5 4 3 2, check digit 11 − (sum mod 11).

    - 0301: 1·3 + 3·6 + 1·4 = 25 = 2·11 + 3 → 8.
    - 9001: 1·3 + 9·7 + 1·4 = 70 = 6·11 + 4 → 7.
    - 0138: 1·3 + 1·6 + 3·5 + 8·4 = 56 = 5·11 + 1 → 10, not a digit; with d = 1 the sum is
      56 + 1·2 = 58 = 5·11 + 3 → 8.
    """
    assert fictional_organisasjonsnummer("0301") == "100301008"
    assert fictional_organisasjonsnummer("9001") == "109001007"
    assert fictional_organisasjonsnummer("0138") == "100138018"
    with pytest.raises(ValueError):
        fictional_organisasjonsnummer("301")
