"""Scenarios (`sio scenario kjor`, docs/scenarios.md, decision 0015): the projection reproduces
the engine where the engine can compute; a participation change gives the figures worked out by
hand from scheme.md; the same seed gives the same øre; Dask gives the in-process figures; a bad
file gets its exact messages."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from conftest import max_examples, write_input
from sio.data.demo import write_demo_data
from sio.data.validation import load_input
from sio.engine import Engine
from sio.money import round_half_away
from sio.parameters import ParameterError, ParameterSet
from sio.rules.inntektspaaslag import monthly_supplement
from sio.scenario.project import COMPONENTS, WorldBin, _world_year
from sio.scenario.run import run_scenario
from sio.scenario.spec import ScenarioInvalid, load_scenario
from test_store import _pg_database

EXAMPLES = resources.files("sio.scenario") / "examples"


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    write_demo_data(out)
    return out


@pytest.fixture(scope="module")
def demo(demo_dir: Path, params: ParameterSet) -> Any:
    data, _problems = load_input(demo_dir, params)
    return data


def _scenario(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _example(tmp_path: Path, draws: int, seed: int = 2028) -> Path:
    """The shipped example, with fewer draws (and its population file beside it)."""
    text = (EXAMPLES / "nasjonal-2028.yaml").read_text(encoding="utf-8")
    text = text.replace("trekk: 200", f"trekk: {draws}").replace("seed: 2028", f"seed: {seed}")
    (tmp_path / "befolkning-demo.csv").write_text(
        (EXAMPLES / "befolkning-demo.csv").read_text(encoding="utf-8"), encoding="utf-8"
    )
    return _scenario(tmp_path, text, "nasjonal.yaml")


def test_a_scenario_without_changes_gives_the_engines_figures_to_the_oere(
    tmp_path: Path, demo: Any, params: ParameterSet
) -> None:
    """No overrides, no participation change, no uncertainty: the anchor year recomposed from
    the projection's cells equals the engine's rows, every component of every municipality, and
    so do the years after it that the data cover (the demo's phase-out years 2022–2024, which
    the engine computes from the data)."""
    file = _scenario(tmp_path, "navn: Ingen endring\nbasisaar: 2021\nhorisont: 3\n")
    r = run_scenario(load_scenario(file), demo, params)
    engine = Engine(demo, params)
    assert r.years == [2021, 2022, 2023, 2024]
    checked = 0
    for i, year in enumerate(r.years):
        rows = {row.kommunenummer: row for row in engine.compute_year(year).results}
        for u in range(len(r.anchor.units)):
            code = r.anchor.codes[u][i]
            expected = rows.get(code)
            for world in (0, 1):
                got = dict(zip(COMPONENTS, r.figures[world, 0, u, i].tolist(), strict=True))
                if expected is None:
                    assert not any(got.values()), (year, code)
                    continue
                assert got == {c: getattr(expected, c) for c in COMPONENTS}, (year, code)
                checked += 1
    assert checked == 2 * 11 * 4  # the 11 municipalities of 2021, in both worlds, every year
    # the activity grant at the anchor in øre: the cells add up to the engine's months
    year_result = engine.compute_year(2021)
    participants = [row.kommunenummer for row in year_result.results]
    assert len(participants) == 11
    for code in participants:
        u = r.anchor.units.index(code)
        row = year_result.get(code)
        assert row is not None
        engine_oere = sum(m.aktivitetstilskudd_oere for m in row.months)
        act = r.anchor.anchor_oere[u].sum(axis=0)  # months
        financed = [m.maaned for m in row.months if m.aktivitet]
        assert int(sum(act[m - 1] for m in financed)) == engine_oere


def _tiny(tmp_path: Path) -> Path:
    """One municipality (9001) outside the scheme and one (9002) in model A in 2021."""
    kommuner = [
        {
            "kommunenummer": code,
            "navn": name,
            "gyldig_fra": "1838-01-01",
            "aga_sone": "1",
            "reiseindeks": "0",
        }
        for code, name in (("9001", "Prøveby"), ("9002", "Nabobygd"))
    ]
    utgifter = [
        {"kommunenummer": k, "aar": y, "kostra_funksjon": f, "netto_driftsutgifter": v}
        for k in ("9001", "9002")
        for y in (2020, 2021)
        for f, v in (("234", 1_000_000), ("253", 5_000_000), ("254", 3_000_000), ("261", 1_000_000))
    ]
    befolkning = [
        {"kommunenummer": k, "aar": y, "aldersgruppe": g, "antall": n}
        for k in ("9001", "9002")
        for y in (2020, 2021)
        for g, n in (("0-66", 8000), ("67-79", 1200), ("80-89", 400), ("90+", 100))
    ]
    vedtak = [
        {
            "vedtak_id": f"V{k}-{s}",
            "person_id": f"P{k}{s}",
            "kommunenummer": k,
            "tjeneste": s,
            "prisgruppe": "",
            "omfang": omfang,
            "enhet": enhet,
            "fra": "2020-01-01",
            "til": "",
        }
        for k in ("9001", "9002")
        for s, omfang, enhet in (("HJSPL", "7", "timer_per_uke"), ("INST_LANG", "1", "doegn"))
    ]
    deltakelse = [
        {
            "kommunenummer": "9002",
            "modell": "A",
            "fra": "2021-01-01",
            "til": "2021-12-31",
            "covid_saerordning": "true",
        }
    ]
    return write_input(
        tmp_path / "data",
        {
            "kommuner": kommuner,
            "deltakelse": deltakelse,
            "utgifter": utgifter,
            "befolkning": befolkning,
            "vedtak": vedtak,
        },
    )


TINY_SCENARIO = """
navn: Prøveby fra juli 2023
basisaar: 2021
horisont: 3
parametere:
  uttrekk.deflator: {2016-01-01: 0.03}
  aktivitetstilskudd.enhetspris.HJSPL.STANDARD: {2016-01-01: 700, 2023-01-01: 800}
  aktivitetstilskudd.enhetspris.INST_LANG.STANDARD: {2016-01-01: 3100, 2023-01-01: 3500}
