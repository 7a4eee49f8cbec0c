"""Worked examples: each tests/cases/*.yaml holds inputs and hand-computed expected figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from conftest import write_input
from sio.cli import app
from sio.data.validation import InputInvalid, load_input
from sio.engine import Engine
from sio.parameters import apply_override_file, load_parameters

CASES = sorted((Path(__file__).parent / "cases").glob("*.yaml"))


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


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case(path: Path, tmp_path: Path) -> None:
    case = _load(path)
    data_dir, override = _setup(case, tmp_path)
    params = apply_override_file(load_parameters(), override)
    if "expected_errors" in case:
        with pytest.raises(InputInvalid) as exc:
            load_input(data_dir, params)
        found = {(p.file.split(".")[0].split("[")[0], p.row, p.field) for p in exc.value.problems}
        for e in case["expected_errors"]:
            assert (e["fil"], e["rad"], e["felt"]) in found, (e, exc.value.report())
        return
    args = ["compute", "--data", str(data_dir), "--year", str(case["year"]), "--format", "json"]
    if override:
        args += ["--override", str(override)]
    res = CliRunner().invoke(app, args)
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
