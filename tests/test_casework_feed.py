"""The casework's one-sided proofs that a vedtak or kartlegging row breaks no import rule
(`sio.casework.feed.vedtak_row_passes`, `kartlegging_row_passes`) against the import's own
checks (`check_vedtak_rows`, `check_kartlegging_rows`): a row a proof passes has no error there,
and a row that breaks any one rule is never passed. Each case below is a valid row with one
cell changed; which rule it breaks (or that it breaks none) is read from the rules of
interfaces.md §1 and docs/evaluation-data.md, not from the code."""

from __future__ import annotations

import datetime as dt

import pytest

from sio.casework.feed import kartlegging_row_passes, vedtak_row_passes
from sio.data.evaluation_tables import check_kartlegging_rows
from sio.data.tables import IPLOS_COLUMNS
from sio.data.validation import ERROR, check_vedtak_rows
from sio.parameters import ParameterSet

# a municipality valid from 2020 to the end of 2023 (a merger ends it), and one still valid
ENDING = ("4624", dt.date(2020, 1, 1), dt.date(2023, 12, 31))
OPEN = ("5035", dt.date(2020, 1, 1), None)

VEDTAK = {
    "vedtak_id": "SAK1-1",
    "person_id": "p3b8c1d2e4f5a6b7",
    "kommunenummer": "5035",
    "tjeneste": "PB_DAGL",
    "prisgruppe": None,
    "omfang": "1.5",
    "enhet": "timer_per_uke",
    "fra": "2020-04-01",
    "til": None,
}

# (what is changed, the municipality, whether the row breaks no rule)
VEDTAK_CASES: list[tuple[dict[str, str | None], tuple[str, dt.date, dt.date | None], bool]] = [
    ({}, OPEN, True),
    ({"til": "2020-12-31"}, OPEN, True),
    ({"omfang": "0"}, OPEN, True),
    ({"omfang": "168"}, OPEN, True),  # a whole week: allowed (above 84 only warns)
    ({"omfang": ".5"}, OPEN, True),
    ({"omfang": "7."}, OPEN, True),
    ({"prisgruppe": "STANDARD"}, OPEN, True),
    ({"tjeneste": "INST_LANG", "enhet": "doegn", "prisgruppe": "SKJERMET"}, OPEN, True),
    ({"tjeneste": "TRYGGHETSALARM", "enhet": "per_maaned", "omfang": "1"}, OPEN, True),
    ({"kommunenummer": "4624", "til": "2023-12-31"}, ENDING, True),
    ({"kommunenummer": "4624", "til": "2022-06-30"}, ENDING, True),
    # each breaks one rule
    ({"vedtak_id": ""}, OPEN, False),
    ({"person_id": ""}, OPEN, False),
    ({"person_id": "01014012345"}, OPEN, False),  # looks like an identity number
    ({"tjeneste": "UKJENT"}, OPEN, False),
    ({"tjeneste": ""}, OPEN, False),
    ({"prisgruppe": "SKJERMET"}, OPEN, False),  # not a price group of PB_DAGL
    ({"enhet": "timer"}, OPEN, False),
    ({"enhet": ""}, OPEN, False),
    ({"enhet": "doegn"}, OPEN, False),  # PB_DAGL is priced per hour
    ({"tjeneste": "INST_LANG", "enhet": "timer_per_uke"}, OPEN, False),  # priced per day
    ({"omfang": ""}, OPEN, False),
    ({"omfang": "1,5"}, OPEN, False),
    ({"omfang": "en"}, OPEN, False),
    ({"omfang": "-1"}, OPEN, False),
    ({"omfang": "168.5"}, OPEN, False),
    ({"fra": ""}, OPEN, False),
    ({"fra": "2020-02-30"}, OPEN, False),
    ({"fra": "1.4.2020"}, OPEN, False),
    ({"til": "2020-13-01"}, OPEN, False),
    ({"til": "2020-03-31"}, OPEN, False),  # before fra
    ({"fra": "2019-12-01"}, OPEN, False),  # before the municipality existed
    ({"kommunenummer": "4624"}, ENDING, False),  # open-ended past the municipality's end
    ({"kommunenummer": "4624", "til": "2024-01-31"}, ENDING, False),
    ({"kommunenummer": "462"}, ("462", dt.date(2020, 1, 1), None), False),
]