deltakelse:
  - kommuner: ["9001"]
    modell: A
    fra: 2023-07-01
"""


def test_a_participation_change_gives_the_figures_worked_out_by_hand(
    tmp_path: Path, params: ParameterSet
) -> None:
    """9001 joins model A on 1 July 2023 (scheme.md §3): no accounts after 2021, so its base
    year 2022's grunnlag is the 2021 expenditure of the base functions, 10 000 000 kr, indexed
    one year; the population does not change (W ratios 1); deflator 3 % a year; employer-tax
    zone 1 (k_aga = 1) and no travel index (k_reise = 1).

    2023 (6 months): uttrekk(2023) = 10 000 000 × 1.03² = 10 609 000, × 6/12 = 5 304 500;
    rundsum = 10 % × 10 609 000 × 6/12 = 530 450; påslag = min(4 % × 10 609 000, 28 mill.) ×
    6/12 = 212 180; activity Jul–Dec (184 days): HJSPL 7 h/week = 1 h a day × 800 kr = 147 200,
    INST_LANG 1 døgn × 3 500 kr = 644 000: 791 200. tilskudd = 1 533 830, netto = −3 770 670.

    2024 (12 months): uttrekk = 10 609 000 × 1.03 = 10 927 270; rundsum 1 092 727; påslag
    437 090.8 → 437 091; activity 366 days × (800 × 1.03 + 3 500 × 1.03) = 301 584 + 1 319 430
    = 1 621 014; tilskudd 3 150 832; netto −7 776 438. The baseline (9001 outside) is 0."""
    data_dir = _tiny(tmp_path)
    data, _problems = load_input(data_dir, params)
    r = run_scenario(load_scenario(_scenario(tmp_path, TINY_SCENARIO)), data, params)
    u = r.anchor.units.index("9001")
    got = {
        year: dict(zip(COMPONENTS, r.figures[0, 0, u, i].tolist(), strict=True))
        for i, year in enumerate(r.years)
    }
    assert got[2022] == dict.fromkeys(COMPONENTS, 0)
    assert got[2023] == {
        "uttrekk": 5_304_500,
        "toppfinansiering": 0,
        "aktivitetstilskudd": 791_200,
        "rundsumtilskudd": 530_450,
        "oeremerket_tilskudd": 0,
        "inntektspaaslag": 212_180,
        "tilskudd": 1_533_830,
        "netto": -3_770_670,
    }
    assert got[2024] == {
        "uttrekk": 10_927_270,
        "toppfinansiering": 0,
        "aktivitetstilskudd": 1_621_014,
        "rundsumtilskudd": 1_092_727,
        "oeremerket_tilskudd": 0,
        "inntektspaaslag": 437_091,
        "tilskudd": 3_150_832,
        "netto": -7_776_438,
    }
    assert not r.figures[1, 0, u].any()  # the baseline: 9001 never takes part
    assert r.months[0, u].tolist() == [0, 0, 6, 12]


def test_the_same_seed_gives_the_same_oere_and_another_seed_other_figures(
    tmp_path: Path, demo: Any, params: ParameterSet
) -> None:
    one = run_scenario(load_scenario(_example(tmp_path, 12)), demo, params)
    two = run_scenario(load_scenario(_example(tmp_path, 12)), demo, params)
    assert one.figures.dtype == np.int64
    assert np.array_equal(one.figures, two.figures)
    other = run_scenario(load_scenario(_example(tmp_path, 12, seed=7)), demo, params)
    assert not np.array_equal(one.figures[0, :, :, 7:], other.figures[0, :, :, 7:])
    # the draws vary the projection years only: the anchor year is the engine's in every draw
    assert (one.figures[:, :, :, 0] == one.figures[:, :1, :, 0]).all()


def test_dask_gives_the_in_process_figures(tmp_path: Path, demo: Any, params: ParameterSet) -> None:
    """A LocalCluster of two worker processes, with the municipalities in three bins."""
    from distributed import Client, LocalCluster

    scenario = load_scenario(_example(tmp_path, 30))
    local = run_scenario(scenario, demo, params)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        spread = run_scenario(scenario, demo, params, executor="dask", bins=3, client=client)
        assert len(client.scheduler_info()["workers"]) == 2
    assert spread.figures.shape == local.figures.shape
    assert local.figures.shape[:2] == (2, 30) and local.figures.shape[3:] == (16, 8)
    assert np.array_equal(spread.figures, local.figures)


BAD = """\
navn: Feil overalt
horisont: 0
ukjent: 1
deltakelse:
  - kommuner: [3118, "12a4"]
    modell: C
    fra: 2028-01-15
  - kommuner: alle
    modell: A
    fra: 2028-01-01
    til: 2027-12-31
  - kommuner: noen
    modell: B
    fra: 2028-01-01
