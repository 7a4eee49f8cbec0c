"""The synthetic national data set (sio.data.synth): valid input, deterministic, computable."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from sio.data.synth import N_MUNICIPALITIES, TOTAL_POPULATION, national_frames, write_national
from sio.data.validation import load_input
from sio.engine import Engine
from sio.parameters import ParameterSet

PERSONS = 2_000
YEAR = 2021


@pytest.fixture(scope="module")
def national_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("national")
    write_national(out, seed=7, persons=PERSONS, year=YEAR)
    return out


def test_files_are_valid_input_without_problems(national_dir: Path, params: ParameterSet) -> None:
    names = sorted(p.name for p in national_dir.iterdir())
    # the evaluation's persons and assessments, and the truth file, came with issue 10
    assert names == sorted(
        [
            *(
                f"{n}.parquet"
                for n in (
                    "kommuner",
                    "deltakelse",
                    "utgifter",
                    "befolkning",
                    "toppfinansiering",
                    "vedtak",
                    "personer",
                    "kartlegging",
                )
            ),
            "synth.json",
        ]
    )
    data, problems = load_input(national_dir, params)
    assert problems == []
    # 356 synthetic participants and the 14 codes of the six control municipalities' history
    # (0528 3442, 1634 5021, 1018 4204, 1246 4626, 0122 3014 3118, 0137 3018 3114)
    assert data.kommuner.height == N_MUNICIPALITIES + 14
    assert data.vedtak.height == pytest.approx(2.5 * PERSONS, rel=0.1)


def test_same_seed_same_files_other_seed_other_files(national_dir: Path, tmp_path: Path) -> None:
    counts = write_national(tmp_path / "again", seed=7, persons=PERSONS, year=YEAR)
    for name, rows in counts.items():
        again = (tmp_path / "again" / f"{name}.parquet").read_bytes()
        assert again == (national_dir / f"{name}.parquet").read_bytes(), name
        assert pl.read_parquet(national_dir / f"{name}.parquet").height == rows
    truth = tmp_path / "again" / "synth.json"
    assert truth.read_bytes() == (national_dir / "synth.json").read_bytes()
    other = national_frames(seed=8, persons=PERSONS, year=YEAR)["vedtak"]
    assert not other.equals(pl.read_parquet(national_dir / "vedtak.parquet"))


def test_csv_gives_the_same_input_as_parquet(
    national_dir: Path, tmp_path: Path, params: ParameterSet
) -> None:
    write_national(tmp_path, seed=7, persons=PERSONS, year=YEAR, fmt="csv")
    from_csv, problems = load_input(tmp_path, params)
    assert problems == []
    from_parquet, _ = load_input(national_dir, params)
    for name in ("kommuner", "deltakelse", "utgifter", "befolkning", "toppfinansiering", "vedtak"):
        assert getattr(from_csv, name).equals(getattr(from_parquet, name)), name


def test_shape_of_the_country() -> None:
    frames = national_frames(seed=7, persons=PERSONS, year=YEAR)
    pop = (
        frames["befolkning"]  # the synthetic country, without the six control municipalities
        .filter(pl.col("aar") == YEAR - 1, pl.col("kommunenummer").str.starts_with("9"))
        .group_by("kommunenummer")
        .agg(pl.col("antall").sum())
        .get_column("antall")
    )
    assert pop.len() == N_MUNICIPALITIES
    assert pop.sum() == pytest.approx(TOTAL_POPULATION, rel=0.02)
    assert 600_000 < pop.max() < 800_000  # type: ignore[operator]
    assert 1_000 <= pop.median() <= 10_000  # type: ignore[operator]
    assert ((pop >= 1_000) & (pop <= 10_000)).mean() > 0.5  # type: ignore[operator]
    kommuner = frames["kommuner"]
    assert set(kommuner.get_column("aga_sone")) == {"1", "1a", "2", "3", "4", "4a", "5"}
    vedtak = frames["vedtak"]
    assert set(vedtak.get_column("enhet")) == {
        "timer_per_uke",
        "doegn",
        "timer_per_maaned",
        "per_maaned",
    }
    assert vedtak.get_column("til").null_count() > 0
    assert vedtak.get_column("fra").min().year == YEAR - 2  # type: ignore[union-attr]


def test_engine_computes_a_row_per_municipality(national_dir: Path, params: ParameterSet) -> None:
    data, _ = load_input(national_dir, params)
    result = Engine(data, params).compute_year(YEAR)
    rows = result.results
    assert len(rows) == N_MUNICIPALITIES
    assert {r.modell for r in rows} == {"A"}
    assert {r.maaneder for r in rows} == {12}
    assert all(r.uttrekk > 0 for r in rows)
    total_grant = sum(r.aktivitetstilskudd for r in rows)
    total_uttrekk = sum(r.uttrekk for r in rows)
    assert 0.5 < total_grant / total_uttrekk < 1.5


def test_every_municipality_has_a_fictional_organisation_number(
    national_dir: Path, params: ParameterSet
) -> None:
    from stdnum.no import orgnr

    data, _problems = load_input(national_dir, params)
    numbers = data.kommuner.get_column("organisasjonsnummer").to_list()
    assert all(n is not None and orgnr.is_valid(n) and n.startswith("10") for n in numbers)
    assert len(set(numbers)) == N_MUNICIPALITIES + 14  # with the control municipalities' codes
    first = data.kommuner.filter(pl.col("kommunenummer") == "9001").row(0, named=True)
    # 9001: 1·3 + 9·7 + 1·4 = 70 = 6·11 + 4, check digit 11 − 4 = 7
    assert (first["kommunenummer"], first["organisasjonsnummer"]) == ("9001", "109001007")
