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