tjenestebruk: {omfattende: mye}
usikkerhet:
  trekk: 0
  inndata:
    deflator: {fordeling: normal, middel: 0.03}
    tjenestebruk.alle: {fordeling: uniform, min: 1, maks: 0}
"""


def test_a_bad_scenario_file_gets_every_mistake_with_file_key_and_rule(tmp_path: Path) -> None:
    file = _scenario(tmp_path, BAD)
    with pytest.raises(ScenarioInvalid) as exc:
        load_scenario(file)
    f = str(file)
    assert exc.value.problems == [
        f"{f}: horisont: må være minst 1",
        f"{f}: deltakelse[0].kommuner: «12a4» er ikke et kommunenummer (fire sifre)",
        f"{f}: deltakelse[0].modell: må være en av 'A', 'B' eller 'ingen'",
        f"{f}: deltakelse[0].fra: må være den første dagen i en måned",
        f"{f}: deltakelse[1]: til er før fra",
        f"{f}: deltakelse[2].kommuner: må være «alle» eller en liste av kommunenumre",
        f"{f}: tjenestebruk.omfattende: må være et tall",
        f"{f}: usikkerhet.trekk: må være minst 1",
        f"{f}: usikkerhet.inndata.deflator: fordelingen normal trenger standardavvik",
        f"{f}: usikkerhet.inndata.tjenestebruk.alle: må ha min < maks",
        f"{f}: ukjent: ukjent nøkkel",
    ]


def test_missing_files_and_unknown_parameters_are_named(
    tmp_path: Path, demo: Any, params: ParameterSet
) -> None:
    file = _scenario(
        tmp_path,
        "navn: x\nhorisont: 2\nbefolkning: {fil: mangler.csv, alternativ: MMXM}\n",
    )
    with pytest.raises(ScenarioInvalid) as exc:
        load_scenario(file)
    assert exc.value.problems == [
        f"{file}: befolkning.alternativ: må være et alternativ på fire bokstaver L, M, H, K "
        "eller 0 (f.eks. MMMM)"
    ]
    file = _scenario(tmp_path, "navn: x\nhorisont: 2\nbefolkning: {fil: mangler.csv}\n")
    with pytest.raises(ScenarioInvalid) as exc:
        load_scenario(file)
    assert exc.value.problems == [f"{file}: befolkning.fil: fant ikke filen: mangler.csv"]
    file = _scenario(
        tmp_path, "navn: x\nhorisont: 2\nparametere:\n  uttrekk.finnes_ikke: {2020-01-01: 1}\n"
    )
    with pytest.raises(ParameterError) as perr:
        run_scenario(load_scenario(file), demo, params)
    assert str(perr.value) == f"{file}: parametere: 'uttrekk.finnes_ikke': unknown parameter path"


def test_a_bad_population_file_names_row_column_and_rule(
    tmp_path: Path, demo: Any, params: ParameterSet
) -> None:
    csv = tmp_path / "fram.csv"
    csv.write_text(
        '"region";"kjønn";"alder";"statistikkvariabel";"år";"Framskrevet folkemengde"\n'
        '"3118 Indre Østfold";"Menn";"85 år";"Hovedalternativet (MMMM)";"2025";"12x"\n'
        '"Ukjent";"Kvinner";"gammel";"Hovedalternativet (MMMM)";"2025";"5"\n'
        '"3118 Indre Østfold";"Menn";"85 år";"Høy nasjonal vekst (HHMH)";"2025";"zz"\n',
        encoding="utf-8",
    )
    file = _scenario(
        tmp_path, "navn: x\nbasisaar: 2021\nhorisont: 5\nbefolkning: {fil: fram.csv}\n"
    )
    from sio.scenario.population import ProjectionInvalid

    with pytest.raises(ProjectionInvalid) as exc:
        run_scenario(load_scenario(file), demo, params)
    assert exc.value.problems == [
        f"{csv}:2: Framskrevet folkemengde: må være et helt antall personer, ikke «12x»",
        f"{csv}:3: region: ikke noe kommunenummer i «Ukjent»",
        f"{csv}:3: alder: ikke en alder eller aldersgruppe: «gammel»",
    ]


def test_the_population_projection_is_read_by_alternative_and_summed_into_age_groups(
    tmp_path: Path,
) -> None:
    from sio.scenario.population import read_projection

    csv = tmp_path / "fram.csv"
    rows = ['"region";"kjønn";"alder";"statistikkvariabel";"år";"14288: Framskrevet folkemengde"']
    for alt, n in (("Hovedalternativet (MMMM)", 10), ("Lav nasjonal vekst (LLML)", 1)):
        for sex in ("Menn", "Kvinner"):
            for age in ("0 år", "66 år", "67 år", "79 år", "80 år", "89 år", "105 år eller eldre"):
                rows.append(f'"K-3118 Indre Østfold";"{sex}";"{age}";"{alt}";"2030";"{n}"')
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert read_projection(csv, "MMMM") == {
        ("3118", 2030): {"0-66": 40, "67-79": 40, "80-89": 40, "90+": 20}
    }
    assert read_projection(csv, "LLML")[("3118", 2030)]["90+"] == 2


@settings(max_examples=max_examples(300))
@given(
    extraction=st.integers(min_value=0, max_value=5_000_000_000),
    months=st.lists(st.booleans(), min_size=12, max_size=12),
    cap=st.integers(min_value=1_000_000, max_value=60_000_000),
)
def test_the_vectorised_supplement_is_the_rules_supplement(
    extraction: int, months: list[bool], cap: int
) -> None:
    """Σ over participating months of min(sats × uttrekk, tak) / 12 (`monthly_supplement` of
    sio.rules.inntektspaaslag), rounded once: the projection's float64 figure equals it unless
    the exact value lies within 10⁻⁶ kr of a half krone (decision 0015), and is never more than
    1 kr away."""
    part = np.array([[months]], np.float64)
    w = WorldBin(
        kfac=np.zeros((1, 0, 12, 1)),
        price_from=np.zeros((0, 12, 1), np.int64),
        deflator=np.zeros(1),
        extraction=np.array([float(extraction)]),
        demography=np.ones((1, 1)),
        part=part,
        act=part,
        sats=np.full((1, 12), 0.04),
        tak=np.full((1, 12), float(cap)),
        lump_share=part.sum(axis=2) * 0.1,
        phase_share=np.zeros((1, 3)),
        topp_data=np.full((1, 1), np.nan),
        topp_anchor=np.zeros(1),
        exits=(),
        early_phase=np.zeros((1, 1)),
    )
    got = _world_year(w, np.zeros((1, 0, 12, 1)), None)[0, 0]
    n = sum(months)
    month, _binds = monthly_supplement(Fraction(extraction), Fraction(4, 100), Fraction(cap))
    exact = month * n
    lump = Fraction(1, 10) * Fraction(extraction) / 12 * n
    for value, column in ((exact, 5), (lump, 3), (Fraction(extraction) * n / 12, 0)):
        near_tie = abs(value - math.floor(value) - Fraction(1, 2)) < Fraction(1, 10**6)
        assert abs(int(got[column]) - round_half_away(value)) <= 1
        if not near_tie:
            assert int(got[column]) == round_half_away(value)


def test_the_command_writes_fan_charts_tables_and_json(tmp_path: Path, demo_dir: Path) -> None:
    from sio.cli import app

    file = _example(tmp_path, 8)
    out = tmp_path / "ut"
    result = CliRunner().invoke(
        app, ["scenario", "kjor", str(file), "--data", str(demo_dir), "--ut", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "Nasjonal innføring fra 2028: basisår 2021, 15 år, 8 trekk (seed 2028)" in (
        " ".join(result.output.split())
    )
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "kommuner.csv",
        "nasjonalt.csv",
        "scenario.html",
        "scenario.json",
        "scenario.xlsx",
        "trekk.csv",
    ]
    doc = json.loads((out / "scenario.json").read_text(encoding="utf-8"))
    assert doc["aar"] == list(range(2021, 2037))
    nat = doc["nasjonalt"]
    # the anchor year is the engine's figure in every draw: p10 = p50 = p90
    assert len({nat["2021"]["tilskudd"]["scenario"][p] for p in ("p10", "p50", "p90")}) == 1
    # every municipality takes part from 2028 in the scenario, none in the baseline
    assert nat["2027"]["uttrekk"]["scenario"]["p50"] == 0
    assert nat["2028"]["uttrekk"]["scenario"]["p10"] > 0
    assert nat["2028"]["uttrekk"]["basis"]["p90"] == 0
    html = (out / "scenario.html").read_text(encoding="utf-8")
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart fan"') == 5
    assert 'data-year="2036"' in html
    lines = (out / "nasjonalt.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("aar,storrelse,scenario_p10,scenario_p50,scenario_p90,basis_p10")
    assert len(lines) == 1 + 16 * 9


def test_the_command_lists_the_mistakes_of_a_bad_file_and_exits_2(
    tmp_path: Path, demo_dir: Path
) -> None:
    from sio.cli import app

    file = _scenario(tmp_path, "navn: x\nhorisont: 100\n")
    result = CliRunner().invoke(app, ["scenario", "kjor", str(file), "--data", str(demo_dir)])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "Scenariofilen har 1 feil; ingenting ble beregnet:" in text
    assert f"{file}: horisont: kan være høyst 50" in text


def test_participation_from_a_date_cuts_the_datas_rows(
    tmp_path: Path, demo: Any, params: ParameterSet
) -> None:
    """`modell: ingen` from 2021-07-01 ends Lødingen's (1851) participation after June: the
    scenario's 2021 has 6 months, and its phase-out follows in 2022 (3/4 of the supplement of
    2021 scaled to 12 months, scheme.md §3.2); the baseline keeps the data's 12 months."""
    file = _scenario(
        tmp_path,
        "navn: x\nbasisaar: 2021\nhorisont: 1\ndeltakelse:\n"
        "  - {kommuner: ['1851'], modell: ingen, fra: 2021-07-01}\n",
    )
    r = run_scenario(load_scenario(file), demo, params)
    u = r.anchor.units.index("1851")
    assert r.months[0, u].tolist() == [6, 0]
    assert r.months[1, u].tolist() == [12, 0]
    pa = COMPONENTS.index("inntektspaaslag")
    half_year = r.figures[0, 0, u, 0, pa]
    assert abs(int(r.figures[0, 0, u, 1, pa]) - round(half_year * 2 * 0.75)) <= 1


