"""The application round (scheme.md §2): a municipality applies, the directorate assesses the
requirements and offers, the municipality accepts — and the engine then computes the new
participant from the data version the acceptance stored, with the figures worked out by hand in
`test_cli.small_world`'s docstring."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from casework_support import two_municipalities
from conftest import write_input
from sio.application_round import rules
from sio.application_round.rules import Offer, RoundError
from sio.application_round.service import (
    accept,
    decline,
    get,
    list_applications,
    make_offer,
    record_assessment,
    record_council_decision,
    refuse,
    register,
)
from sio.casework.access import Forbidden, NotFound, Principal
from sio.casework.api import create_account
from sio.engine import Engine as SioEngine
from sio.parameters import ParameterSet
from sio.store.db import make_engine, migrate
from sio.store.versions import import_path, list_versions, load_version
from test_store import _pg_database, pg_url, store_url  # noqa: F401  (fixtures)

DESCRIBED = {
    "bestiller_utfoerer": "Tildelingskontoret er skilt ut i egen enhet under kommunalsjefen.",
    "kompetanse": "Fem saksbehandlere med høgskoleutdanning i helse- og sosialfag.",
    "kjoep": "Rammeavtaler med private leverandører av praktisk bistand.",
    "systemer": "Fagsystemet kan rapportere vedtak per bruker; økonomisystemet per funksjon.",
}
ALL_MET = {k: (True, "") for k in DESCRIBED}


def _world() -> dict[str, list[dict[str, Any]]]:
    """The two participants of the casework tests, and 9003, a copy of 9001 that does not take
    part (the same accounts and population, no vedtak)."""
    w = two_municipalities()
    w["kommuner"].append(dict(w["kommuner"][0], kommunenummer="9003", navn="Søkerbygd"))
    w["utgifter"] += [
        dict(r, kommunenummer="9003") for r in w["utgifter"] if r["kommunenummer"] == "9001"
    ]
    w["befolkning"] += [
        dict(r, kommunenummer="9003") for r in w["befolkning"] if r["kommunenummer"] == "9001"
    ]
    return w


class Round:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.who: dict[str, Principal] = {}
        for name, role, code in (
            ("dir", "direktorat", None),
            ("ok3", "okonomi", "9003"),
            ("ok1", "okonomi", "9001"),
            ("sb3", "saksbehandler", "9003"),
        ):
            kid = create_account(engine, name, "riktig-hest-batteri-stift", role, code)
            self.who[name] = Principal(kid, name, role, code, "token")

    def apply(self, who: str = "ok3", **over: Any) -> int:
        args: dict[str, Any] = {
            "kommunenummer": "9003",
            "utlysning": "2015",
            "mottatt": dt.date(2015, 11, 20),
            "kommunestyrevedtak": dt.date(2015, 11, 12),
            "modell": "A",
            "oensket_start": dt.date(2016, 5, 1),
            "descriptions": DESCRIBED,
        } | over
        with self.engine.begin() as c:
            return register(c, self.who[who], **args)


@pytest.fixture
def round_(store_url: str, tmp_path: Path, params: ParameterSet) -> Round:  # noqa: F811
    engine = make_engine(store_url)
    migrate(engine)
    import_path(engine, write_input(tmp_path / "world", _world()), params)
    return Round(engine)


TODAY = dt.date(2016, 1, 20)


def test_an_accepted_offer_is_a_participation_record_the_engine_computes(
    round_: Round, params: ParameterSet
) -> None:
    sid = round_.apply()
    d, ok3 = round_.who["dir"], round_.who["ok3"]
    with round_.engine.begin() as c:
        judged = record_assessment(c, d, sid, ALL_MET, TODAY)
        assert [j.oppfylt for j in judged] == [True] * 6
        make_offer(c, d, sid, Offer("A", dt.date(2016, 5, 1), None, dt.date(2016, 2, 1)), TODAY)
        assert get(c, ok3, sid).status(TODAY) == "tilbudt"
    before = len(list_versions(round_.engine))
    version = accept(round_.engine, ok3, sid, dt.date(2016, 1, 28), dt.date(2016, 1, 28), params)
    versions = list_versions(round_.engine)
    assert len(versions) == before + 1 and versions[-1].versjon == version
    with round_.engine.connect() as c:
        a = get(c, ok3, sid)
    assert a.status(dt.date(2016, 3, 1)) == "akseptert"
    assert a.latest("aksept") is not None and a.latest("aksept")["versjon"] == version  # type: ignore[index]

    assert versions[-1].kilde == "søknadsrunden: søknad 1 akseptert"
    assert versions[-1].bruker == "ok3" and versions[-1].rader == {"deltakelse": 1}
    data, _v = load_version(round_.engine, params, version)
    row = next(r for r in data.deltakelse.iter_rows(named=True) if r["kommunenummer"] == "9003")
    assert (row["modell"], row["fra"], row["til"]) == ("A", dt.date(2016, 5, 1), None)
    result = SioEngine(data, params).compute_year(2016)
    got = result.get("9003")
    assert got is not None
    # test_cli.small_world's hand computation, without its one vedtak (9003 has none)
    assert got.result.uttrekk == 68_599_612
    assert got.result.inntektspaaslag == 2_743_984
    assert got.result.rundsumtilskudd == 6_859_961
    assert got.result.aktivitetstilskudd == 0
    assert got.result.netto == 6_859_961 + 2_743_984 - 68_599_612


def test_requirements_are_checked_against_the_call(round_: Round) -> None:
    d = round_.who["dir"]
    late = round_.apply(mottatt=dt.date(2015, 12, 2), kommunestyrevedtak=None)
    with round_.engine.begin() as c:
        judged = {j.krav: j for j in record_assessment(c, d, late, ALL_MET, TODAY)}
    assert not judged["soknadsfrist"].oppfylt
    assert judged["soknadsfrist"].begrunnelse == "mottatt 2015-12-02, frist 2015-12-01"
    assert not judged["kommunestyrevedtak"].oppfylt
    assert judged["kommunestyrevedtak"].begrunnelse == (
        "ingen kommunestyrevedtak registrert (frist 2015-12-17)"
    )
    with round_.engine.begin() as c, pytest.raises(RoundError) as err:
        make_offer(c, d, late, Offer("A", dt.date(2016, 5, 1), None, dt.date(2016, 2, 1)), TODAY)
    assert err.value.field == "vurdering"
    assert err.value.message == (
        "kravene er ikke oppfylt: Søknad mottatt innen fristen, Kommunestyrevedtak om deltakelse"
    )

    # a council decision sent by the council deadline (17 December 2015) meets the requirement
    sid = round_.apply(kommunestyrevedtak=None)
    with round_.engine.begin() as c:
        record_council_decision(c, round_.who["ok3"], sid, dt.date(2015, 12, 16), TODAY)
        judged = {j.krav: j for j in record_assessment(c, d, sid, ALL_MET, TODAY)}
    assert judged["kommunestyrevedtak"].oppfylt
    with round_.engine.begin() as c:
        record_council_decision(c, round_.who["ok3"], sid, dt.date(2015, 12, 18), TODAY)
        judged = {j.krav: j for j in record_assessment(c, d, sid, ALL_MET, TODAY)}
    assert not judged["kommunestyrevedtak"].oppfylt


def test_the_directorate_judges_the_described_requirements(round_: Round) -> None:
    d = round_.who["dir"]
    sid = round_.apply(descriptions=DESCRIBED | {"kjoep": "  "})
    with round_.engine.begin() as c, pytest.raises(RoundError) as err:
        record_assessment(c, d, sid, ALL_MET, TODAY)
    assert (err.value.field, err.value.message) == (
        "kjoep",
        "kan ikke være oppfylt: søknaden beskriver det ikke",
    )
    with round_.engine.begin() as c, pytest.raises(RoundError) as err:
        record_assessment(c, d, sid, ALL_MET | {"kjoep": (False, "")}, TODAY)
    assert err.value.field == "kjoep"
    assert err.value.message == "et krav som ikke er oppfylt, må begrunnes"
    with round_.engine.begin() as c:
        judged = record_assessment(
            c, d, sid, ALL_MET | {"kjoep": (False, "Ingen avtaler om kjøp beskrevet")}, TODAY
        )
    assert [j.krav for j in judged if not j.oppfylt] == ["kjoep"]
    with round_.engine.begin() as c:
        refuse(c, d, sid, "Kravet om kjøp av tjenester er ikke oppfylt", TODAY)
        assert get(c, d, sid).status(TODAY) == "avslaatt"
        with pytest.raises(RoundError) as err:
            make_offer(c, d, sid, Offer("A", dt.date(2016, 5, 1), None, dt.date(2016, 2, 1)), TODAY)
    assert err.value.message == "søknaden er avsluttet (avslått)"


D = dt.date
REFUSED_OFFERS = [
    (Offer("A", D(2016, 5, 2), None, D(2016, 2, 1)), "fra", "må være den første dagen i en måned"),
    (
        Offer("A", D(2016, 1, 1), None, D(2015, 12, 31)),
        "fra",
        "utlysningens tidligste start er 2016-05-01",
    ),
    (Offer("C", D(2016, 5, 1), None, D(2016, 2, 1)), "modell", "modell må være A eller B"),
    (
        Offer("B", D(2016, 5, 1), D(2016, 6, 1), D(2016, 2, 1)),
        "aktivitet_fra",
        "«aktivitet_fra» gjelder bare modell A",
    ),
    (
        Offer("A", D(2016, 5, 1), D(2016, 4, 1), D(2016, 2, 1)),
        "aktivitet_fra",
        "«aktivitet_fra» må ligge innenfor perioden",
    ),
    (
        Offer("A", D(2016, 5, 1), None, D(2016, 1, 19)),
        "svarfrist",
        "svarfristen 2016-01-19 er passert",
    ),
    (
        Offer("A", D(2016, 5, 1), None, D(2016, 5, 1)),
        "svarfrist",
        "svaret må komme før starten 2016-05-01",
    ),
]


@pytest.mark.parametrize(("offer", "field", "message"), REFUSED_OFFERS)
def test_an_offer_the_round_does_not_allow_is_refused(
    offer: Offer, field: str, message: str
) -> None:
    call = rules.call_of("2015")
    met = [rules.Judgement(k, True, "") for k in rules.REQUIREMENTS]
    with pytest.raises(RoundError) as err:
        rules.check_offer(call, "9003", met, offer, TODAY)
    assert (err.value.field, err.value.message) == (field, message)


def test_model_b_cannot_start_after_may_2019() -> None:
    call = rules.call_of("2019")
    met = [rules.Judgement(k, True, "") for k in rules.REQUIREMENTS]
    today = dt.date(2020, 3, 1)
    with pytest.raises(RoundError) as err:
        offer = Offer("B", dt.date(2021, 1, 1), None, dt.date(2020, 6, 1))
        rules.check_offer(call, "9003", met, offer, today)
    assert err.value.field == "modell"
    # the 2019 call: Indre Østfold's own deadline and start, a later start for the others
    assert call.deadline("3014") == dt.date(2019, 12, 1)
    assert call.earliest_start("3014") == dt.date(2020, 1, 1)
    assert call.deadline("4601") == dt.date(2020, 2, 1)
    assert call.earliest_start("4601") == dt.date(2021, 1, 1)
    assert call.council_deadline("4601") == dt.date(2020, 2, 1)  # no own council deadline


def test_an_offer_expires_and_a_late_acceptance_stores_nothing(
    round_: Round, params: ParameterSet
) -> None:
    sid = round_.apply()
    d, ok3 = round_.who["dir"], round_.who["ok3"]
    with round_.engine.begin() as c:
        record_assessment(c, d, sid, ALL_MET, TODAY)
        make_offer(c, d, sid, Offer("A", dt.date(2016, 5, 1), None, dt.date(2016, 2, 1)), TODAY)
    before = list_versions(round_.engine)
    late = dt.date(2016, 2, 2)
    with pytest.raises(RoundError) as err:
        accept(round_.engine, ok3, sid, late, late, params)
    assert err.value.message == "tilbudet gikk ut 2016-02-01: det ble ikke akseptert i tide"
    assert list_versions(round_.engine) == before
    with round_.engine.connect() as c:
        assert get(c, ok3, sid).status(late) == "utloept"


def test_a_participation_that_overlaps_is_refused_by_the_import_rules(
    round_: Round, params: ParameterSet
) -> None:
    # 9001 takes part from 2016-05 already: its application's record would overlap
    sid = round_.apply("ok1", kommunenummer="9001")
    d, ok1 = round_.who["dir"], round_.who["ok1"]
    with round_.engine.begin() as c:
        record_assessment(c, d, sid, ALL_MET, TODAY)
        make_offer(c, d, sid, Offer("A", dt.date(2016, 6, 1), None, dt.date(2016, 2, 1)), TODAY)
    before = list_versions(round_.engine)
    with pytest.raises(RoundError) as err:
        accept(round_.engine, ok1, sid, TODAY, TODAY, params)
    assert err.value.field == "fra"
    assert "overlapper en annen deltakelsesperiode for samme kommune" in err.value.message
    assert list_versions(round_.engine) == before


def test_roles_and_municipalities(round_: Round) -> None:
    sid = round_.apply()
    with pytest.raises(Forbidden):
        round_.apply("ok1")  # 9001's finance officer applying for 9003
    with pytest.raises(RoundError) as err:
        round_.apply(utlysning="2030")
    assert err.value.message == "ingen utlysning 2030 (kjente: 2015, 2019)"
    with round_.engine.begin() as c:
        with pytest.raises(NotFound):
            get(c, round_.who["ok1"], sid)
        with pytest.raises(Forbidden):
            get(c, round_.who["sb3"], sid)
        with pytest.raises(Forbidden):
            record_assessment(c, round_.who["ok3"], sid, ALL_MET, TODAY)
        assert [a.id for a in list_applications(c, round_.who["ok1"])] == []
        assert [a.id for a in list_applications(c, round_.who["dir"])] == [sid]
        with pytest.raises(RoundError) as err:
            register(
                c,
                round_.who["dir"],
                kommunenummer="9999",
                utlysning="2015",
                mottatt=dt.date(2015, 11, 1),
                kommunestyrevedtak=None,
                modell="A",
                oensket_start=None,
                descriptions=DESCRIBED,
            )
        assert (err.value.field, err.value.message) == (
            "kommunenummer",
            "9999 er ikke et kommunenummer som gjelder 2015-11-01",
        )


def test_a_declined_offer_closes_the_application(round_: Round) -> None:
    sid = round_.apply()
    d, ok3 = round_.who["dir"], round_.who["ok3"]
    with round_.engine.begin() as c:
        record_assessment(c, d, sid, ALL_MET, TODAY)
        make_offer(c, d, sid, Offer("A", dt.date(2016, 5, 1), None, dt.date(2016, 2, 1)), TODAY)
        decline(c, ok3, sid, TODAY, TODAY)
        assert get(c, ok3, sid).status(TODAY) == "takket_nei"
        with pytest.raises(RoundError):
            record_council_decision(c, ok3, sid, TODAY, TODAY)
