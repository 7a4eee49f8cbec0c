"""One command line in Norwegian (issue 11): Norwegian command and option names, the English names
of earlier versions as hidden aliases giving the same answers, and Typer's and Click's own words
("Usage:", "Show this message and exit.", "[required]", "No such option", the error box) in
Norwegian through sio.i18n."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from conftest import write_input
from sio.cli import app
from sio.cli.click_words import translate_message
from sio.cli.names import rename_options
from test_cli import EXPECTED_2016, small_world

RUNNER = CliRunner()


def _plain(text: str) -> str:
    return " ".join(text.replace("│", " ").split())


def test_the_norwegian_names_compute_the_hand_computed_figures(tmp_path: Path) -> None:
    d = write_input(tmp_path / "d", small_world())
    outputs = []
    for args in (
        ["beregn", "--aar", "2016", "--data", str(d), "--format", "json"],
        ["compute", "--year", "2016", "--data", str(d), "--format", "json"],
        ["compute", "--year=2016", "--data", str(d), "--format", "json"],
        ["beregn", "--year", "2016", "--data", str(d), "--format", "json"],
    ):
        res = RUNNER.invoke(app, args)
        assert res.exit_code == 0, res.output
        rows = json.loads(res.stdout)
        assert {k: rows[0][k] for k in EXPECTED_2016} == EXPECTED_2016
        outputs.append(res.stdout)
    assert len(set(outputs)) == 1


def test_the_help_lists_the_norwegian_names_only() -> None:
    res = RUNNER.invoke(app, ["--help"])
    assert res.exit_code == 0
    commands = [line.split()[1] for line in res.stdout.splitlines() if line.startswith("│ ")]
    for nb in ("beregn", "forklar", "parametere", "importer", "syntetisk", "utbetaling", "data"):
        assert nb in commands
    for en in ("compute", "explain", "params", "import", "synth"):
        assert en not in commands
    text = _plain(res.stdout)
    assert text.startswith("Bruk: root [VALG] KOMMANDO [ARGUMENTER]...")
    assert "╭─ Kommandoer" in res.stdout and "╭─ Valg" in res.stdout
    assert "--help <bool> Vis denne hjelpen og avslutt." in text


def test_a_command_help_has_norwegian_options_and_words() -> None:
    res = RUNNER.invoke(app, ["beregn", "--help"])
    text = _plain(res.stdout)
    assert "--aar <int> Året som skal beregnes. [påkrevd]" in text
    assert "--format <str> table, json eller csv. [standard: table]" in text
    assert "--ut " in text and "--overstyring " in text
    assert "--year" not in text and "--out " not in text
    res = RUNNER.invoke(app, ["parametere", "vis", "--help"])
    text = _plain(res.stdout)
    assert "╭─ Argumenter" in res.stdout
    assert "--dato" in text and "--at " not in text


def test_usage_errors_are_in_norwegian() -> None:
    res = RUNNER.invoke(app, ["beregn"])
    assert res.exit_code == 2
    lines = [line.strip("│ ") for line in res.stderr.splitlines()]
    assert lines[0] == "Bruk: root beregn [VALG]"
    assert lines[1] == "Se 'root beregn --help' for hjelp."
    assert lines[2].startswith("╭─ Feil ─")
    assert lines[3].strip() == "Mangler valget '--aar'."
    res = RUNNER.invoke(app, ["compute", "--yr", "2016"])
    assert "Ukjent valg: --yr (mulige valg: --aar)" in res.stderr
    res = RUNNER.invoke(app, ["beregn", "--aar", "tjue"])
    assert "Ugyldig verdi for '--aar': ikke et heltall" in res.stderr
    res = RUNNER.invoke(app, ["berg"])
    assert "Ukjent kommando 'berg'. Mente du 'beregn'?" in res.stderr


def test_english_stays_english() -> None:
    res = RUNNER.invoke(app, ["--lang", "en", "compute"])
    assert res.exit_code == 2
    assert "Missing option '--aar'." in res.stderr
    assert res.stderr.startswith("Usage: root compute [OPTIONS]")


def test_messages_click_builds_are_matched_by_their_parts() -> None:
    assert translate_message("Missing argument 'PATH'.") == "Mangler argumentet 'PATH'."
    assert (
        translate_message("Invalid value for '--aar': 'x' is not a valid integer.")
        == "Ugyldig verdi for '--aar': 'x' er ikke et tall"
    )
    assert translate_message("Got unexpected extra argument (2017)") == (
        "Uventet ekstra argument (2017)"
    )
    assert translate_message("Option '--aar' requires an argument.") == (
        "Valget '--aar' trenger en verdi."
    )
    assert translate_message("Something Click says") == "Something Click says"


def test_an_english_option_is_renamed_only_where_the_command_has_the_norwegian_one() -> None:
    from typer.main import get_command

    group = get_command(app)
    beregn = group.get_command(None, "beregn")  # type: ignore[attr-defined]
    assert rename_options(beregn, ["--year", "2016", "--out=x.csv", "--", "--year"]) == [
        "--aar",
        "2016",
        "--ut=x.csv",
        "--",
        "--year",
    ]
    assert group.get_command(None, "compute") is not None  # type: ignore[attr-defined]