@pytest.fixture(params=["sqlite", "postgresql"])
def scenario_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A SQLite file or a fresh PostgreSQL database (which fails, never skips, under CI)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'sio.db'}"
        return
    with _pg_database() as url:
        yield url


def test_the_command_runs_on_the_store_as_on_the_files(
    tmp_path: Path, demo_dir: Path, monkeypatch: pytest.MonkeyPatch, scenario_store: str
) -> None:
    """`--db` reads the newest data version of the store (a SQLite file, and PostgreSQL): the
    same figures as from the folder it was imported from."""
    from sio.cli import app

    monkeypatch.setenv("SIO_DATABASE_URL", scenario_store)
    runner = CliRunner()
    assert runner.invoke(app, ["importer", str(demo_dir)]).exit_code == 0
    file = _example(tmp_path, 4)
    for source, out in ((["--db"], "db"), (["--data", str(demo_dir)], "files")):
        result = runner.invoke(
            app, ["scenario", "kjor", str(file), *source, "--ut", str(tmp_path / out)]
        )
        assert result.exit_code == 0, result.output
    for name in ("nasjonalt.csv", "kommuner.csv", "trekk.csv"):
        assert (tmp_path / "db" / name).read_bytes() == (tmp_path / "files" / name).read_bytes()


NEEDS_SCENARIO = """
navn: Prøveby fra 2022, etter behov og alder
basisaar: 2021
horisont: 1
parametere:
  uttrekk.deflator: {2016-01-01: 0.03}
  aktivitetstilskudd.enhetspris.HJSPL.STANDARD: {2016-01-01: 700, 2022-01-01: 800}
  aktivitetstilskudd.enhetspris.INST_LANG.STANDARD: {2016-01-01: 3100, 2022-01-01: 3500}
deltakelse:
  - {kommuner: ["9001"], modell: A, fra: 2022-01-01}
tjenestebruk: {omfattende: 0.05, noe_avgrenset: 0.0, alle: 0.5}
"""


