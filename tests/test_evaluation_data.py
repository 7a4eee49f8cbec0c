"""The evaluation's input tables `kartlegging` and `personer` (docs/evaluation-data.md): read,
checked and typed from files and from the store (SQLite and PostgreSQL), with exact messages for
bad rows; the vectorised need level agrees with the casework service's `classify`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import max_examples, write_input
from sio.criteria import IPLOS_VARIABLES, SCORES, classify, load_criteria
from sio.criteria.iplos import scores_from_mapping
from sio.data.evaluation_tables import need_level_expr
from sio.data.tables import IPLOS_COLUMNS
from sio.data.validation import InputInvalid, load_input
from sio.parameters import ParameterSet
from sio.store.versions import diff_versions, import_path, load_version
from test_cli import small_world
from test_store import _store, store_url  # noqa: F401  (the SQLite and PostgreSQL stores)

ONES = dict.fromkeys(IPLOS_COLUMNS, 1)


def _world() -> dict[str, list[dict[str, Any]]]:
    """The small world of test_cli (municipality 9001, valid from 1900, one vedtak of P1) with
    four assessments and two persons.

    Need levels by hand from the default rule (criteria/data/behovsnivaa.yaml, 9 counts as 1):
    - line 2, all 1: mean 1, no score ≥ 3 → noe_avgrenset;
    - line 3, four variables at 3 (one of the 17 is 9 = 1): four scores ≥ 3 → middels_til_stort;
    - line 4, six variables at 4, rest 1: six scores ≥ 4 → omfattende;
    - line 5, no scores: the level given, middels_til_stort."""
    w = small_world()
    four_3 = {"spise": 3, "toalett": 3, "syn": 3, "hukommelse": 3, "hoersel": 9}
    six_4 = dict.fromkeys(IPLOS_COLUMNS[:6], 4)
    w["kartlegging"] = [
        {"person_id": "P1", "kommunenummer": "9001", "dato": "2016-02-01", **ONES},
        {"person_id": "P1", "kommunenummer": "9001", "dato": "2017-02-01", **ONES, **four_3},
        {"person_id": "P2", "kommunenummer": "9001", "dato": "2017-03-01", **ONES, **six_4},
        {
            "person_id": "P3",
            "kommunenummer": "9001",
            "dato": "2016-06-30",
            "behovsniva": "middels_til_stort",
        },
    ]
    w["personer"] = [
        {"person_id": "P1", "foedselsaar": 1931, "kjoenn": "K", "bor_alene": True},
        {"person_id": "P2", "foedselsaar": 1944, "kjoenn": "M", "bor_alene": False},
        {"person_id": "P3", "foedselsaar": 2001},
    ]
    return w


def test_the_score_columns_are_the_casework_services_iplos_variables() -> None:
    assert IPLOS_COLUMNS == IPLOS_VARIABLES


def test_files_give_typed_assessments_and_persons(tmp_path: Path, params: ParameterSet) -> None:
    data, problems = load_input(write_input(tmp_path, _world()), params)
    assert problems == []
    k = data.kartlegging
    assert k is not None and data.personer is not None
    assert k.select("person_id", "dato", "behovsniva", "skaarer").rows() == [
        ("P1", dt.date(2016, 2, 1), "noe_avgrenset", True),
        ("P1", dt.date(2017, 2, 1), "middels_til_stort", True),
        ("P2", dt.date(2017, 3, 1), "omfattende", True),
        ("P3", dt.date(2016, 6, 30), "middels_til_stort", False),
    ]
    assert k.schema["spise"] == pl.Int8 and k.schema["dato"] == pl.Date
    assert k.row(1, named=True)["hoersel"] == 9  # kept as given: 9 counts as 1 only in the rule
    assert k.row(3, named=True)["spise"] is None
    assert data.personer.rows() == [
        ("P1", 1931, "K", True),
        ("P2", 1944, "M", False),
        ("P3", 2001, None, None),
    ]


def test_input_without_the_tables_is_read_as_before(tmp_path: Path, params: ParameterSet) -> None:
    data, problems = load_input(write_input(tmp_path, small_world()), params)
    assert problems == [] and data.kartlegging is None and data.personer is None


def test_a_level_only_file_needs_no_score_columns(tmp_path: Path, params: ParameterSet) -> None:
    w = small_world()
    d = write_input(tmp_path, w)
    (d / "kartlegging.csv").write_text(
        "person_id,kommunenummer,dato,behovsniva\nP1,9001,2016-03-01,omfattende\n"
    )
    data, problems = load_input(d, params)
    assert problems == [] and data.personer is None
    assert data.kartlegging is not None
    assert data.kartlegging.select("behovsniva", "skaarer").rows() == [("omfattende", False)]


def _problems(tmp_path: Path, params: ParameterSet, world: dict[str, Any]) -> list[str]:
    """Every problem, sorted (the order of the report follows the checks' frames)."""
    with pytest.raises(InputInvalid) as err:
        load_input(write_input(tmp_path, world), params)
    return sorted(str(p) for p in err.value.problems)


def test_bad_rows_are_named_by_file_row_field_and_rule(
    tmp_path: Path, params: ParameterSet
) -> None:
    w = _world()
    w["kartlegging"] += [
        {"person_id": "P1", "kommunenummer": "9001", "dato": "2018-01-01", **ONES, "spise": 7},
        {"person_id": "P9", "kommunenummer": "9001", "dato": "2018-01-01", "behovsniva": "stort"},
        {"person_id": "P2", "kommunenummer": "9001", "dato": "2018-01-01", **ONES, "syn": None},
        {"person_id": "P2", "kommunenummer": "9001", "dato": "1940-05-01", **ONES},
        {
            "person_id": "P3",
            "kommunenummer": "9001",
            "dato": "2018-02-01",
            **ONES,
            "behovsniva": "omfattende",
        },
        {"person_id": "P3", "kommunenummer": "9001", "dato": "2018-03-01"},
        {"person_id": "P3", "kommunenummer": "9002", "dato": "2016-07-01", "behovsniva": "x"},
        {"person_id": "01017012345", "kommunenummer": "9001", "dato": "2018-04-01", **ONES},
    ]
    w["personer"] += [
        {"person_id": "P4", "foedselsaar": "19x0", "kjoenn": "kvinne", "bor_alene": "ja"},
        {"person_id": "P4", "foedselsaar": 1850},
    ]
    assert _problems(tmp_path, params, w) == sorted(
        [
            "personer.csv:5: foedselsaar: ikke et årstall (fire sifre): '19x0'",
            "personer.csv:5: kjoenn: må være K (kvinne), M (mann) eller tom: 'kvinne'",
            "personer.csv:5: bor_alene: må være true, false eller tom",
            "personer.csv:5: person_id: samme person_id forekommer mer enn én gang",
            "personer.csv:6: person_id: samme person_id forekommer mer enn én gang",
            f"personer.csv:6: foedselsaar: fødselsåret må ligge mellom 1880 og "
            f"{dt.date.today().year}: '1850'",
            "kartlegging.csv:6: spise: en IPLOS-skår må være 1, 2, 3, 4, 5 eller 9 "
            "(9 = ikke relevant): '7'",
            "kartlegging.csv:7: behovsniva: bistandsbehovet må være ett av noe_avgrenset, "
            "middels_til_stort, omfattende: 'stort'",
            "kartlegging.csv:8: syn: raden har skår for noen av de 17 IPLOS-variablene, men ikke "
            "for denne",
            "kartlegging.csv:10: behovsniva: de 17 skårene gir bistandsbehovet noe_avgrenset, ikke "
            "'omfattende'",
            "kartlegging.csv:11: behovsniva: oppgi enten de 17 IPLOS-skårene eller et "
            "bistandsbehov (behovsniva)",
            "kartlegging.csv:12: kommunenummer: kommunen finnes ikke i kommuner",
            "kartlegging.csv:12: behovsniva: bistandsbehovet må være ett av noe_avgrenset, "
            "middels_til_stort, omfattende: 'x'",
            "kartlegging.csv:13: person_id: ser ut som et fødselsnummer; person_id må være et "
            "pseudonym",
            "kartlegging.csv:7: person_id: personen finnes ikke i personer",
            "kartlegging.csv:13: person_id: personen finnes ikke i personer",
            "kartlegging.csv:9: dato: kartleggingen er datert før personens fødselsår: "
            "'1940-05-01'",
        ]
    )


def test_an_assessment_outside_its_municipalitys_validity_or_twice_a_day(
    tmp_path: Path, params: ParameterSet
) -> None:
    w = _world()
    w["kommuner"][0]["gyldig_fra"] = "2016-01-01"
    w["kartlegging"] += [
        {"person_id": "P2", "kommunenummer": "9001", "dato": "2015-12-31", "behovsniva": "x"},
        {"person_id": "P1", "kommunenummer": "9001", "dato": "2016-02-01", **ONES},
    ]
    assert _problems(tmp_path, params, w) == sorted(
        [
            "kartlegging.csv:6: kommunenummer: kommunen er ikke gyldig på kartleggingsdatoen",
            "kartlegging.csv:2: dato: samme person er kartlagt mer enn én gang denne dagen",
            "kartlegging.csv:7: dato: samme person er kartlagt mer enn én gang denne dagen",
            "kartlegging.csv:6: behovsniva: bistandsbehovet må være ett av noe_avgrenset, "
            "middels_til_stort, omfattende: 'x'",
        ]
    )


def test_the_tables_round_trip_through_the_store(
    store_url: str,  # noqa: F811
    tmp_path: Path,
    params: ParameterSet,
) -> None:
    d = write_input(tmp_path / "in", _world())
    engine = _store(store_url)
    first = import_path(engine, d, params)
    assert first.rader["kartlegging"] == 4 and first.rader["personer"] == 3
    stored, version = load_version(engine, params)
    files, _p = load_input(d, params)
    assert version == first.versjon
    assert stored.kartlegging is not None and files.kartlegging is not None
    assert stored.kartlegging.equals(files.kartlegging)
    assert stored.personer is not None and stored.personer.equals(files.personer)
    # a correction: P3's assessment of 2016-06-30 gets scores; P3 moves into a home alone
    fix = tmp_path / "fix"
    fix.mkdir()
    header = ",".join(("person_id", "kommunenummer", "dato", *IPLOS_COLUMNS))
    (fix / "kartlegging.csv").write_text(
        header + "\nP3,9001,2016-06-30," + ",".join(["4"] * 6 + ["1"] * 11) + "\n"
    )
    (fix / "personer.csv").write_text("person_id,foedselsaar,bor_alene\nP3,2001,true\n")
    second = import_path(engine, fix, params)
    assert second.rader == {"kartlegging": 1, "personer": 1}
    now, _v = load_version(engine, params)
    assert now.kartlegging is not None and now.personer is not None
    p3 = now.kartlegging.filter(pl.col("person_id") == "P3")
    assert p3.select("behovsniva", "skaarer").rows() == [("omfattende", True)]
    assert now.personer.filter(pl.col("person_id") == "P3").rows() == [("P3", 2001, None, True)]
    before, _v = load_version(engine, params, first.versjon)  # the past is as it was
    assert before.kartlegging is not None and before.kartlegging.equals(files.kartlegging)
    changes = diff_versions(engine, first.versjon, second.versjon)
    assert {(c["tabell"], c["kommunenummer"], c["endring"], c["rader"]) for c in changes} == {
        ("kartlegging", "9001", "erstattet", 1),
        ("personer", None, "erstattet", 1),
    }


_score = st.sampled_from(SCORES)


@settings(max_examples=max_examples(200))
@given(
    st.lists(
        st.tuples(st.lists(_score, min_size=17, max_size=17), st.dates(dt.date(2010, 1, 1))),
        min_size=1,
        max_size=40,
    )
)
def test_the_vectorised_need_level_is_the_casework_services(
    rows: list[tuple[list[int], dt.date]],
) -> None:
    criteria = load_criteria()
    frame = pl.DataFrame(
        {
            **{v: [r[0][i] for r in rows] for i, v in enumerate(IPLOS_COLUMNS)},
            "dato": [r[1] for r in rows],
        },
        schema={**dict.fromkeys(IPLOS_COLUMNS, pl.Int8), "dato": pl.Date},
    )
    got = frame.select(need_level_expr(criteria)).to_series().to_list()
    versions = list(criteria)
    expected = []
    for scores, day in rows:
        version = criteria.at(day) if day >= versions[0].valid_from else versions[0]
        profile = scores_from_mapping(dict(zip(IPLOS_COLUMNS, scores, strict=True)))
        expected.append(classify(profile, version.need_level))
    assert got == expected


def test_a_casework_assessment_becomes_a_kartlegging_row_and_a_person(
    store_url: str,  # noqa: F811
    tmp_path: Path,
    params: ParameterSet,
) -> None:
    from casework_support import SCORES_LOW, identity_number, make_service, walk_case

    for svc in make_service(store_url, tmp_path, params):
        d = walk_case(svc)
        case = svc.client.get(f"/api/saker/{d['sak']}", headers=svc.as_("sb1")).json()
        pseudonym = case["person"]["pseudonym"]
        data, _v = load_version(svc.engine, params)
        assert data.kartlegging is not None and data.personer is not None
        k = data.kartlegging.filter(pl.col("person_id") == pseudonym)
        # SCORES_LOW: two scores of 3, mean 25/17 ≈ 1.47 (9 counts as 1) → noe_avgrenset
        assert k.select("kommunenummer", "dato", "behovsniva", "skaarer").rows() == [
            ("9001", dt.date(2016, 5, 4), "noe_avgrenset", True)
        ]
        assert k.select(IPLOS_COLUMNS).row(0) == tuple(SCORES_LOW[v] for v in IPLOS_COLUMNS)
        fnr = identity_number(1)  # born 1940; the ninth digit odd = a man
        sex = "M" if int(fnr[8]) % 2 else "K"
        assert data.personer.rows() == [(pseudonym, 1940, sex, None)]
        assert fnr not in str(data.kartlegging.to_dicts()) + str(data.personer.to_dicts())
        # a second assessment of the same person adds a kartlegging row, not a second person
        r = svc.client.post(
            f"/api/saker/{d['sak']}/kartlegginger",
            headers=svc.as_("sb1"),
            json={
                "skaarer": dict.fromkeys(IPLOS_COLUMNS, 4),
                "kartlagt_dato": "2016-09-01",
                "kartlagt_av": "Kari Kartlegger",
                "signert_dato": "2016-09-01",
            },
        )
        assert r.status_code == 201, r.text
        again, _v = load_version(svc.engine, params)
        assert again.personer is not None and again.personer.height == 1
        assert again.kartlegging is not None
        assert again.kartlegging.get_column("behovsniva").to_list() == [
            "noe_avgrenset",
            "omfattende",  # all 17 at 4: mean 4 ≥ 3.2
        ]


# -- the synthetic national data set: calibration and planted effects ---------------------------

SYNTH_PERSONS = 30_000
SYNTH_YEAR = 2021
JOINED = dt.date(SYNTH_YEAR, 1, 1)
HOME = ("HJSPL", "PB_DAGL", "PB_OPPL")
# hours per week of home nursing and practical assistance by age group and need level: SSB,
# statbank table 09933 (docs/synthetic-data.md), 67–79, 80–89, 90+ (noe, middels, omfattende)
SSB_HOURS = {
    "67-79": (1.7, 4.9, 20.1),
    "80-89": (1.7, 4.5, 13.4),
    "90+": (2.0, 5.4, 13.8),
}
LEVELS = ("noe_avgrenset", "middels_til_stort", "omfattende")


def _synth(out: Path, *args: str) -> Path:
    from typer.testing import CliRunner

    from sio.cli.synth import synth_app

    base = ["national", "--out", str(out), "--personer", str(SYNTH_PERSONS), "--seed", "11"]
    result = CliRunner().invoke(synth_app, [*base, *args])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same seed without an effect (but with the municipal spread) and with both effects."""
    root = tmp_path_factory.mktemp("worlds")
    plain = _synth(root / "plain", "--kommunevariasjon", "0.25")
    planted = _synth(
        root / "planted", "--effekt", "likebehandling=0.3", "--effekt", "institusjon=0.5"
    )
    return plain, planted


def _weekly_home_hours(d: Path) -> pl.DataFrame:
    """Per participating user with home nursing or practical assistance: the weekly hours of
    those decisions (hours per month × 12 / 365.25 × 7), the first day of their period, the
    municipality, and the user's need level and age group from kartlegging and personer."""
    v = pl.read_parquet(d / "vedtak.parquet").filter(
        pl.col("kommunenummer").str.starts_with("9"), pl.col("tjeneste").is_in(HOME)
    )
    weekly = pl.when(pl.col("enhet") == "timer_per_uke").then(pl.col("omfang"))
    weekly = weekly.otherwise(pl.col("omfang") * 12 / 365.25 * 7)
    users = v.group_by("person_id").agg(
        weekly.sum().alias("timer"), pl.col("fra").min(), pl.col("kommunenummer").first()
    )
    k = pl.read_parquet(d / "kartlegging.parquet").select("person_id", "behovsniva")
    p = pl.read_parquet(d / "personer.parquet").select("person_id", "foedselsaar")
    age = SYNTH_YEAR - pl.col("foedselsaar")
    group = (
        pl.when(age <= 66)
        .then(pl.lit("0-66"))
        .when(age <= 79)
        .then(pl.lit("67-79"))
        .when(age <= 89)
        .then(pl.lit("80-89"))
        .otherwise(pl.lit("90+"))
    )
    return users.join(k, on="person_id").join(p.with_columns(group.alias("alder")), on="person_id")


def test_the_synthetic_hours_by_need_and_age_are_ssbs(worlds: tuple[Path, Path]) -> None:
    plain, _planted = worlds
    users = _weekly_home_hours(plain)
    means = users.group_by("alder", "behovsniva").agg(pl.col("timer").mean(), pl.len())
    for age, expected in SSB_HOURS.items():
        for level, hours in zip(LEVELS, expected, strict=True):
            row = means.filter(pl.col("alder") == age, pl.col("behovsniva") == level)
            assert row.height == 1 and row.get_column("len")[0] > 100
            assert row.get_column("timer")[0] == pytest.approx(hours, rel=0.12), (age, level)


def test_the_assessed_need_level_is_the_one_behind_the_decisions(
    worlds: tuple[Path, Path],
) -> None:
    plain, _planted = worlds
    v = pl.read_parquet(plain / "vedtak.parquet").select("person_id", "bistandsbehov").unique()
    k = pl.read_parquet(plain / "kartlegging.parquet")
    both = v.join(k.select("person_id", "behovsniva", "dato"), on="person_id", how="full")
    assert both.filter(pl.col("bistandsbehov") != pl.col("behovsniva")).height == 0
    assert both.get_column("behovsniva").null_count() == 0  # every user is assessed
    assert both.get_column("bistandsbehov").null_count() == 0  # every assessed person is a user
    # users by need level, all ages: the shares of the data set's calibration (NEED_BY_AGE
    # weighted by the users' ages): about 44 / 34 / 22 % (docs/synthetic-data.md)
    shares = k.get_column("behovsniva").value_counts(normalize=True)
    share = dict(zip(shares.get_column("behovsniva"), shares.get_column("proportion"), strict=True))
    assert share["noe_avgrenset"] == pytest.approx(0.44, abs=0.03)
    assert share["middels_til_stort"] == pytest.approx(0.34, abs=0.03)
    assert share["omfattende"] == pytest.approx(0.22, abs=0.03)


def test_control_municipalities_end_at_their_mergers(worlds: tuple[Path, Path]) -> None:
    import json

    plain, _planted = worlds
    truth = json.loads((plain / "synth.json").read_text())
    ended = {c["kode_2016"]: c["slutt"] for c in truth["kontrollkommuner"]}
    assert ended == {
        "0528": None,
        "1634": None,
        "1018": "2019-12-31",
        "1246": "2019-12-31",
        "0122": "2019-12-31",
        "0137": None,
    }
    v = pl.read_parquet(plain / "vedtak.parquet")
    codes = set(v.get_column("kommunenummer").unique()) - set(truth["deltakere"]["kommuner"])
    # 2019–2021: Oppdal is 5021 since 2018; Østre Toten and Våler were renumbered in 2020, and
    # Våler's decisions still in force in 2024 go on under 3114
    assert codes == {"5021", "0528", "3442", "0137", "3018", "3114", "1018", "1246", "0122"}
    merged = v.filter(pl.col("kommunenummer").is_in(["1018", "1246", "0122"]))
    assert merged.get_column("til").max() == dt.date(2019, 12, 31)
    assert merged.get_column("til").null_count() == 0
    d = pl.read_parquet(plain / "deltakelse.parquet")
    assert not set(d.get_column("kommunenummer")) & codes  # never participating


def _slope(x: pl.Series, y: pl.Series) -> float:
    """Least-squares slope of y on x."""
    xm, ym = x - x.mean(), y - y.mean()  # type: ignore[operator]
    return float((xm * ym).sum() / (xm * xm).sum())


def test_a_planted_narrowing_is_in_the_hours(worlds: tuple[Path, Path]) -> None:
    """log(hours / SSB mean of the cell) = u_k·(1 − θ after joining) + noise: the slope on the
    municipality's planted factor u_k (synth.json) is 1 before joining and 1 − θ = 0.7 after;
    in the same seed without the effect it is 1 after too. Medium and extensive needs only
    (light needs' quarter hours round too coarsely for logs)."""
    import json

    from sio.data.synth import HOME_HOURS_BY_NEED

    mean = {
        (age, level): HOME_HOURS_BY_NEED[i][j]
        for i, age in enumerate(("0-66", "67-79", "80-89", "90+"))
        for j, level in enumerate(LEVELS)
    }
    cell = pl.DataFrame(
        [(a, lv, h) for (a, lv), h in mean.items()],
        schema={"alder": pl.Utf8, "behovsniva": pl.Utf8, "mu": pl.Float64},
        orient="row",
    )
    slopes = {}
    for name, d in zip(("plain", "planted"), worlds, strict=True):
        truth = json.loads((d / "synth.json").read_text())
        u = pl.DataFrame(
            list(truth["kommunefaktor"]["u"].items()),
            schema={"kommunenummer": pl.Utf8, "u": pl.Float64},
            orient="row",
        )
        users = (
            _weekly_home_hours(d)
            .filter(pl.col("behovsniva") != "noe_avgrenset")
            .join(cell, on=["alder", "behovsniva"])
            .join(u, on="kommunenummer")
            .with_columns((pl.col("timer") / pl.col("mu")).log().alias("y"))
        )
        for period, part in (
            ("before", users.filter(pl.col("fra") < JOINED)),
            ("after", users.filter(pl.col("fra") >= JOINED)),
        ):
            assert part.height > 3_000
            slopes[name, period] = _slope(part.get_column("u"), part.get_column("y"))
    assert slopes["plain", "before"] == pytest.approx(1.0, abs=0.12)
    assert slopes["plain", "after"] == pytest.approx(1.0, abs=0.12)
    # before joining only the few users moved from a later long-term stay differ
    assert slopes["planted", "before"] == pytest.approx(slopes["plain", "before"], abs=0.01)
    assert slopes["planted", "after"] == pytest.approx(0.7, abs=0.12)


def test_a_planted_move_from_institution_to_home_is_in_the_decisions(
    worlds: tuple[Path, Path],
) -> None:
    import json

    plain, planted = worlds

    def after(d: Path, service: str) -> int:
        v = pl.read_parquet(d / "vedtak.parquet")
        return v.filter(
            pl.col("kommunenummer").str.starts_with("9"),
            pl.col("tjeneste") == service,
            pl.col("fra") >= JOINED,
        ).height

    truth = json.loads((planted / "synth.json").read_text())["institusjon"]
    moved = after(plain, "INST_LANG") - after(planted, "INST_LANG")
    assert moved == truth["flyttet"] > 0
    assert after(planted, "HJSPL") - after(plain, "HJSPL") == moved
    assert moved / truth["aktuelle"] == pytest.approx(0.5, abs=0.06)
    before = pl.read_parquet(plain / "vedtak.parquet").filter(pl.col("fra") < JOINED)
    again = pl.read_parquet(planted / "vedtak.parquet").filter(pl.col("fra") < JOINED)
    assert before.equals(again)  # nothing before joining changes


# -- the demo data set -----------------------------------------------------------------------------


def test_the_demo_data_have_persons_assessments_and_the_control_municipalities(
    tmp_path: Path, params: ParameterSet
) -> None:
    from sio.data.demo import write_demo_data

    counts = write_demo_data(tmp_path)
    data, problems = load_input(tmp_path, params)
    assert problems == []
    assert data.kartlegging is not None and data.personer is not None
    users = set(data.vedtak.get_column("person_id"))
    assert (
        set(data.kartlegging.get_column("person_id"))
        == users
        == set(data.personer.get_column("person_id"))
    )
    assert counts["kartlegging"] == counts["personer"] == len(users)
    # the controls never participate; Søgne, Fjell and Trøgstad end with 2019 (mergers)
    participating = set(data.deltakelse.get_column("kommunenummer"))
    controls = {"0528", "3442", "1634", "5021", "1018", "1246", "0122", "0137", "3018", "3114"}
    assert not participating & controls
    with_vedtak = set(data.vedtak.get_column("kommunenummer"))
    assert controls - {"3114"} <= with_vedtak  # 3114 (Våler from 2024): after the demo's end
    merged = data.vedtak.filter(pl.col("kommunenummer").is_in(["1018", "1246", "0122"]))
    assert merged.get_column("til").max() == dt.date(2019, 12, 31)
    # long-term residents mostly have extensive needs (SSB: about 83 %)
    inst = data.vedtak.filter(pl.col("tjeneste") == "INST_LANG").select("person_id").unique()
    levels = inst.join(data.kartlegging, on="person_id").get_column("behovsniva")
    assert (levels == "omfattende").mean() == pytest.approx(0.8, abs=0.08)


def test_the_engines_commands_load_without_the_evaluation_tables(
    tmp_path: Path, params: ParameterSet
) -> None:
    w = _world()
    w["kartlegging"].append({"person_id": "P1", "kommunenummer": "9001", "dato": "2018-01-01"})
    d = write_input(tmp_path, w)
    with pytest.raises(InputInvalid):  # the evaluation's load checks them
        load_input(d, params)
    data, problems = load_input(d, params, evaluation=False)  # sio beregn, sio forklar
    assert problems == [] and data.kartlegging is None and data.personer is None


def test_a_data_set_over_2016_2024_has_users_on_every_31_december(tmp_path: Path) -> None:
    """`--fra-aar 2016 --til-aar 2024 --aar 2020`: users enter and leave over the years, so about
    as many have a decision in force on each 31 December (a stationary stock, within 15 % of the
    mean); every user has one assessment and a person row; population for 2015–2024,
    expenditure for 2016–2024, participation from 2020 and toppfinansiering for 2020–2024;
    the controls follow their codes to 2024 and the merged ones end on 2019-12-31; nothing starts
    after the window."""
    import json

    d = _synth(tmp_path / "w", "--fra-aar", "2016", "--til-aar", "2024", "--aar", "2020")
    v = pl.read_parquet(d / "vedtak.parquet")
    stock = []
    for year in range(2016, 2025):
        day = dt.date(year, 12, 31)
        in_force = v.filter(
            (pl.col("fra") <= day) & (pl.col("til").is_null() | (pl.col("til") >= day))
        )
        stock.append(in_force.get_column("person_id").n_unique())
    mean = sum(stock) / len(stock)
    assert all(abs(s - mean) <= 0.15 * mean for s in stock), stock
    # users over nine years (and the years before), each about three years in care but not
    # always with a decision in force: between an eighth and a quarter of them on a given day
    assert 0.12 * SYNTH_PERSONS <= mean <= 0.25 * SYNTH_PERSONS, stock
    assert v.get_column("fra").max() <= dt.date(2024, 12, 31)
    users = set(v.get_column("person_id"))
    k = pl.read_parquet(d / "kartlegging.parquet")
    p = pl.read_parquet(d / "personer.parquet")
    assert set(k.get_column("person_id")) == users == set(p.get_column("person_id"))
    assert k.height == len(users)
    first = v.group_by("person_id").agg(pl.col("fra").min())
    late = k.join(first, on="person_id").filter(pl.col("dato") > pl.col("fra"))
    assert late.is_empty()
    years = lambda name: sorted(set(pl.read_parquet(d / f"{name}.parquet")["aar"]))  # noqa: E731
    assert years("befolkning") == list(range(2015, 2025))
    assert years("utgifter") == list(range(2016, 2025))
    assert years("toppfinansiering") == list(range(2020, 2025))
    deltakelse = pl.read_parquet(d / "deltakelse.parquet")
    assert set(deltakelse.get_column("fra")) == {dt.date(2020, 1, 1)}
    truth = json.loads((d / "synth.json").read_text())
    assert (truth["aar_fra"], truth["aar_til"], truth["aar"]) == (2016, 2024, 2020)
    merged = v.filter(pl.col("kommunenummer").is_in(["1018", "1246", "0122"]))
    assert merged.get_column("til").max() == dt.date(2019, 12, 31)
    valer_2024 = v.filter(
        (pl.col("kommunenummer") == "3114") & (pl.col("fra") >= dt.date(2024, 1, 1))
    )
    assert valer_2024.height > 0  # Våler's decisions of 2024 under its new code


def test_the_years_of_a_multi_year_data_set_are_checked(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from sio.cli.synth import synth_app

    for args in (
        ["--fra-aar", "2016"],
        ["--fra-aar", "2021", "--til-aar", "2024", "--aar", "2021"],
        ["--fra-aar", "2016", "--til-aar", "2019", "--aar", "2021"],
    ):
        res = CliRunner().invoke(synth_app, ["national", "--out", str(tmp_path), *args])
        assert res.exit_code == 2, (args, res.output)
        assert "--til-aar" in res.output or "--fra-aar" in res.output
