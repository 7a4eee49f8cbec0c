"""Allocation criteria: worked examples of need level and LEON recommendation under the default
criteria, checked by hand against the rules in `src/sio/criteria/data/` (see docs/criteria.md),
plus the assessment model's field-level errors, decisions against the recommendation, and
deadlines."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from sio.criteria import (
    IPLOS_VARIABLES,
    Assessment,
    CriteriaVersion,
    IplosScores,
    case_deadlines,
    check_decision,
    classify,
    load_criteria,
    overdue,
    recommend,
    reevaluation_due,
)
from sio.i18n import language

DAY = dt.date(2020, 3, 2)


def scores(**given: int) -> dict[str, int]:
    """All 17 variables at 1 (no need), with the given ones changed."""
    out = dict.fromkeys(IPLOS_VARIABLES, 1)
    out.update(given)
    return out


def assessment(**given: int) -> Assessment:
    return Assessment(
        scores=IplosScores(**scores(**given)),
        assessed_on=DAY,
        assessor="Kari Saksbehandler",
        signed_on=DAY,
        what_matters="Å bo hjemme og gå tur med hunden.",
    )


@pytest.fixture(scope="module")
def criteria() -> CriteriaVersion:
    return load_criteria().at(DAY)


def services(rec: Any) -> list[tuple[str, str, float, float]]:
    return [(s.service, s.role, s.volume_min, s.volume_max) for s in rec.services]


# -- the 17 variables ---------------------------------------------------------------------------


def test_there_are_seventeen_iplos_variables_in_iplos_order() -> None:
    assert len(IPLOS_VARIABLES) == 17
    assert IPLOS_VARIABLES[0] == "sosial_deltakelse"
    assert IPLOS_VARIABLES[-2:] == ("syn", "hoersel")


# -- worked examples ------------------------------------------------------------------------------


def test_no_need_gives_no_service(criteria: CriteriaVersion) -> None:
    # all 1: mean 1, no score ≥ 3 → noe/avgrenset; no eligibility condition holds → step 0.
    rec = recommend(assessment(), criteria)
    assert rec.need_level.level == "noe_avgrenset"
    assert rec.step == 0
    assert rec.services == ()
    assert "Kartleggingen viser ikke behov" in rec.reasons[0].text


def test_all_not_relevant_counts_as_no_need(criteria: CriteriaVersion) -> None:
    rec = recommend(assessment(**dict.fromkeys(IPLOS_VARIABLES, 9)), criteria)
    assert (rec.need_level.level, rec.step, rec.services) == ("noe_avgrenset", 0, ())


def test_help_with_housework_only_gives_practical_assistance(criteria: CriteriaVersion) -> None:
    # husarbeid 3, varer 3, mat 2: two scores ≥ 3 (< 4), none ≥ 4, mean 22/17 ≈ 1.29 < 2.2
    # → noe/avgrenset. Only PB_DAGL's condition holds (a score ≥ 3 among husarbeid/varer/mat).
    rec = recommend(assessment(alminnelig_husarbeid=3, skaffe_varer=3, lage_mat=2), criteria)
    assert rec.need_level.level == "noe_avgrenset"
    assert rec.step == 2
    assert services(rec) == [("PB_DAGL", "main", 0.5, 1.5)]
    assert rec.services[0].unit == "timer_per_uke"
    assert rec.services[0].price_group == "STANDARD"


def test_personal_care_and_housework_gives_home_nursing_with_practical_assistance(
    criteria: CriteriaVersion,
) -> None:
    # six scores ≥ 3 (≥ 4 → middels), two ≥ 4 (< 6), none 5, mean 31/17 ≈ 1.82 → middels.
    # HJSPL (hygiene 3) is the highest indicated step (3); PB_DAGL (step 2, combinable up to 5)
    # comes with it. PB_OPPL needs a score ≥ 3 in decisions/behaviour/social: none.
    rec = recommend(
        assessment(
            personlig_hygiene=3,
            av_og_paakledning=3,
            alminnelig_husarbeid=4,
            skaffe_varer=4,
            lage_mat=3,
            bevege_seg_utendoers=3,
        ),
        criteria,
    )
    assert rec.need_level.level == "middels_til_stort"
    assert rec.need_level.scores_3_or_more == 6
    assert rec.step == 3
    assert services(rec) == [("HJSPL", "main", 2, 6), ("PB_DAGL", "supplement", 1, 3)]


def test_dementia_at_home_gives_respite_with_the_home_services(criteria: CriteriaVersion) -> None:
    # eight scores ≥ 3, two ≥ 4, mean 35/17 ≈ 2.06 → middels. Respite outside an institution
    # (middels + decisions 4) is step 5; every lower indicated service is combinable up to 5+.
    rec = recommend(
        assessment(
            hukommelse=4,
            beslutninger_dagliglivet=4,
            styre_atferd=3,
            sosial_deltakelse=3,
            alminnelig_husarbeid=3,
            skaffe_varer=3,
            lage_mat=3,
            ivareta_egen_helse=3,
        ),
        criteria,
    )
    assert rec.need_level.level == "middels_til_stort"
    assert rec.step == 5
    assert services(rec) == [
        ("AVLASTNING_UTENFOR", "main", 0.05, 0.15),
        ("TRYGGHETSALARM", "supplement", 1, 1),
        ("PB_DAGL", "supplement", 1, 3),
        ("PB_OPPL", "supplement", 2, 5),
        ("HJSPL", "supplement", 2, 6),
        ("DAGAKTIVITET", "supplement", 4, 12),
        ("STOETTEKONTAKT", "supplement", 1, 3),
    ]


def test_heavy_personal_care_without_supervision_need_gives_a_short_stay(
    criteria: CriteriaVersion,
) -> None:
    # six scores of 4 → omfattende. Not BOLIG_HELDOEGN (needs two ≥ 4 among decisions,
    # behaviour, memory, own health: none) nor INST_LANG (needs three 5s). INST_KORT holds
    # (omfattende, moving indoors 4): step 5, with the alarm and home nursing (5–15 h).
    rec = recommend(
        assessment(
            personlig_hygiene=4,
            av_og_paakledning=4,
            spise=4,
            toalett=4,
            bevege_seg_innendoers=4,
            bevege_seg_utendoers=4,
        ),
        criteria,
    )
    assert rec.need_level.level == "omfattende"
    assert rec.step == 5
    assert services(rec) == [
        ("INST_KORT", "main", 1, 1),
        ("TRYGGHETSALARM", "supplement", 1, 1),
        ("HJSPL", "supplement", 5, 15),
    ]


def test_full_care_with_memory_loss_gives_a_long_term_nursing_home_stay(
    criteria: CriteriaVersion,
) -> None:
    # five 5s → omfattende; INST_LANG: three 5s in personal care and memory 4 → step 7; nothing
    # is combinable with step 7.
    rec = recommend(
        assessment(
            personlig_hygiene=5,
            av_og_paakledning=5,
            spise=4,
            toalett=5,
            bevege_seg_innendoers=5,
            ivareta_egen_helse=5,
            hukommelse=4,
            beslutninger_dagliglivet=4,
        ),
        criteria,
    )
    assert rec.need_level.level == "omfattende"
    assert rec.step == 7
    assert services(rec) == [("INST_LANG", "main", 1, 1)]
    assert rec.services[0].unit == "doegn"


V = IPLOS_VARIABLES


@pytest.mark.parametrize(
    ("given", "level"),
    [
        ({v: 3 for v in V[:3]}, "noe_avgrenset"),  # three ≥ 3 (not four), mean 23/17 ≈ 1.35
        ({v: 3 for v in V[:4]}, "middels_til_stort"),  # four ≥ 3
        ({v: 4 for v in V[:2]}, "middels_til_stort"),  # two ≥ 4
        ({v: 4 for v in V[:5]}, "middels_til_stort"),  # five ≥ 4: not six; mean 35/17 ≈ 2.06
        ({v: 4 for v in V[:6]}, "omfattende"),  # six ≥ 4
        ({v: 5 for v in V[:2]}, "middels_til_stort"),  # two 5s: not three
        ({v: 5 for v in V[:3]}, "omfattende"),  # three 5s
        (dict.fromkeys(V, 2), "noe_avgrenset"),  # all 2 (no personal assistance): mean 2 < 2.2
        (dict.fromkeys(V, 3), "middels_til_stort"),  # mean 3 < 3.2, no 4s
        # by the mean alone: one 5, two 3s, fourteen 2s = 39/17 ≈ 2.29 ≥ 2.2 (counts: three ≥ 3,
        # one ≥ 4 — too few); the same with 1s instead of 2s = 25/17 ≈ 1.47 → noe/avgrenset
        (dict.fromkeys(V, 2) | {V[0]: 5, V[1]: 3, V[2]: 3}, "middels_til_stort"),
        ({V[0]: 5, V[1]: 3, V[2]: 3}, "noe_avgrenset"),
        # 5, 5, 4, 4, 4 and twelve 3s = 58/17 ≈ 3.41 ≥ 3.2 (five ≥ 4, two 5s — too few)
        (dict.fromkeys(V, 3) | {V[0]: 5, V[1]: 5, V[2]: 4, V[3]: 4, V[4]: 4}, "omfattende"),
        # the same with 2s instead of 3s: 46/17 ≈ 2.71 < 3.2 → middels til stort
        (dict.fromkeys(V, 2) | {V[0]: 5, V[1]: 5, V[2]: 4, V[3]: 4, V[4]: 4}, "middels_til_stort"),
    ],
)
def test_need_level_thresholds(
    criteria: CriteriaVersion, given: dict[str, int], level: str
) -> None:
    assert classify(IplosScores(**scores(**given)), criteria.need_level) == level


def test_reasons_are_plain_norwegian_and_cite_the_criterion(criteria: CriteriaVersion) -> None:
    rec = recommend(assessment(alminnelig_husarbeid=3), criteria)
    pb = rec.services[0]
    texts = [r.text for r in pb.reasons]
    assert all(r.criterion == "care_ladder.services.PB_DAGL" for r in pb.reasons)
    assert texts[0].startswith("Praktisk bistand til daglige gjøremål gis når")
    assert texts[1] == (
        "Kriteriet PB_DAGL er oppfylt: 1 av variablene kriteriet nevner har skår 3 eller høyere "
        "(alminnelig husarbeid 3)."
    )
    assert texts[2] == "Anbefalt omfang ved noe/avgrenset bistandsbehov: 0,5–1,5 timer per uke."
    assert f"kriterieversjon {criteria.id}, gjeldende fra 2016-05-01" in rec.reasons[0].text
    assert "LEON-prinsippet" in rec.reasons[0].text
    assert rec.need_level.reasons[0] == "Samlet bistandsbehov: noe/avgrenset bistandsbehov"


def test_english_reasons_on_request(criteria: CriteriaVersion) -> None:
    with language("en"):
        rec = recommend(assessment(alminnelig_husarbeid=3), criteria)
    assert rec.services[0].reasons[2].text == (
        "Recommended volume for some/limited need of assistance: 0.5–1.5 hours per week."
    )


def test_a_recommendation_says_which_criteria_rest_on_estimates(
    criteria: CriteriaVersion,
) -> None:
    rec = recommend(assessment(alminnelig_husarbeid=3), criteria)
    assert rec.rests_on_estimates
    assert set(rec.estimates) == {"need_level", "care_ladder.services.PB_DAGL"}
    assert rec.criteria_version == criteria.id


# -- the assessment model: field-level errors -----------------------------------------------------


def _errors(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        Assessment.model_validate(data)
    return {".".join(str(p) for p in e["loc"]): e["msg"] for e in info.value.errors()}


def _valid() -> dict[str, Any]:
    return {
        "scores": scores(),
        "assessed_on": "2020-03-02",
        "assessor": "Kari",
        "signed_on": "2020-03-02",
        "what_matters": "",
    }


def test_a_bad_score_is_named_by_its_variable_in_norwegian() -> None:
    data = _valid()
    data["scores"] = scores(hukommelse=6, syn=0)
    errors = _errors(data)
    assert set(errors) == {"scores.hukommelse", "scores.syn"}
    assert errors["scores.hukommelse"] == (
        "en IPLOS-skår må være 1, 2, 3, 4, 5 eller 9 (9 = ikke relevant), ikke 6"
    )


def test_missing_and_unknown_variables_are_field_errors() -> None:
    data = _valid()
    data["scores"] = {k: v for k, v in scores().items() if k != "hoersel"} | {"smak": 1}
    errors = _errors(data)
    assert set(errors) == {"scores.hoersel", "scores.smak"}


def test_a_true_boolean_is_not_a_score() -> None:
    data = _valid()
    data["scores"] = scores() | {"spise": True}
    assert set(_errors(data)) == {"scores.spise"}


def test_signature_before_the_assessment_is_refused_on_the_signature_field() -> None:
    data = _valid() | {"signed_on": "2020-03-01"}
    errors = _errors(data)
    assert errors == {
        "signed_on": "kartleggingen er signert (2020-03-01) før den ble gjort (2020-03-02)"
    }


def test_assessor_is_required_and_text_is_stripped() -> None:
    assert set(_errors(_valid() | {"assessor": "   "})) == {"assessor"}
    a = Assessment.model_validate(_valid() | {"what_matters": "  Å klare meg selv.  "})
    assert a.what_matters == "Å klare meg selv."


def test_scores_in_any_order_and_as_digit_strings_give_the_same_assessment() -> None:
    forward = Assessment.model_validate(_valid())
    backward = Assessment.model_validate(
        _valid() | {"scores": {k: str(v) for k, v in reversed(list(scores().items()))}}
    )
    assert forward == backward


def test_the_json_schema_lists_every_variable_with_its_norwegian_name() -> None:
    schema = IplosScores.model_json_schema()
    assert schema["required"] == list(IPLOS_VARIABLES)
    assert schema["properties"]["hoersel"]["title"] == "Hørsel"
    assert schema["properties"]["hoersel"]["enum"] == [1, 2, 3, 4, 5, 9]


# -- decisions against the recommendation ---------------------------------------------------------


def test_a_decision_within_the_range_needs_no_justification(criteria: CriteriaVersion) -> None:
    rec = recommend(assessment(personlig_hygiene=3), criteria)  # HJSPL 0.5–2 h/week
    check = check_decision(rec, criteria, "HJSPL", 2.0, "timer_per_uke")
    assert (check.position, check.needs_justification, check.ok) == ("within", False, True)
    # 8 hours a month ≈ 1.84 hours a week: within
    assert check_decision(rec, criteria, "HJSPL", 8.0, "timer_per_maaned").position == "within"


def test_a_decision_outside_needs_a_listed_justification_and_free_text(
    criteria: CriteriaVersion,
) -> None:
    rec = recommend(assessment(personlig_hygiene=3), criteria)
    above = check_decision(rec, criteria, "HJSPL", 3.0, "timer_per_uke")
    assert above.position == "above" and above.needs_justification
    assert {p.field for p in above.problems} == {"justification", "justification_text"}
    assert above.problems[0].message.startswith("et vedtak utenfor anbefalingen må ha")
    ok = check_decision(
        rec, criteria, "HJSPL", 3.0, "timer_per_uke", "HELSEFAGLIG_VURDERING", "Sårstell."
    )
    assert ok.ok and ok.position == "above"
    bad = check_decision(rec, criteria, "HJSPL", 0.25, "timer_per_uke", "KAPASITET", "x")
    assert bad.position == "below"
    assert [p.field for p in bad.problems] == ["justification"]


def test_another_service_is_placed_by_its_step(criteria: CriteriaVersion) -> None:
    rec = recommend(assessment(personlig_hygiene=3), criteria)  # step 3
    assert check_decision(rec, criteria, "INST_LANG", 1, "doegn").position == "above"
    assert check_decision(rec, criteria, "TRYGGHETSALARM", 1, "per_maaned").position == "below"
    unknown = check_decision(rec, criteria, "SPA", 1, "per_maaned", "ANNET", "x")
    assert [p.field for p in unknown.problems] == ["service"]
    wrong_unit = check_decision(rec, criteria, "HJSPL", 1, "doegn", "ANNET", "x")
    assert [p.field for p in wrong_unit.problems] == ["unit"]
    zero = check_decision(rec, criteria, "HJSPL", 0, "timer_per_uke", "ANNET", "x")
    assert "volume" in [p.field for p in zero.problems]


def test_the_justification_list(criteria: CriteriaVersion) -> None:
    assert "ANNET" in criteria.justifications
    assert "TILBUD_IKKE_TILGJENGELIG" in criteria.justifications
    assert all(j.text and j.evidence == "estimate" for j in criteria.justifications.values())


# -- deadlines ------------------------------------------------------------------------------------


def test_deadlines_of_a_case(criteria: CriteriaVersion) -> None:
    d = criteria.deadlines
    received = dt.date(2020, 3, 2)
    # assessment due 14 days after (03-16); assessed 03-20 (late by 4); decision due
    # min(received + 30 = 04-01, assessed + 14 = 04-03) = 04-01; preliminary reply due 04-01.
    statuses = {
        s.step: s
        for s in case_deadlines(d, received, dt.date(2020, 4, 3), assessed_on=dt.date(2020, 3, 20))
    }
    assert statuses["assessment"].due == dt.date(2020, 3, 16)
    assert statuses["assessment"].late and statuses["assessment"].days_over == 4
    assert statuses["decision"].due == dt.date(2020, 4, 1)
    assert statuses["decision"].overdue and statuses["decision"].days_over == 2
    assert statuses["preliminary_reply"].due == dt.date(2020, 4, 1)
    assert {s.step for s in overdue(tuple(statuses.values()))} == {"decision", "preliminary_reply"}


def test_a_quick_decision_needs_no_preliminary_reply(criteria: CriteriaVersion) -> None:
    statuses = case_deadlines(
        criteria.deadlines,
        dt.date(2020, 3, 2),
        dt.date(2020, 6, 1),
        assessed_on=dt.date(2020, 3, 5),
        decided_on=dt.date(2020, 3, 10),
    )
    assert [s.step for s in statuses] == ["assessment", "decision"]
    assert overdue(statuses) == ()


def test_reevaluation_uses_the_service_interval_or_the_general_one(
    criteria: CriteriaVersion,
) -> None:
    decided = dt.date(2020, 3, 2)
    assert reevaluation_due(decided, "INST_KORT", criteria) == dt.date(2020, 4, 13)  # 42 days
    assert reevaluation_due(decided, "PB_DAGL", criteria) == dt.date(2021, 3, 2)  # 365 days
    assert criteria.deadlines.preliminary_reply.evidence == "confirmed"
