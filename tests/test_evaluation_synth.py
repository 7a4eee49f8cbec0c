"""`sio syntetisk nasjonal --effekt …` then `sio evaluer`, end to end: the planted effects are
found by the evaluation over two seeds, from the files and from the store (SQLite and
PostgreSQL). The truth comes from the data set's own `synth.json`.

- institusjon=ψ moves a share ψ of the participants' new long-term stays to home nursing: the
  same seed without it differs only in the moved users, so the mean over trial units of the
  difference in their shares of users in an institution is the true effect, which must lie in the
  DiD's 95 % interval;
- likebehandling=θ shrinks each participating municipality's deviation in home hours by θ for
  decisions made after its start: the between-municipality spread of home hours for the same
  need after / before must be below 1 with its interval (decisions made before the start still
  count on 31 December, so the ratio lies between 1 − θ and 1).
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


def synth(out: Path, seed: int, psi: float = PSI) -> dict[str, Any]:
    effects = ["--effekt", f"likebehandling={THETA}"]
    if psi:
        effects += ["--effekt", f"institusjon={psi}"]
    res = RUNNER.invoke(
        app,
        [
            "syntetisk",
            "nasjonal",
            "--ut",
            str(out),
            "--personer",
            str(PERSONS),
            "--seed",
            str(seed),
            *effects,
        ],
    )
    assert res.exit_code == 0, res.output
    return json.loads((out / "synth.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def evaluate(args: list[str], out: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    res = RUNNER.invoke(
        app,
        [
            "evaluer",
            *args,
            "--fra",
            "2019",
            "--til",
            "2021",
            "--ut",
            str(out),
            "--permutasjoner",
            "199",
        ],
        env=env,
    )
    assert res.exit_code == 0, res.output
    return json.loads((out / "evaluering.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def institution_shares(data: Path) -> dict[str, float]:
    """The share of users in an institution per unit on 31 December 2021."""
    from sio.data.validation import load_input
    from sio.evaluation.did import unit_year_outcomes
    from sio.evaluation.frame import build_frame
    from sio.parameters import load_parameters

    params = load_parameters()
    inp, _problems = load_input(data, params)
    rows = unit_year_outcomes(build_frame(inp, params, 2019, 2021)).filter(pl.col("aar") == 2021)
    return dict(rows.select("unit", "institution_share").iter_rows())


@pytest.fixture(scope="module", params=[1, 2])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The data set with both effects, its truth, and the true effect on the institution share:
    the same seed without the institution effect differs only in the moved users, so the mean
    over trial units of the difference in their 2021 shares is what the DiD should find."""
    base = tmp_path_factory.mktemp(f"synth{request.param}")
    truth = synth(base / "d", request.param)
    synth(base / "d0", request.param, psi=0.0)
    with_effect, without = institution_shares(base / "d"), institution_shares(base / "d0")
    from_files = evaluate(["--data", str(base / "d")], base / "out")
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
    assert spread["ci_high"] < 1.0
    assert spread["ratio"] > 1 - THETA - 0.1


def test_planted_effects_are_found_from_files(world: Any) -> None:
    _base, truth, with_effect, without, from_files = world
    assert truth["effekter"]["likebehandling"] == THETA
    assert truth["effekter"]["institusjon"] == PSI
    _check(from_files, truth, (with_effect, without))


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
