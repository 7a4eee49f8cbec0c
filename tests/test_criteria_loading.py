"""Loading criteria files: dated versions and their identifiers, a user's files replacing the
defaults, and errors that name the file, the path inside it and the rule broken."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from sio.criteria import (
    CriteriaError,
    CriteriaLookupError,
    default_criteria_dir,
    load_criteria,
)
from sio.parameters import load_parameters


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "kriterier"
    shutil.copytree(default_criteria_dir(), target)
    return target


def _edit(file: Path, old: str, new: str) -> None:
    text = file.read_text(encoding="utf-8")
    assert old in text, old
    file.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_defaults_load_with_one_version_from_the_start_of_the_trial() -> None:
    criteria = load_criteria()
    (version,) = criteria.versions
    assert version.valid_from == dt.date(2016, 5, 1)
    assert version.valid_until is None
    assert re.fullmatch(r"k-[0-9a-f]{12}", version.id)
    assert criteria.by_id(version.id) is version
    with pytest.raises(CriteriaLookupError, match="ingen tildelingskriterier gjelder 2016-04-30"):
        criteria.at(dt.date(2016, 4, 30))
    with pytest.raises(CriteriaLookupError, match="ukjent kriterieversjon k-000000000000"):
        criteria.by_id("k-000000000000")


def test_every_default_item_has_evidence_and_a_reference() -> None:
    version = load_criteria().versions[0]
    items = version.items()
    assert len(items) == 11 + 9 + 5 + 1
    assert all(item.reference and item.evidence for item in items.values())
    # the official criteria are not public: everything but the preliminary-reply rule is estimate
    assert set(items) - set(version.estimates()) == {"deadlines.preliminary_reply"}


def test_a_new_dated_version_of_one_part_starts_a_new_criteria_version(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _edit(
        folder / "frister.yaml",
        "    2016-05-01:\n",
        "    2020-01-01:\n"
        "      application_to_assessment: {days: 7, description: Kartlegging innen 7 dager}\n"
        "      assessment_to_decision: {days: 7, description: Vedtak innen 7 dager}\n"
        "      application_to_decision: {days: 21, description: Vedtak innen 21 dager}\n"
        "      preliminary_reply: {days: 30, description: Foreløpig svar}\n"
        "      reevaluation: {days: 180, description: Revurdering}\n"
        "    2016-05-01:\n",
    )
    criteria = load_criteria(folder)
    first, second = criteria.versions
    assert (first.valid_from, first.valid_until) == (dt.date(2016, 5, 1), dt.date(2020, 1, 1))
    assert (second.valid_from, second.valid_until) == (dt.date(2020, 1, 1), None)
    assert first.id == load_criteria().versions[0].id  # the old content, the old identifier
    assert second.id != first.id
    assert criteria.at(dt.date(2019, 12, 31)) is first
    assert criteria.at(dt.date(2020, 1, 1)).deadlines.application_to_assessment.days == 7
    assert criteria.at(dt.date(2020, 1, 1)).care_ladder == first.care_ladder
    assert criteria.by_id(first.id) is first


def test_a_single_user_file_replaces_the_defaults(tmp_path: Path) -> None:
    one = tmp_path / "mine.yaml"
    one.write_text(
        "\n".join(f.read_text("utf-8") for f in sorted(default_criteria_dir().glob("*.yaml"))),
        encoding="utf-8",
    )
    _edit(one, "Trygghetsalarm gis når", "Trygghetsalarm tildeles når")
    criteria = load_criteria(one)
    assert criteria.versions[0].id != load_criteria().versions[0].id
    assert criteria.source == str(one.resolve())


@pytest.mark.parametrize(
    ("file", "old", "new", "path", "rule"),
    [
        (
            "omsorgstrapp.yaml",
            "variables: [alminnelig_husarbeid, skaffe_varer, lage_mat]\n",
            "variables: [alminnelig_husarbeid, skaffe_varer, matlaging]\n",
            "care_ladder.versions.2016-05-01.services.PB_DAGL.eligibility.scores_at_least"
            ".variables.2",
            "ukjent IPLOS-variabel matlaging",
        ),
        (
            "omsorgstrapp.yaml",
            "noe_avgrenset: {min: 0.5, max: 2}",
            "noe_avgrenset: {min: 3, max: 2}",
            "care_ladder.versions.2016-05-01.services.HJSPL.volume.noe_avgrenset",
            "min 3.0 er over maks 2.0",
        ),
        (
            "omsorgstrapp.yaml",
            "          unit: timer_per_uke\n",
            "          unit: timer\n",
            "care_ladder.versions.2016-05-01.services.PB_DAGL.unit",
            "Input should be 'timer_per_uke'",
        ),
        (
            "omsorgstrapp.yaml",
            "              - need_level_at_least: middels_til_stort\n",
            "              - need_level_minst: middels_til_stort\n",
            "care_ladder.versions.2016-05-01.services.AVLASTNING_UTENFOR.eligibility.all_of.0",
            "a condition is a mapping with exactly one key",
        ),
        (
            "behovsnivaa.yaml",
            "          - scores_at_least: {min_score: 4, count: 6}",
            "          - need_level_at_least: omfattende",
            "need_level.versions.2016-05-01",
            "regelen for bistandsbehov kan ikke teste bistandsbehovet selv",
        ),
        (
            "behovsnivaa.yaml",
            "  evidence: estimate\n",
            "  evidence: guess\n",
            "need_level.versions.2016-05-01.evidence",
            "Input should be 'confirmed', 'secondary' or 'estimate'",
        ),
        (
            "frister.yaml",
            "    2016-05-01:",
            "    2016-05-32:",
            "",
            "en dato eller et tall er ikke gyldig",
        ),
        (
            "frister.yaml",
            "      reevaluation:\n",
            "      revurdering:\n",
            "deadlines.versions.2016-05-01.reevaluation",
            "Field required; deadlines.versions.2016-05-01.revurdering: Extra inputs are not",
        ),
        (
            "avviksbegrunnelser.yaml",
            "      ANNET:\n",
            "      SIKKERHET:\n",
            "",
            "key 'SIKKERHET' is given twice",
        ),
        (
            "avviksbegrunnelser.yaml",
            "  versions:\n",
            "  versjoner:\n",
            "justifications.versjoner",
            "ukjent nøkkel; tillatt: description, evidence, reference, versions",
        ),
        (
            "omsorgstrapp.yaml",
            "          combinable_up_to_step: 6\n          reason: >-\n            Støttekontakt",
            "          combinable_up_to_step: 2\n          reason: >-\n            Støttekontakt",
            "care_ladder.versions.2016-05-01.services.STOETTEKONTAKT",
            "combinable_up_to_step 2 er lavere enn tjenestens eget trinn 4",
        ),
    ],
)
def test_errors_name_the_file_the_path_and_the_rule(
    tmp_path: Path, file: str, old: str, new: str, path: str, rule: str
) -> None:
    folder = _copy(tmp_path)
    _edit(folder / file, old, new)
    with pytest.raises(CriteriaError) as info:
        load_criteria(folder)
    err = info.value
    assert err.file == str(folder / file)
    assert err.path == path
    assert rule in err.rule
    assert str(err).startswith(f"{folder / file}: ")


def test_a_part_given_twice_or_missing_is_named(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    shutil.copy(folder / "frister.yaml", folder / "frister2.yaml")
    with pytest.raises(CriteriaError, match=r"frister2\.yaml: deadlines: delen er gitt to ganger"):
        load_criteria(folder)
    (folder / "frister.yaml").unlink()
    (folder / "frister2.yaml").unlink()
    with pytest.raises(CriteriaError, match=r"kriterier: mangler del\(er\): deadlines"):
        load_criteria(folder)


def test_unknown_parts_and_missing_sources_are_named(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "ekstra.yaml").write_text("prismodell: {}\n", encoding="utf-8")
    with pytest.raises(CriteriaError, match=r"ekstra\.yaml: prismodell: ukjent del"):
        load_criteria(folder)
    with pytest.raises(CriteriaError, match="fant ikke kriteriefilen eller -mappen"):
        load_criteria(tmp_path / "finnes-ikke")
    (tmp_path / "tom").mkdir()
    with pytest.raises(CriteriaError, match=r"ingen kriteriefiler"):
        load_criteria(tmp_path / "tom")
    bad = tmp_path / "bad.yaml"
    bad.write_text("need_level: [unclosed\n", encoding="utf-8")
    with pytest.raises(CriteriaError, match=r"bad\.yaml: ikke gyldig YAML"):
        load_criteria(bad)


def test_services_and_units_agree_with_the_financing_parameters() -> None:
    """Every priced service has a unit price for its price group and a unit of the same kind
    as the engine's price unit; every unpriced one is covered by the lump sum."""
    params = load_parameters()
    on = dt.date(2016, 5, 1)
    for code, svc in load_criteria().at(on).care_ladder.services.items():
        if svc.price_group is None:
            assert params.flag(f"rundsumtilskudd.tjenester.{code}", on), code
            continue
        assert params.has(f"aktivitetstilskudd.enhetspris.{code}.{svc.price_group}"), code
        kind = params.text(f"aktivitetstilskudd.enhet.{code}", on)
        expected = ("doegn",) if kind == "doegn" else ("timer_per_uke", "timer_per_maaned")
        assert svc.unit in expected, code
