"""Worked examples: each tests/cases/*.yaml holds inputs and hand-computed expected figures.

An error case (`expected_errors`) must report exactly the expected errors: each entry names the
file, line and field and a `regel`, a substring of the rule's message (Norwegian, the default
language); any other error fails the case (warnings are not errors). A computed case may list
`expected_warnings`: each entry's `kommunenummer` and `contains` text must occur together on one
line of what `sio compute` prints on stderr (digit groups may be spaced, "1 277 458").

Cases in tests/cases_pending/ are worked out for rules the code does not follow yet; they are
moved here when it does.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from conftest import write_input
from sio.cli import app
from sio.data.validation import ERROR, InputInvalid, Problem, load_input
from sio.engine import Engine
from sio.parameters import apply_override_file, load_parameters

CASES = sorted((Path(__file__).parent / "cases").glob("*.yaml"))
# Wide enough that the console does not wrap a warning over several lines.
WIDE = {"COLUMNS": "1000"}


def _load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        data: dict[str, Any] = yaml.safe_load(fh)
    return data


def _setup(case: dict[str, Any], tmp_path: Path) -> tuple[Path, Path | None]:
    data_dir = write_input(tmp_path / "data", case["input"], only_present=True)
    override = None
    if case.get("override"):
        override = tmp_path / "override.yaml"
        override.write_text(yaml.safe_dump(case["override"]), encoding="utf-8")
    return data_dir, override


def _where(p: Problem) -> tuple[str, int | None, str | None]:
    return p.file.split(".")[0].split("[")[0], p.row, p.field


def _matches(p: Problem, e: dict[str, Any]) -> bool:
    return _where(p) == (e["fil"], e["rad"], e["felt"]) and str(e["regel"]) in p.message


def _check_errors(case: dict[str, Any], problems: list[Problem], report: str) -> None:
    """Every expected error is reported with its rule, and no other error is."""
    expected = case["expected_errors"]
    errors = [p for p in problems if p.severity == ERROR]
    for e in expected:
        assert "regel" in e, ("an expected error names its rule (`regel`)", e)
        at = [p for p in errors if _where(p) == (e["fil"], e["rad"], e["felt"])]
        assert at, (e, report)
        assert any(_matches(p, e) for p in at), (e, [p.message for p in at])
    unexpected = [str(p) for p in errors if not any(_matches(p, e) for e in expected)]
    assert not unexpected, unexpected


def _plain(text: str) -> str:
    """Text with no-break spaces as plain spaces and runs of blanks as one space."""
    return re.sub(r"[ \t]+", " ", text.replace("\xa0", " ").replace("\u202f", " "))


def _ungrouped(text: str) -> str:
    """Text with the spaces between digit groups of numbers removed ("1 277 458" → "1277458")."""
    return re.sub(r"(?<=\d) (?=\d{3}(?!\d))", "", text)


def _check_warnings(case: dict[str, Any], stderr: str) -> None:
    """Each expected warning: one stderr line names the municipality and holds the text."""
    lines = [_plain(line) for line in stderr.splitlines()]
    for w in case.get("expected_warnings") or []:
        kommune = re.escape(str(w["kommunenummer"]))
        code = re.compile(rf"(?<!\d){kommune}(?!\d)")
        text = _plain(str(w["contains"]))
        found = any(
            code.search(line) and (text in line or _ungrouped(text) in _ungrouped(line))
            for line in lines
        )
        assert found, (w, stderr)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case(path: Path, tmp_path: Path) -> None:
    case = _load(path)
    data_dir, override = _setup(case, tmp_path)
    params = apply_override_file(load_parameters(), override)
    if "expected_errors" in case:
        with pytest.raises(InputInvalid) as exc:
            load_input(data_dir, params)
        _check_errors(case, exc.value.problems, exc.value.report())
        return
    args = ["compute", "--data", str(data_dir), "--year", str(case["year"]), "--format", "json"]
    if override:
        args += ["--override", str(override)]
    res = CliRunner().invoke(app, args, env=WIDE)
    assert res.exit_code == 0, res.output
    rows = {r["kommunenummer"]: r for r in json.loads(res.stdout)}
    expected = case.get("expected") or []
    assert set(rows) == {str(e["kommunenummer"]) for e in expected}
    for e in expected:
        got = rows[str(e["kommunenummer"])]
        for key, value in e.items():
            assert got[key] == value, (key, got)
        for row in rows.values():
            amounts = ("aktivitetstilskudd", "rundsumtilskudd", "oeremerket_tilskudd")
            assert row["tilskudd"] == sum(row[a] for a in amounts) + row["inntektspaaslag"]
            assert row["netto"] == row["tilskudd"] - row["uttrekk"] - row["toppfinansiering"]
    _check_warnings(case, res.stderr)
    if case.get("expected_estimates"):
        first = rows[str(expected[0]["kommunenummer"])]
        assert set(case["expected_estimates"]) <= set(first["estimerte_parametere"])
    if case.get("expected_not_estimates"):
        first = rows[str(expected[0]["kommunenummer"])]
        assert not set(case["expected_not_estimates"]) & set(first["estimerte_parametere"])
    if case.get("expected_monthly"):
        data, _ = load_input(data_dir, params)
        yr = Engine(data, params).compute_year(case["year"])
        for e in case["expected_monthly"]:
            my = yr.get(str(e["kommunenummer"]))
            assert my is not None
            month = next(m for m in my.months if m.maaned == e["maaned"])
            assert month.aktivitetstilskudd_oere == e["aktivitetstilskudd_oere"], e
