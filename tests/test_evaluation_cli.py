"""`sio evaluer` end to end, as a user runs it: an input folder with six trial and six control
municipalities, assessments and persons, and a planted effect of +1 hour per week in the trial
municipalities from their start; the report's three files from the folder, and the same figures
from the store (SQLite and PostgreSQL) after `sio importer`."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sio.cli import app
from test_store import _pg_database

RUNNER = CliRunner()
EFFECT = 1.0
IPLOS = (
    "sosial_deltakelse,beslutninger_dagliglivet,styre_atferd,alminnelig_husarbeid,skaffe_varer,"
    "personlig_hygiene,av_og_paakledning,spise,lage_mat,ivareta_egen_helse,bevege_seg_innendoers,"
    "bevege_seg_utendoers,toalett,hukommelse,kommunikasjon,syn,hoersel"
)
LEVEL_HOURS = {"noe_avgrenset": 1.5, "middels_til_stort": 4.0, "omfattende": 9.0}


def write_world(d: Path, seed: int = 4, effect: float = EFFECT) -> Path:
    """12 municipalities 2015–2020; 0101–0106 take part (model A) 2017-01-01 – 2020-12-31.
    Each has 40 users with one home-nursing vedtak a year (hours by need level × a municipal
    factor, + `effect` in participating years) and every eighth a long-term stay; assessments
    dated 2015-01-01 (every third with all 17 scores 3, the rest a need level only)."""
    rng = random.Random(seed)
    d.mkdir(parents=True, exist_ok=True)
    codes = [f"01{i:02d}" for i in range(1, 13)]
    trial = set(codes[:6])
    years = range(2015, 2021)
    rows = {
        "kommuner": ["kommunenummer,navn,gyldig_fra,gyldig_til,aga_sone,reiseindeks,etterfolger"],
        "deltakelse": ["kommunenummer,modell,fra,til,aktivitet_fra,covid_saerordning"],
        "utgifter": ["kommunenummer,aar,kostra_funksjon,netto_driftsutgifter"],
        "befolkning": ["kommunenummer,aar,aldersgruppe,antall"],
        "vedtak": ["vedtak_id,person_id,kommunenummer,tjeneste,prisgruppe,omfang,enhet,fra,til"],
        "kartlegging": [f"person_id,kommunenummer,dato,{IPLOS},behovsniva"],
        "personer": ["person_id,foedselsaar,kjoenn,bor_alene"],
    }
    n = 0
    for code in codes:
        rows["kommuner"].append(f"{code},Kommune {code},2000-01-01,,1,0,")
        if code in trial:
            rows["deltakelse"].append(f"{code},A,2017-01-01,2020-12-31,2017-01-01,true")
        for y in (2015, 2016):
            rows["utgifter"].append(f"{code},{y},254,40000000")
        for y in years:
            for group, count in (("0-66", 5000), ("67-79", 600), ("80-89", 200), ("90+", 50)):
                rows["befolkning"].append(f"{code},{y},{group},{count}")
        factor = math.exp(rng.gauss(0, 0.15))
        for p in range(40):
            pid = f"P{code}{p:03d}"
            level = rng.choice(list(LEVEL_HOURS))
            scored = p % 3 == 0
            if scored:
                level = "middels_til_stort"  # all 17 scores 3
            cells = ",".join(["3"] * 17) if scored else "," * 16
            rows["kartlegging"].append(f"{pid},{code},2015-01-01,{cells},{'' if scored else level}")
            born = rng.randint(1925, 1950)
            alone = rng.choice(["true", "false"])
            rows["personer"].append(f"{pid},{born},{rng.choice('KM')},{alone}")
            for y in years:
                n += 1
                if p % 8 == 0:
                    rows["vedtak"].append(
                        f"V{n},{pid},{code},INST_LANG,,1,doegn,{y}-01-01,{y}-12-31"
                    )
                    continue
                hours = LEVEL_HOURS[level] * factor + rng.gauss(0, 0.8)
                if code in trial and y >= 2017:
                    hours += effect
                hours = max(0.25, round(hours * 4) / 4)
                rows["vedtak"].append(
                    f"V{n},{pid},{code},HJSPL,,{hours},timer_per_uke,{y}-01-01,{y}-12-31"
                )
    for name, lines in rows.items():
        (d / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_world(tmp_path_factory.mktemp("world") / "inndata")


def _evaluate(args: list[str], out: Path, env: dict[str, str] | None = None) -> dict:  # type: ignore[type-arg]
    res = RUNNER.invoke(
        app,
        [
            "evaluer",
            *args,
            "--fra",
            "2015",
            "--til",
            "2020",
            "--ut",
            str(out),
            "--permutasjoner",
            "199",
        ],
        env=env,
    )
    assert res.exit_code == 0, res.output
    return json.loads((out / "evaluering.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def from_files(world: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:  # type: ignore[type-arg]
    return _evaluate(["--data", str(world)], tmp_path_factory.mktemp("out"))


def test_the_planted_effect_is_found_from_files(from_files: dict) -> None:  # type: ignore[type-arg]
    did = {d["outcome"]: d for d in from_files["did"]}
    hours = did["hours_per_user"]
    # every eighth user is in a long-term stay (0 hours): the effect per user is 35/40 of it
    per_user = EFFECT * 35 / 40
    assert hours["ci_low"] <= per_user <= hours["ci_high"]
    assert hours["p_value"] < 0.05
    assert hours["n_units"] == 6 and len(hours["control_units"]) == 6
    # C(12, 6) = 924 assignments; 199 permutations: the smallest p-value is 1/200
    assert hours["distinct_assignments"] == 924
    assert hours["min_p_value"] == pytest.approx(1 / 200)
    assert hours["flagged_years"] == {"2019": ["register_break"], "2020": ["register_break"]}
    events = {e["event_time"]: e for e in hours["event_study"]}
    assert events[-1]["estimate"] == 0.0
    assert abs(events[-2]["estimate"]) < 0.3  # before the start: no effect beyond the noise
    assert all(events[e]["p_value"] < 0.05 for e in (0, 1, 2, 3))
    assert {e for e in events} == {-2, -1, 0, 1, 2, 3}
    meta = from_files["meta"]
    assert meta["persons"] == 480 and meta["person_years"] == 480 * 6
    assert not meta["synthetic"]  # nothing in the folder says so
    assert meta["estimated"]["cost"] and meta["estimated"]["coverage"]


def test_coverage_and_equal_treatment_in_the_report(from_files: dict) -> None:  # type: ignore[type-arg]
    cov = [r for r in from_files["coverage"] if r["aar"] == 2020]
    assert len(cov) == 12
    for r in cov:
        assert r["users"] == 40 and r["assessed"] == 40 and r["unassessed"] == 0
        assert sum(r[c] for c in ("within", "below", "above", "other")) == pytest.approx(1.0)
        assert r["within_low"] <= r["within"] <= r["within_high"]
    icc = from_files["equal_treatment"]["icc_mixed"]["hour_equivalents"]
    # the municipal factor (sd 0.15 on hours of 1.5–9) makes the municipality matter a little
    assert 0 < icc["icc"] < 0.5 and icc["ci_low"] <= icc["icc"] <= icc["ci_high"]
    assert icc["municipalities"] == 12 and icc["n"] == 480 * 6


def test_the_report_files(from_files: dict, world: Path, tmp_path: Path) -> None:  # type: ignore[type-arg]
    from openpyxl import load_workbook

    out = tmp_path / "rapport"
    _evaluate(["--data", str(world)], out)
    html = (out / "evaluering.html").read_text(encoding="utf-8")
    assert html.count("<svg") >= 8
    assert "Forskjell i forskjeller" in html and "Behovsdekning" in html
    assert "registerbrudd" in html or "brudd i de nasjonale registerseriene" in html
    wb = load_workbook(out / "evaluering.xlsx", read_only=True)
    assert wb.sheetnames[:3] == ["Om tallene", "ICC", "ICC per år"]
    assert "Hendelsesstudie" in wb.sheetnames


def test_english_and_the_english_option_names(world: Path, tmp_path: Path) -> None:
    res = RUNNER.invoke(
        app,
        [
            "--lang",
            "en",
            "evaluate",
            "--data",
            str(world),
            "--from",
            "2015",
            "--to",
            "2020",
            "--out",
            str(tmp_path),
            "--permutations",
            "19",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "DiD hours per week per user" in res.stdout
    assert "Trial against control" in (tmp_path / "evaluering.html").read_text(encoding="utf-8")


def test_bad_options_exit_2(world: Path, tmp_path: Path) -> None:
    res = RUNNER.invoke(app, ["evaluer", "--data", str(world), "--fra", "2020", "--til", "2015"])
    assert res.exit_code == 2
    res = RUNNER.invoke(app, ["evaluer", "--fra", "2015", "--til", "2020"])
    assert res.exit_code == 2 and "--data" in res.output
    res = RUNNER.invoke(
        app,
        ["evaluer", "--data", str(world), "--fra", "2030", "--til", "2031", "--ut", str(tmp_path)],
    )
    assert res.exit_code == 2 and "2015–2020" in res.output
    assert not (tmp_path / "evaluering.json").exists()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'sio.db'}"
        return
    with _pg_database() as url:
        yield url


def test_the_same_figures_from_the_store(
    store_url: str,
    world: Path,
    from_files: dict,  # type: ignore[type-arg]
    tmp_path: Path,
) -> None:
    env = {"SIO_DATABASE_URL": store_url}
    res = RUNNER.invoke(app, ["importer", str(world)], env=env)
    assert res.exit_code == 0, res.output
    got = _evaluate(["--db"], tmp_path / "db", env)
    assert got["meta"]["data_version"] == 1
    assert got["did"] == from_files["did"]
    assert got["coverage"] == from_files["coverage"]
    assert got["equal_treatment"] == from_files["equal_treatment"]
