"""The `sio` command as a user runs it: compute, explain, params, exit codes and messages."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import write_input
from sio.cli import app

RUNNER = CliRunner()


def plain(text: str) -> str:
    """Output with Babel's no-break spaces as plain spaces."""
    return text.replace("\xa0", " ").replace("\u202f", " ")


def small_world() -> dict[str, list[dict[str, Any]]]:
    """One model A municipality from 2016-05 with one home-nursing vedtak.

    Hand computation (defaults of scheme.md §6), year 2016, zone 1 (k_aga = 1), reiseindeks 0:
    - grunnlag = 100 000 000 (f253); f232 ignored.
    - W(2015) = 8000·3000 + 1000·20000 + 400·110000 + 50·300000 = 103 000 000
      W(2016) = 8000·3000 + 1010·20000 + 400·110000 + 50·300000 = 103 200 000
    - uttrekk(2016) = 100 000 000 × 1.027 × 103 200 000 / 103 000 000 = 102 899 417.475…
    - 8 months (May–Dec): uttrekk = 102 899 417.475… × 8/12 = 68 599 611.65 → 68 599 612
    - supplement = 0.04 × uttrekk × 8/12 = 2 743 984.466… → 2 743 984 (cap 25 mill. not binding)
    - lump sum = 0.10 × uttrekk × 8/12 = 6 859 961.165… → 6 859 961
    - activity: HJSPL 7 h/week from 2016-01-01, price 720 kr (2016), k = 1:
      May–Dec = 245 days → 7 × 245 / 7 = 245 hours × 720 = 176 400 kr (every month's line is
      whole øre: days × 72 000 øre) → 176 400
    - tilskudd = 176 400 + 6 859 961 + 0 + 2 743 984 = 9 780 345; netto = 9 780 345 − 68 599 612
      = −58 819 267.
    """
    pop = []
    for y, n6779 in ((2015, 1000), (2016, 1010)):
        for g, n in (("0-66", 8000), ("67-79", n6779), ("80-89", 400), ("90+", 50)):
            pop.append({"kommunenummer": "9001", "aar": y, "aldersgruppe": g, "antall": n})
    return {
        "kommuner": [
            {
                "kommunenummer": "9001",
                "navn": "Testby",
                "gyldig_fra": "1900-01-01",
                "aga_sone": "1",
                "reiseindeks": "0",
            }
        ],
        "deltakelse": [{"kommunenummer": "9001", "modell": "A", "fra": "2016-05-01"}],
        "utgifter": [
            {
                "kommunenummer": "9001",
                "aar": 2015,
                "kostra_funksjon": "253",
                "netto_driftsutgifter": 100_000_000,
            },
            {
                "kommunenummer": "9001",
                "aar": 2015,
                "kostra_funksjon": "232",
                "netto_driftsutgifter": 5_000_000,
            },
        ],
        "befolkning": pop,
        "vedtak": [
            {
                "vedtak_id": "V1",
                "person_id": "P1",
                "kommunenummer": "9001",
                "tjeneste": "HJSPL",
                "omfang": "7",
                "enhet": "timer_per_uke",
                "fra": "2016-01-01",
            },
        ],
    }


EXPECTED_2016 = {
    "kommunenummer": "9001",
    "navn": "Testby",
    "aar": 2016,
    "modell": "A",
    "maaneder": 8,
    "uttrekk": 68_599_612,
    "toppfinansiering": 0,
    "aktivitetstilskudd": 176_400,
    "rundsumtilskudd": 6_859_961,
    "oeremerket_tilskudd": 0,
    "inntektspaaslag": 2_743_984,
    "tilskudd": 9_780_345,
    "netto": -58_819_267,
}


@pytest.fixture
def world_dir(tmp_path: Path) -> Path:
    return write_input(tmp_path / "data", small_world())


def test_compute_json_honours_the_output_contract(world_dir: Path) -> None:
    res = RUNNER.invoke(
        app, ["compute", "--data", str(world_dir), "--year", "2016", "--format", "json"]
    )
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert len(rows) == 1
    row = rows[0]
    assert list(row) == [*EXPECTED_2016, "estimerte_parametere"]
    assert {k: row[k] for k in EXPECTED_2016} == EXPECTED_2016
    assert "aktivitetstilskudd.enhetspris.HJSPL.STANDARD" in row["estimerte_parametere"]
    assert "inntektspaaslag.sats" not in row["estimerte_parametere"]  # confirmed


