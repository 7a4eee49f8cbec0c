"""`sio synth national` (sio.cli.synth): the command, determinism, and the shape of the care
data: prevalence rises with age, and the need level drives the volume of services."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from sio.cli.synth import synth_app
from sio.data.synth import AGE_GROUPS, N_MUNICIPALITIES, NEED_LEVELS, TABLE_NAMES

RUNNER = CliRunner()
PERSONS = 3_000
YEAR = 2021
HOME_SERVICES = ("HJSPL", "PB_DAGL", "PB_OPPL")


def plain(text: str) -> str:
    """Output with Babel's no-break spaces as plain spaces."""
    return text.replace("\xa0", " ").replace("\u202f", " ")


def run(out: Path, *extra: str) -> str:
    args = ["national", "--out", str(out), "--personer", str(PERSONS), "--seed", "5", *extra]
    result = RUNNER.invoke(synth_app, args)
    assert result.exit_code == 0, result.output
    return plain(result.stdout)


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("synth")
    return out, run(out)


@pytest.fixture(scope="module")
def vedtak(national: tuple[Path, str]) -> pl.DataFrame:
    """The synthetic participants' vedtak (9xxx; the control municipalities have real codes)."""
    frame = pl.read_parquet(national[0] / "vedtak.parquet")
    return frame.filter(pl.col("kommunenummer").str.starts_with("9"))


def test_the_command_writes_every_file_and_a_summary_in_norwegian(
    national: tuple[Path, str],
) -> None:
    out, stdout = national
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted([*(f"{n}.parquet" for n in TABLE_NAMES), "synth.json"])
    vedtak_rows = pl.read_parquet(out / "vedtak.parquet").height
    assert "Syntetisk nasjonalt datasett skrevet til" in stdout
    assert "syntetiske" in stdout
    assert f"Kommuner: {N_MUNICIPALITIES}" in stdout
    assert "Personer (tjenestemottakere): 3 000" in stdout
    vedtak_line = next(line for line in stdout.splitlines() if "vedtak.parquet" in line)
    assert f"{vedtak_rows:,}".replace(",", " ") in vedtak_line
    assert "kommuner.parquet" in stdout and "befolkning.parquet" in stdout


def test_same_seed_same_files_other_seed_other_files(
    national: tuple[Path, str], tmp_path: Path
) -> None:
    out, _ = national
    run(tmp_path / "again")
    for name in TABLE_NAMES:
        again = (tmp_path / "again" / f"{name}.parquet").read_bytes()
        assert again == (out / f"{name}.parquet").read_bytes(), name
    result = RUNNER.invoke(
        synth_app,
        ["national", "--out", str(tmp_path / "other"), "--personer", str(PERSONS), "--seed", "6"],
    )
    assert result.exit_code == 0, result.output
    other = pl.read_parquet(tmp_path / "other" / "vedtak.parquet")
    assert not other.equals(pl.read_parquet(out / "vedtak.parquet"))


def test_csv_format_and_year(tmp_path: Path) -> None:
    stdout = run(tmp_path, "--format", "csv", "--aar", "2019")
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == sorted([*(f"{n}.csv" for n in TABLE_NAMES), "synth.json"])
    assert "vedtak.csv" in stdout
    deltakelse = pl.read_csv(tmp_path / "deltakelse.csv", infer_schema=False)
    assert set(deltakelse.get_column("fra")) == {"2019-01-01"}
    years = set(pl.read_csv(tmp_path / "befolkning.csv").get_column("aar"))
    # the year before the base year came with the evaluation (its before-period; issue 10)
    assert years == {2017, 2018, 2019}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "xlsx"], "--format må være parquet eller csv"),
        (["--personer", "0"], "--personer må være minst 1"),
        (["--aar", "2015"], "--aar må være 2017 eller senere"),
    ],
)
def test_bad_options_stop_with_exit_code_2(tmp_path: Path, args: list[str], message: str) -> None:
    result = RUNNER.invoke(synth_app, ["national", "--out", str(tmp_path / "x"), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "x").exists()


def test_extra_columns_give_age_group_and_need_level(vedtak: pl.DataFrame) -> None:
    assert vedtak.columns[-2:] == ["aldersgruppe", "bistandsbehov"]
    assert set(vedtak.get_column("aldersgruppe")) == set(AGE_GROUPS)
    assert set(vedtak.get_column("bistandsbehov")) == set(NEED_LEVELS)
    per_person = vedtak.group_by("person_id").agg(
        pl.col("aldersgruppe").n_unique(), pl.col("bistandsbehov").n_unique()
    )
    assert per_person.get_column("aldersgruppe").max() == 1
    assert per_person.get_column("bistandsbehov").max() == 1
    assert per_person.height == PERSONS


def test_prevalence_of_care_users_rises_steeply_with_age(
    national: tuple[Path, str], vedtak: pl.DataFrame
) -> None:
    population = (
        pl.read_parquet(national[0] / "befolkning.parquet")
        .filter(pl.col("aar") == YEAR - 1)
        .group_by("aldersgruppe")
        .agg(pl.col("antall").sum())
    )
    users = vedtak.group_by("aldersgruppe").agg(pl.col("person_id").n_unique().alias("users"))
    share = dict(
        population.join(users, on="aldersgruppe")
        .select("aldersgruppe", pl.col("users") / pl.col("antall"))
        .iter_rows()
    )
    assert share["90+"] > 3 * share["67-79"]
    assert share["80-89"] > 2 * share["67-79"]
    assert share["67-79"] > 2 * share["0-66"]


def test_need_level_drives_hours_per_week(vedtak: pl.DataFrame) -> None:
    """Home nursing and practical assistance per user, in hours per week (hours per month and
    `per_maaned` converted): extensive needs get far more than limited ones."""
    hours = (
        vedtak.filter(pl.col("tjeneste").is_in(HOME_SERVICES))
        .with_columns(
            pl.when(pl.col("enhet") == "timer_per_uke")
            .then(pl.col("omfang"))
            .otherwise(pl.col("omfang") * 12 * 7 / 365.25)
            .alias("per_week")
        )
        .group_by("person_id", "bistandsbehov")
        .agg(pl.col("per_week").sum())
        .group_by("bistandsbehov")
        .agg(pl.col("per_week").mean())
    )
    mean = dict(hours.iter_rows())
    assert mean["omfattende"] > 2.5 * mean["middels_til_stort"]
    assert mean["middels_til_stort"] > 2 * mean["noe_avgrenset"]
    assert 1.0 < mean["noe_avgrenset"] < 3.5


def test_need_level_drives_the_service_mix(vedtak: pl.DataFrame) -> None:
    """Long-term nursing-home stays go mostly to users with extensive needs; safety alarms and
    support contact mostly to those with lighter needs."""

    def share_extensive(service: str) -> float:
        rows = vedtak.filter(pl.col("tjeneste") == service)
        return float((rows.get_column("bistandsbehov") == "omfattende").mean())  # type: ignore[arg-type]

    assert share_extensive("INST_LANG") > 0.7
    assert share_extensive("BPA") > 0.5
    assert share_extensive("TRYGGHETSALARM") < 0.25
    assert share_extensive("STOETTEKONTAKT") < 0.25