def test_volumes_follow_their_users_age_group_and_need_level(
    tmp_path: Path, params: ParameterSet
) -> None:
    """9001's home-nursing user (born 1936: 80–89 in 2021) has need level omfattende, its
    nursing-home resident (born 1951: 67–79) noe/avgrenset. In 2022 the 80–89 group grows by
    10 % (400 → 440), the others stay; service use grows 5 % a year for omfattende, 0 for
    noe/avgrenset (`alle` would give 50 %: it is not used).

    Activity 2022 (365 days): HJSPL 1 h a day × 800 kr × 1.10 × 1.05 = 337 260; INST_LANG
    1 døgn × 3 500 kr × 1 × 1 = 1 277 500; in all 1 614 760. uttrekk(2022) = grunnlag(2021)
    10 000 000 × 1.03 × W(2022) / W(2021), W = Σ pop × weight (3 000, 20 000, 110 000,
    300 000): 122 000 000 → 126 400 000, so 10 671 475.41 → 10 671 475."""
    data_dir = _tiny(tmp_path)
    with (data_dir / "befolkning.csv").open("a", encoding="utf-8") as fh:
        for k in ("9001", "9002"):
            for g, n in (("0-66", 8000), ("67-79", 1200), ("80-89", 440), ("90+", 100)):
                fh.write(f"{k},2022,{g},{n}\n")
    (data_dir / "personer.csv").write_text(
        "person_id,foedselsaar\nP9001HJSPL,1936\nP9001INST_LANG,1951\n", encoding="utf-8"
    )
    (data_dir / "kartlegging.csv").write_text(
        "person_id,kommunenummer,dato,behovsniva\n"
        "P9001HJSPL,9001,2021-03-01,omfattende\n"
        "P9001INST_LANG,9001,2021-03-01,noe_avgrenset\n",
        encoding="utf-8",
    )
    data, _problems = load_input(data_dir, params)
    r = run_scenario(load_scenario(_scenario(tmp_path, NEEDS_SCENARIO)), data, params)
    assert r.anchor.needs == ["noe_avgrenset", "omfattende", "ukjent"]
    u = r.anchor.units.index("9001")
    got = dict(zip(COMPONENTS, r.figures[0, 0, u, 1].tolist(), strict=True))
    assert got["aktivitetstilskudd"] == 1_614_760
    assert got["uttrekk"] == 10_671_475