def test_compute_csv_and_out_file(world_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "res.csv"
    res = RUNNER.invoke(
        app,
        [
            "compute",
            "--data",
            str(world_dir),
            "--year",
            "2016",
            "--format",
            "csv",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert rows[0]["netto"] == "-58819267"
    assert rows[0]["kommunenummer"] == "9001"


def test_year_without_money_gives_empty_array(world_dir: Path) -> None:
    res = RUNNER.invoke(
        app, ["compute", "--data", str(world_dir), "--year", "2015", "--format", "json"]
    )
    assert res.exit_code == 0
    assert json.loads(res.stdout) == []


def test_override_changes_figure_and_is_not_an_estimate(world_dir: Path, tmp_path: Path) -> None:
    ov = tmp_path / "ov.yaml"
    ov.write_text("aktivitetstilskudd.enhetspris.HJSPL.STANDARD: {2016-01-01: 1000}\n")
    res = RUNNER.invoke(
        app,
        [
            "compute",
            "--data",
            str(world_dir),
            "--year",
            "2016",
            "--format",
            "json",
            "--override",
            str(ov),
        ],
    )
    assert res.exit_code == 0, res.output
    row = json.loads(res.stdout)[0]
    assert row["aktivitetstilskudd"] == 245 * 1000  # 245 hours × 1000 kr
    assert "aktivitetstilskudd.enhetspris.HJSPL.STANDARD" not in row["estimerte_parametere"]


def test_bad_override_exits_2(world_dir: Path, tmp_path: Path) -> None:
    ov = tmp_path / "ov.yaml"
    ov.write_text("inntektspaaslag.finnes_ikke: {2016-01-01: 1}\n")
    res = RUNNER.invoke(
        app, ["compute", "--data", str(world_dir), "--year", "2016", "--override", str(ov)]
    )
    assert res.exit_code == 2
    assert "inntektspaaslag.finnes_ikke" in plain(res.output)


def test_bad_input_lists_every_problem_and_exits_2(tmp_path: Path) -> None:
    world = small_world()
    world["vedtak"] += [
        {
            "vedtak_id": "V2",
            "person_id": "P2",
            "kommunenummer": "9001",
            "tjeneste": "HJSPL",
            "omfang": "-1",
            "enhet": "timer_per_uke",
            "fra": "2016-03-01",
        },
        {
            "vedtak_id": "V3",
            "person_id": "P3",
            "kommunenummer": "9001",
            "tjeneste": "UKJENT",
            "omfang": "1",
            "enhet": "doegn",
            "fra": "2016-03-01",
            "til": "2016-02-01",
        },
    ]
    d = write_input(tmp_path / "bad", world)
    out = tmp_path / "never.json"
    res = RUNNER.invoke(
        app, ["compute", "--data", str(d), "--year", "2016", "--format", "json", "--out", str(out)]
    )
    assert res.exit_code == 2
    assert "vedtak.csv:3: omfang:" in plain(res.output)
    assert "vedtak.csv:4: tjeneste:" in plain(res.output)
    assert "vedtak.csv:4: til:" in plain(res.output)
    assert not out.exists()


def test_english_messages(tmp_path: Path) -> None:
    world = small_world()
    world["vedtak"][0]["til"] = "2015-01-01"
    d = write_input(tmp_path / "bad", world)
    res = RUNNER.invoke(app, ["--lang", "en", "compute", "--data", str(d), "--year", "2016"])
    assert res.exit_code == 2
    assert "'til' is before 'fra'" in plain(res.output)
    res = RUNNER.invoke(app, ["--lang", "nb", "compute", "--data", str(d), "--year", "2016"])
    assert "«til» er før «fra»" in plain(res.output) or "til" in plain(res.output)


def test_explain_reproduces_the_figure(world_dir: Path) -> None:
    res = RUNNER.invoke(
        app,
        [
            "explain",
            "--data",
            str(world_dir),
            "--kommune",
            "9001",
            "--year",
            "2016",
            "--maaned",
            "6",
        ],
    )
    assert res.exit_code == 0, res.output
    # June: 30 days × 7 / 7 = 30 hours × 720 kr = 21 600 kr = 2 160 000 øre
    assert "2 160 000" in plain(res.output)
    assert "V1" in plain(res.output)
    assert "aktivitetstilskudd.enhetspris.HJSPL.STANDARD" in plain(res.output)


def test_explain_component_and_unknown_municipality(world_dir: Path) -> None:
    res = RUNNER.invoke(
        app,
        [
            "explain",
            "--data",
            str(world_dir),
            "--kommune",
            "9001",
            "--year",
            "2016",
            "--komponent",
            "uttrekk",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "grunnlag" in plain(res.output)
    assert "1,027" in plain(res.output) or "0,027" in plain(res.output)
    res = RUNNER.invoke(
        app, ["explain", "--data", str(world_dir), "--kommune", "9999", "--year", "2016"]
    )
    assert res.exit_code == 2


def test_params_list_and_show() -> None:
    res = RUNNER.invoke(app, ["params", "list", "inntektspaaslag", "--at", "2020-06-01"])
    assert res.exit_code == 0, res.output
    assert "inntektspaaslag.tak" in plain(res.output)
    assert "28 000 000" in plain(res.output)
    res = RUNNER.invoke(app, ["params", "show", "inntektspaaslag.tak", "--at", "2019-06-01"])
    assert res.exit_code == 0, res.output
    assert "25 000 000" in plain(res.output) and "bekreftet" in plain(res.output)
    res = RUNNER.invoke(app, ["params", "show", "finnes.ikke"])
    assert res.exit_code == 2


def test_console_script_runs_as_a_subprocess(world_dir: Path) -> None:
    env = dict(os.environ, SIO_LANG="nb")
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "sio.cli",
            "compute",
            "--data",
            str(world_dir),
            "--year",
            "2016",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)[0]["netto"] == EXPECTED_2016["netto"]


def test_project_cost_limit_is_checked(tmp_path: Path) -> None:
    """Model A from May 2016: limit = 500 000 × 8/12 = 333 333⅓ kr (below the supplement
    2 743 984 kr), so 400 000 kr is over the limit and 333 333 kr is within it."""
    w = small_world()
    w["prosjektkostnader"] = [{"kommunenummer": "9001", "aar": 2016, "beloep": 400_000}]
    d = write_input(tmp_path / "over", w)
    res = RUNNER.invoke(app, ["compute", "--data", str(d), "--year", "2016", "--format", "json"])
    assert res.exit_code == 0, res.output
    assert "400 000" in plain(res.stderr) and "333 333" in plain(res.stderr)
    assert json.loads(res.stdout)[0]["netto"] == EXPECTED_2016["netto"]  # a check, not money
    w["prosjektkostnader"][0]["beloep"] = 333_333
    d = write_input(tmp_path / "within", w)
    res = RUNNER.invoke(app, ["compute", "--data", str(d), "--year", "2016", "--format", "json"])
    assert res.exit_code == 0
    assert res.stderr == ""
    res = RUNNER.invoke(app, ["explain", "--data", str(d), "--kommune", "9001", "--year", "2016"])
    assert "333 333⅓" in plain(res.output) or "333 333,33" in plain(res.output)


def test_explain_says_which_estimates_a_figure_rests_on(world_dir: Path) -> None:
    res = RUNNER.invoke(
        app,
        [
            "explain",
            "--data",
            str(world_dir),
            "--kommune",
            "9001",
            "--year",
            "2016",
            "--komponent",
            "aktivitetstilskudd",
        ],
    )
    assert res.exit_code == 0, res.output
    text = plain(res.output).replace("\n", " ")
    assert "Estimater: uttrekket, aktivitetstilskuddet, rundsumtilskuddet og" in " ".join(
        text.split()
    )
    assert "HJSPL.STANDARD" in text  # the trace names the estimated unit price of the vedtak
