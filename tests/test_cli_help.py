"""The help texts of the `sio` command are translated: Norwegian bokmål by default, English with
SIO_LANG=en. They are translated when sio.cli is imported, so each run is a fresh process."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def help_text(lang: str, *command: str) -> str:
    """`sio <command> --help` in a new process with SIO_LANG=lang, whitespace and box lines
    collapsed (so a phrase is found even where the terminal would wrap it)."""
    env = {**os.environ, "SIO_LANG": lang, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    result = subprocess.run(
        [sys.executable, "-m", "sio.cli", *command, "--help"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return " ".join(result.stdout.replace("│", " ").split())


@pytest.mark.parametrize(
    ("command", "nb", "en"),
    [
        (
            "compute",
            ["Året som skal beregnes.", "Beregn årstallene for alle kommuner for ett år."],
            ["The year to compute.", "Compute every municipality's annual figures for one year."],
        ),
        (
            "import",
            [
                "En fil eller en mappe i inndataformatet.",
                "Valider en fil eller mappe og lagre den som en ny, uforanderlig dataversjon.",
            ],
            [
                "A file or a folder in the input format.",
                "Validate a file or folder and store it as a new, immutable data version.",
            ],
        ),
    ],
)
def test_command_help_follows_sio_lang(command: str, nb: list[str], en: list[str]) -> None:
    norwegian = help_text("nb", command)
    for phrase in nb:
        assert phrase in norwegian
    for phrase in en:
        assert phrase not in norwegian
    english = help_text("en", command)
    for phrase in en:
        assert phrase in english
    for phrase in nb:
        assert phrase not in english


def test_the_lang_option_chooses_the_language_of_the_help_too() -> None:
    """`sio --lang en … --help` is in English even where SIO_LANG says nb (the entry point reads
    --lang before the app and its help texts are built)."""
    env = {**os.environ, "SIO_LANG": "nb", "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    code = "import sys; from sio.entry import main; sys.argv[0] = 'sio'; main()"
    for args, expected in (
        (["--lang", "en", "compute", "--help"], "Compute every municipality's annual figures"),
        (["--lang=en", "utbetaling", "kjor", "--help"], "Make the payment run of a month"),
        (["compute", "--help"], "Beregn årstallene for alle kommuner for ett år."),
    ):
        result = subprocess.run(
            [sys.executable, "-c", code, *args],
            capture_output=True,
            text=True,
            encoding="utf-8",
            env=env,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert expected in " ".join(result.stdout.replace("│", " ").split())
