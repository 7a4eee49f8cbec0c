"""Output that reads on an 80-column terminal and when piped (issue 11): the year's table folds
into one block per municipality, parameter paths are never cut, and `parametere vis --dato` gives
the indexed unit price in force with the base value it came from."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from conftest import write_input
from sio.cli import app
from test_cli import small_world

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _terminal(*args: str, columns: int = 80) -> str:
    """`sio ARGS` on a terminal of `columns` columns (Rich is told it is one), without styles."""
    env = {
        **os.environ,
        "SIO_LANG": "nb",
        "COLUMNS": str(columns),
        "TTY_COMPATIBLE": "1",
        "NO_COLOR": "1",
        "TERM": "xterm",  # not "dumb": Rich takes a dumb terminal for 80 columns
    }
    result = subprocess.run(
        [sys.executable, "-m", "sio.cli", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
        check=True,
    )
    return _ANSI.sub("", result.stdout)


def test_the_year_folds_into_blocks_on_80_columns(tmp_path: Path) -> None:
    d = write_input(tmp_path / "d", small_world())
    text = _terminal("beregn", "--aar", "2016", "--data", str(d))
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    # the figures of test_cli.small_world's hand computation, each whole on its own line
    nb = "\xa0"  # the thousands separator: a no-break space, so a figure never wraps
    block = [
        "9001 Testby — modell A, 8 måneder",  # every row rests on the same estimates: no mark
        f"  Uttrekk              68{nb}599{nb}612",
        "  Toppfinansiering              0",
        f"  Aktivitetstilskudd      176{nb}400",
        f"  Rundsumtilskudd       6{nb}859{nb}961",
        "  Øremerket tilskudd            0",
        f"  Inntektspåslag        2{nb}743{nb}984",
        f"  Tilskudd              9{nb}780{nb}345",
        f"  Netto               -58{nb}819{nb}267",
    ]
    start = lines.index(block[0])
    assert lines[start : start + len(block)] == block
    assert lines[0] == "Tilskudd og uttrekk 2016"
    assert "Hele landet" in lines
    assert "Beløp i hele kroner." in lines
    # the estimates are said once, by figure, with where the parameters are listed (no word and
    # not the address cut)
    footnote = " ".join(" ".join(lines[lines.index("Beløp i hele kroner.") + 1 :]).split())
    assert footnote == (
        "Estimater: uttrekket, aktivitetstilskuddet, rundsumtilskuddet og inntektspåslaget "
        "bygger i hver rad på parametere som er estimater, ikke bekreftede verdier (det gjør "
        "også samlet tilskudd og netto). Parameterne og kildene deres: sio parametere liste, "
        "eller http://127.0.0.1:8000/parametere"
    )


def test_a_wide_terminal_and_a_pipe_get_the_full_table(tmp_path: Path) -> None:
    d = write_input(tmp_path / "d", small_world())
    wide = _terminal("beregn", "--aar", "2016", "--data", str(d), columns=200)
    assert "│ 9001 " in wide and "68\xa0599\xa0612" in wide and "-58\xa0819\xa0267" in wide
    piped = CliRunner().invoke(app, ["beregn", "--aar", "2016", "--data", str(d)]).stdout
    assert "│ 9001 " in piped and "176\xa0400" in piped and "2\xa0743\xa0984" in piped


def test_parameter_paths_are_never_cut_on_80_columns() -> None:
    text = _terminal("parametere", "liste", "aktivitetstilskudd.aga", "--dato", "2020-01-01")
    lines = text.splitlines()
    assert lines[0] == "Parametere per 2020-01-01"
    assert "aktivitetstilskudd.aga.referansesats" in lines
    i = lines.index("aktivitetstilskudd.aga.lonnsandel")
    assert lines[i + 1] == "    0,8  /1  2015-01-01  estimat"
    assert not any("…" in line for line in lines)
    assert max(len(line) for line in lines) <= 80


def test_params_show_at_a_date_gives_the_indexed_price() -> None:
    # 720 kr (2016-01-01) × (1 + 0.025)(1 + 0.03)(1 + 0.03)(1 + 0.031), the deflator of
    # 2017–2020 = 807.2154702 kr exactly
    res = CliRunner().invoke(
        app,
        [
            "parametere",
            "vis",
            "aktivitetstilskudd.enhetspris.HJSPL.STANDARD",
            "--dato",
            "2020-06-15",
        ],
    )
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines()[-1] == (
        "Enhetspris i kraft i 2020-06: 807,2154702 kr (grunnverdi 720 kr fra 2016-01-01, "
        "prisjustert med uttrekk.deflator for 2017–2020)"
    )
    res = CliRunner().invoke(
        app,
        ["params", "show", "aktivitetstilskudd.enhetspris.HJSPL.STANDARD", "--at", "2016-06-01"],
    )
    assert res.stdout.splitlines()[-1] == (
        "Enhetspris i kraft i 2016-06: 720 kr (grunnverdien fra 2016-01-01, ennå ikke prisjustert)"
    )
