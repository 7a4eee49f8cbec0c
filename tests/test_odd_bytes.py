"""Odd bytes in input files: a NUL in a text field and a header naming a column twice are
refused by the validation — file, row and field named, exit 2, nothing stored — on SQLite and on
PostgreSQL alike (PostgreSQL cannot store NUL at all; which of two equal columns is meant is
unknowable)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from conftest import write_input
from sio.cli import app
from test_cli import small_world
from test_store import store_url  # noqa: F401  (the SQLite/PostgreSQL fixture)


def _versions(runner: CliRunner, env: dict[str, str]) -> str:
    res = runner.invoke(app, ["data", "versions", "--format", "json"], env=env)
    assert res.exit_code == 0, res.output
    return res.stdout


def test_a_nul_in_a_text_field_is_a_validation_error(store_url: str, tmp_path: Path) -> None:  # noqa: F811
    env = {"SIO_DATABASE_URL": store_url, "SIO_LANG": "nb", "COLUMNS": "200"}
    runner = CliRunner()
    w = small_world()
    w["kommuner"][0]["navn"] = "Test\x00by"
    w["vedtak"][0]["person_id"] = "P\x001"
    d = write_input(tmp_path / "d", w)
    before = _versions(runner, env)
    res = runner.invoke(app, ["import", str(d)], env=env)
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    assert "kommuner.csv:2: navn: inneholder et NUL-tegn, som ikke kan lagres" in text
    assert "vedtak.csv:2: person_id: inneholder et NUL-tegn, som ikke kan lagres" in text
    assert _versions(runner, env) == before


def test_a_column_named_twice_is_refused(store_url: str, tmp_path: Path) -> None:  # noqa: F811
    env = {"SIO_DATABASE_URL": store_url, "SIO_LANG": "nb", "COLUMNS": "200"}
    runner = CliRunner()
    d = write_input(tmp_path / "d", small_world())
    vedtak = d / "vedtak.csv"
    lines = vedtak.read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + ",omfang"] + [ln + ",99" for ln in lines[1:]]
    vedtak.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = _versions(runner, env)
    res = runner.invoke(app, ["import", str(d)], env=env)
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    assert "vedtak.csv: kolonnen 'omfang' står mer enn én gang i overskriften" in text
    assert _versions(runner, env) == before
    res = runner.invoke(app, ["compute", "--data", str(d), "--year", "2016"], env=env)
    assert res.exit_code == 2
