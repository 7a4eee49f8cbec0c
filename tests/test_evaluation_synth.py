"""`sio syntetisk nasjonal --effekt …` then `sio evaluer`, end to end: the planted effects are
found by the evaluation over three seeds (two one-year data sets and one of 2016–2024), from the
files and from the store (SQLite and PostgreSQL); a world without a narrowing shows none. The
truth comes from the data set's own `synth.json`.

- institusjon=ψ moves a share ψ of the participants' new long-term stays to home nursing: the
  same seed without it differs only in the moved users, so the mean over trial units of the
  difference in their shares of users in an institution, over their participating years, is the
  true effect, which must lie in the DiD's 95 % interval;
- likebehandling=θ shrinks each participating municipality's deviation in home hours by θ for
  decisions made after its start: the between-municipality spread of home hours for the same
  need, in the decisions made after the start against the years before, is 1 − θ, which must lie
  in its interval, and the interval must lie below 1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from sio.cli import app
from test_evaluation_cli import store_url  # noqa: F401  (the SQLite/PostgreSQL fixture)

RUNNER = CliRunner()
THETA, PSI = 0.5, 0.5
PERSONS = 8_000


Years = tuple[int, int] | None
"""The years of a multi-year data set (participation from `WINDOW_START`), or None: one year."""
WINDOW_START = 2020


def window(years: Years) -> tuple[int, int]:
    """The years `sio evaluer` looks at: the data set's years, or 2019–2021 of a one-year set."""
    return years or (2019, 2021)


def synth(
    out: Path,
    seed: int,
    psi: float = PSI,
    theta: float = THETA,
    years: Years = None,
    persons: int = PERSONS,
) -> dict[str, Any]:
    effects = ["--effekt", f"likebehandling={theta}"] if theta else ["--kommunevariasjon", "0.25"]
    if psi:
        effects += ["--effekt", f"institusjon={psi}"]
    if years is not None:
        effects += ["--fra-aar", str(years[0]), "--til-aar", str(years[1])]
        effects += ["--aar", str(WINDOW_START)]
    res = RUNNER.invoke(
        app,
        [
            "syntetisk",
            "nasjonal",
            "--ut",
            str(out),
            "--personer",
            str(persons),
            "--seed",
            str(seed),
            *effects,
        ],
    )
    assert res.exit_code == 0, res.output
    return json.loads((out / "synth.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def evaluate(
    args: list[str], out: Path, env: dict[str, str] | None = None, years: Years = None
) -> dict[str, Any]:
    first, last = window(years)
    res = RUNNER.invoke(
        app,
        [
            "evaluer",
            *args,
            "--fra",
            str(first),
            "--til",
            str(last),
            "--ut",
            str(out),
            "--permutasjoner",
            "199",
        ],
        env=env,
    )
    assert res.exit_code == 0, res.output
    return json.loads((out / "evaluering.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def institution_shares(data: Path, years: Years = None) -> dict[str, float]:
    """The mean share of users in an institution per unit over the participating years."""
    from sio.data.validation import load_input
    from sio.evaluation.did import unit_year_outcomes
    from sio.evaluation.frame import build_frame
    from sio.parameters import load_parameters

    first, last = window(years)
    start = WINDOW_START if years else last
    params = load_parameters()
    inp, _problems = load_input(data, params)
    rows = (
        unit_year_outcomes(build_frame(inp, params, first, last))
        .filter(pl.col("aar") >= start)
        .group_by("unit")
        .agg(pl.col("institution_share").mean())
    )
    return dict(rows.select("unit", "institution_share").iter_rows())


@pytest.fixture(
    scope="module", params=[(1, None, PERSONS), (2, None, PERSONS), (3, (2016, 2024), 40_000)]
)
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The data set with both effects, its truth, and the true effect on the institution share:
    the same seed without the institution effect differs only in the moved users, so the mean
    over trial units of the difference in their shares over the participating years is what the
    DiD should find. The data set over 2016–2024 spreads its users over nine years, so it needs
    more of them for as many on each 31 December (the controls would have a handful each)."""
    seed, years, persons = request.param
    base = tmp_path_factory.mktemp(f"synth{seed}")
    truth = synth(base / "d", seed, years=years, persons=persons)
    synth(base / "d0", seed, psi=0.0, years=years, persons=persons)
    with_effect = institution_shares(base / "d", years)
    without = institution_shares(base / "d0", years)
    from_files = evaluate(["--data", str(base / "d")], base / "out", years=years)
    return base, truth, with_effect, without, from_files


def _check(result: dict[str, Any], truth: dict[str, Any], shares: tuple[Any, Any]) -> None:
    meta = result["meta"]
    assert meta["synthetic"]
    controls = {c["navn"] for c in truth["kontrollkommuner"]}
    assert controls <= {u["navn"] for u in meta["units"] if not u["trial"]}
    did = {d["outcome"]: d for d in result["did"]}["institution_share"]
    with_effect, without = shares
    true_effect = sum(with_effect[u] - without[u] for u in did["treated_units"]) / len(
        did["treated_units"]
    )
    assert true_effect < 0
    assert did["ci_low"] <= true_effect <= did["ci_high"]
    spread = result["equal_treatment"]["dispersion"]["trial"]
    assert spread["ci_low"] <= 1 - THETA <= spread["ci_high"] < 1.0


def test_planted_effects_are_found_from_files(world: Any) -> None:
    _base, truth, with_effect, without, from_files = world
    assert truth["effekter"]["likebehandling"] == THETA
    assert truth["effekter"]["institusjon"] == PSI
    _check(from_files, truth, (with_effect, without))
    if truth.get("aar_fra"):
        assert from_files["meta"]["first"] == 2016
        assert set(from_files["meta"]["register_break_years"]) == {2019, 2020}
        assert set(from_files["meta"]["merger_years"]) == {"2018", "2020", "2024"}


def test_a_world_without_a_narrowing_shows_none(tmp_path: Path) -> None:
    """The same kind of world with municipal differences but nothing planted: the spread's
    interval in the trial municipalities holds 1 (the rate at which worlds without an effect are
    rejected is checked on the estimators, over many worlds, in tests/test_evaluation.py)."""
    synth(tmp_path / "d", 4, psi=0.0, theta=0.0)
    result = evaluate(["--data", str(tmp_path / "d")], tmp_path / "out")
    spread = result["equal_treatment"]["dispersion"]["trial"]
    assert spread["ci_low"] <= 1.0 <= spread["ci_high"]


def test_planted_effects_are_found_from_the_store(
    store_url: str,  # noqa: F811
    world: Any,
    tmp_path: Path,
) -> None:
    base, truth, with_effect, without, from_files = world
    if truth["seed"] != 1:
        return  # the store is checked on one seed (each import takes a while)
    env = {"SIO_DATABASE_URL": store_url}
    res = RUNNER.invoke(app, ["importer", str(base / "d")], env=env)
    assert res.exit_code == 0, res.output
    from_db = evaluate(["--db", "--syntetisk"], tmp_path / "db", env)
    _check(from_db, truth, (with_effect, without))
    assert from_db["did"] == from_files["did"]
    assert from_db["coverage"] == from_files["coverage"]