def _vedtak_errors(
    cells: dict[str, str | None],
    kommune: tuple[str, dt.date, dt.date | None],
    params: ParameterSet,
) -> list[str]:
    return [
        f"{p.field}: {p.message}"
        for p in check_vedtak_rows([cells], [kommune], params)
        if p.severity == ERROR
    ]


@pytest.mark.parametrize(("change", "kommune", "valid"), VEDTAK_CASES)
def test_a_vedtak_row_is_passed_only_if_the_import_finds_no_error(
    change: dict[str, str | None],
    kommune: tuple[str, dt.date, dt.date | None],
    valid: bool,
    params: ParameterSet,
) -> None:
    cells = VEDTAK | change
    errors = _vedtak_errors(cells, kommune, params)
    assert (not errors) == valid, errors  # the case is what it says
    assert vedtak_row_passes(cells, kommune, params) == valid


def test_a_negative_zero_volume_is_left_to_the_import_checks(params: ParameterSet) -> None:
    # no rule refuses "-0", but the proof does not try to show it: the Polars checks decide
    cells = VEDTAK | {"omfang": "-0"}
    assert not vedtak_row_passes(cells, OPEN, params)
    assert _vedtak_errors(cells, OPEN, params) == []


SCORES = dict.fromkeys(IPLOS_COLUMNS, "2") | {"hoersel": "9", "syn": "1"}
KARTLEGGING = {
    "person_id": "p3b8c1d2e4f5a6b7",
    "kommunenummer": "4624",
    "dato": "2020-03-04",
    **SCORES,
    "behovsniva": None,
}

KARTLEGGING_CASES: list[tuple[dict[str, str | None], bool]] = [
    ({}, True),
    ({"dato": "2023-12-31"}, True),  # the municipality's last day
    ({"dato": "2020-01-01"}, True),
    (dict.fromkeys(IPLOS_COLUMNS, "5"), True),
    ({"person_id": ""}, False),
    ({"person_id": "01014012345"}, False),
    ({"dato": ""}, False),
    ({"dato": "2020-02-30"}, False),
    ({"dato": "4.3.2020"}, False),
    ({"dato": "2019-12-31"}, False),  # before the municipality existed
    ({"dato": "2024-01-01"}, False),  # after it ended
    ({"hoersel": "6"}, False),
    ({"hoersel": "0"}, False),
    ({"spise": ""}, False),  # some of the 17 scores, not all
    ({"behovsniva": "ukjent"}, False),
]


@pytest.mark.parametrize(("change", "valid"), KARTLEGGING_CASES)
def test_a_kartlegging_row_is_passed_only_if_the_import_finds_no_error(
    change: dict[str, str | None], valid: bool
) -> None:
    cells = KARTLEGGING | change
    errors = [p for p in check_kartlegging_rows([cells], [ENDING]) if p.severity == ERROR]
    assert (not errors) == valid, errors
    assert kartlegging_row_passes(cells, ENDING) == valid


def test_a_need_level_given_with_the_scores_is_left_to_the_import_checks() -> None:
    # the proof never passes a row with a need level (the Polars checks compare it with the
    # rule); these low scores are not "omfattende" under the criteria's need-level rule
    cells = KARTLEGGING | {"behovsniva": "omfattende"}
    assert not kartlegging_row_passes(cells, ENDING)
    errors = [p for p in check_kartlegging_rows([cells], [ENDING]) if p.severity == ERROR]
    assert [p.field for p in errors] == ["behovsniva"]
