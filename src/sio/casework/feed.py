"""Decisions feed the money: every decision becomes a `vedtak` row of the data store.

A decision is written, in the same transaction, as a new data version holding its one vedtak row
(interfaces.md §1: `vedtak_id`, pseudonymous `person_id`, …). A changed or ended decision keeps
its `vedtak_id`, so its row supersedes the earlier one from the new version on (decision 0006):
`sio compute --db` sees the change, and the earlier version still computes as it did.

An assessment likewise becomes a `kartlegging` row (docs/evaluation-data.md): the case's
municipality, the person's pseudonym, the assessment date and the 17 scores, in a new data version
of its own, with a `personer` row (birth year and sex from the identity number) the first time
the person is stored, so that an import on top (which checks that every assessed person is in
`personer`) never finds the person missing.

The row is checked with the same vedtak rules an import applies (`check_vedtak_rows`: the
municipality valid on the decision's dates, a known service with a fitting unit and price
group, …) against the municipality as stored, so that a decision can never put a row into the
store that an import would refuse; an assessment likewise with the `kartlegging` rules
(`check_kartlegging_rows`).

Those checks are Polars frames built for a million rows; for the one row of a request they cost
15–25 ms of CPU. So a row is first put to `vedtak_row_passes` / `kartlegging_row_passes`: a
one-sided proof in plain Python that it breaks none of those rules (every rule that could refuse
it holds; any doubt answers False). Only a row it cannot pass goes through the Polars checks,
which then name the problem exactly as an import would. tests/test_casework_feed.py checks the
proof against the Polars checks over rows that break each rule.

A data version from the casework is one `INSERT … RETURNING` of the version and one insert of
its rows, the statements built once; its `sha256` is of the new row itself (with its source and a
random id), not of any merge.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, insert, select

from sio.criteria.iplos import SCORES
from sio.data.tables import HOUR_UNITS, IPLOS_COLUMNS, STANDARD_GROUP, UNITS
from sio.data.validation import ERROR, check_vedtak_rows, vedtak_rules
from sio.data.vedtak_fast import VedtakRules
from sio.i18n import _
from sio.parameters import ParameterSet
from sio.store.schema import INPUT_TABLES, data_version

VEDTAK = INPUT_TABLES["vedtak"]
KOMMUNER = INPUT_TABLES["kommuner"]
KARTLEGGING = INPUT_TABLES["kartlegging"]
PERSONER = INPUT_TABLES["personer"]


@dataclass(frozen=True)
class VedtakRow:
    vedtak_id: str
    person_id: str
    kommunenummer: str
    tjeneste: str
    prisgruppe: str | None
    omfang: str
    enhet: str
    fra: dt.date
    til: dt.date | None

    def cells(self) -> dict[str, str | None]:
        return {
            "vedtak_id": self.vedtak_id,
            "person_id": self.person_id,
            "kommunenummer": self.kommunenummer,
            "tjeneste": self.tjeneste,
            "prisgruppe": self.prisgruppe or None,
            "omfang": self.omfang,
            "enhet": self.enhet,
            "fra": self.fra.isoformat(),
            "til": self.til.isoformat() if self.til else None,
        }


# -- the one-sided proofs (see the module docstring) ------------------------------------------
# ASCII only and anchored at both ends (`fullmatch`): each accepts a subset of what the
# corresponding pattern of `sio.data.tables` accepts, as the proof must.
_CODE = re.compile(r"[0-9]{4}")
_IDENTITY_LIKE = re.compile(r"[0-9]{11}")  # PSEUDONYM_RE: what a person_id must not look like
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NUMBER = re.compile(r"[0-9]+(\.[0-9]*)?|\.[0-9]+")  # NUM_RE without a sign
_SCORE_TEXTS = frozenset(str(x) for x in SCORES)
_RULES: dict[str, VedtakRules] = {}  # per parameter version


def _rules(params: ParameterSet) -> VedtakRules:
    found = _RULES.get(params.version)
    if found is None:
        found = _RULES[params.version] = vedtak_rules(params)
    return found


def _day(text: str | None) -> dt.date | None:
    """The day of a YYYY-MM-DD cell; None for anything else (also an empty cell)."""
    if not text or not _DATE.fullmatch(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _given(cells: Mapping[str, str | None], col: str) -> str | None:
    v = cells.get(col)
    return v if v else None


def _person_ok(person_id: str | None) -> bool:
    return person_id is not None and not _IDENTITY_LIKE.fullmatch(person_id)


def _within(
    first: dt.date, last: dt.date | None, kommune: tuple[str, dt.date, dt.date | None]
) -> bool:
    """[first, last] (last None: open-ended) within the municipality's validity."""
    _code, k_fra, k_til = kommune
    if first < k_fra:
        return False
    return k_til is None or (last is not None and last <= k_til)


def vedtak_row_passes(
    cells: Mapping[str, str | None],
    kommune: tuple[str, dt.date, dt.date | None],
    params: ParameterSet,
) -> bool:
    """True only if the vedtak row `cells` (text cells as `VedtakRow.cells`) breaks none of the
    vedtak rules an import applies against `kommune` (its code, first and last valid day);
    False whenever that is not certain (then `check_vedtak_rows` decides)."""
    rules = _rules(params)
    if not all(_given(cells, c) for c in ("vedtak_id", "tjeneste", "enhet", "fra", "omfang")):
        return False
    code = _given(cells, "kommunenummer")
    if code is None or code != kommune[0] or not _CODE.fullmatch(code):
        return False
    if not _person_ok(_given(cells, "person_id")):
        return False
    service, unit = str(cells["tjeneste"]), str(cells["enhet"])
    if service in rules.priced:
        if (_given(cells, "prisgruppe") or STANDARD_GROUP) not in rules.priced[service]:
            return False
    elif service not in rules.lump:
        return False
    if unit not in UNITS:
        return False
    if (unit in HOUR_UNITS and service in rules.day) or (unit == "doegn" and service in rules.hour):
        return False
    volume_text = str(cells["omfang"])
    if not _NUMBER.fullmatch(volume_text):
        return False
    if unit == "timer_per_uke" and float(volume_text) > 168:
        return False
    first = _day(cells.get("fra"))
    if first is None:
        return False
    last_text = _given(cells, "til")
    last = _day(last_text)
    if last_text is not None and (last is None or last < first):
        return False
    return _within(first, last, kommune)


def kartlegging_row_passes(
    cells: Mapping[str, str | None], kommune: tuple[str, dt.date, dt.date | None]
) -> bool:
    """True only if the kartlegging row `cells` (as `KartleggingRow.cells`: the 17 scores, no
    need level) breaks none of the kartlegging rules an import applies against `kommune`;
    False whenever that is not certain (then `check_kartlegging_rows` decides)."""
    code = _given(cells, "kommunenummer")
    if code is None or code != kommune[0] or not _CODE.fullmatch(code):
        return False
    if not _person_ok(_given(cells, "person_id")):
        return False
    if _given(cells, "behovsniva") is not None:
        return False  # a need level given with the scores must agree with them: not proved here
    if not all(cells.get(v) in _SCORE_TEXTS for v in IPLOS_COLUMNS):
        return False
    day = _day(cells.get("dato"))
    if day is None:
        return False
    return _within(day, day, kommune)


class NotFinanceable(ValueError):
    """The decision cannot become a vedtak row; `field` names the field of the request."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def check_row(conn: Connection, params: ParameterSet, row: VedtakRow) -> None:
    """Refuse a row the engine could not compute (see the module docstring)."""
    kommune = _stored_kommune(conn, row.kommunenummer)
    if kommune is None:
        raise NotFinanceable(
            "kommunenummer",
            _(
                "municipality {code} is not in the data store; import the municipalities first"
            ).format(code=row.kommunenummer),
        )
    cells = row.cells()
    if vedtak_row_passes(cells, kommune, params):
        return
    errors = [p for p in check_vedtak_rows([cells], [kommune], params) if p.severity == ERROR]
    if errors:
        # the request's own field names; the municipality's validity is a matter of the dates
        field = "fra" if errors[0].field == "kommunenummer" else (errors[0].field or "tjeneste")
        raise NotFinanceable(field, errors[0].message)


# built once (see the module docstring); executed with the values as parameters
_NEW_VERSION = insert(data_version).returning(data_version.c.id)
_NEW_ROW = {name: insert(INPUT_TABLES[name]) for name in ("vedtak", "kartlegging", "personer")}
_KNOWN_PERSON = select(PERSONER.c.id).where(PERSONER.c.person_id == bindparam("p")).limit(1)


def _new_version(
    conn: Connection, source: str, user: str, cells: Mapping[str, str | None], rows: dict[str, int]
) -> int:
    """A new data version of `rows` (table → row count) whose first row is `cells`; its sha256
    is of that row, the source and a random id (a version of its own, never a duplicate)."""
    content = json.dumps({"kilde": source, "rad": cells, "id": uuid.uuid4().hex}, sort_keys=True)
    values = {
        "opprettet": dt.datetime.now(dt.UTC),
        "bruker": user,
        "kilde": source,
        "sha256": hashlib.sha256(content.encode()).hexdigest(),
        "rader": rows,
    }
    return int(conn.execute(_NEW_VERSION, values).scalar_one())


def append_version(conn: Connection, row: VedtakRow, source: str, user: str) -> int:
    """Store `row` as a new data version (in the caller's transaction); returns the version."""
    cells = row.cells()
    version = _new_version(conn, source, user, cells, {"vedtak": 1})
    conn.execute(_NEW_ROW["vedtak"], {"versjon": version, "rad": None, **cells})
    return version


# built once: a statement object keeps its compiled form between requests
_KOMMUNE = (
    select(KOMMUNER.c.gyldig_fra, KOMMUNER.c.gyldig_til)
    .where(KOMMUNER.c.kommunenummer == bindparam("code"))
    .order_by(KOMMUNER.c.versjon.desc())
    .limit(1)
)


def _stored_kommune(conn: Connection, code: str) -> tuple[str, dt.date, dt.date | None] | None:
    """The municipality as last stored: (code, first valid day, last valid day or None)."""
    k = conn.execute(_KOMMUNE, {"code": code}).first()
    if k is None:
        return None
    til = dt.date.fromisoformat(k.gyldig_til) if k.gyldig_til else None
    return code, dt.date.fromisoformat(k.gyldig_fra), til


@dataclass(frozen=True)
class KartleggingRow:
    """An assessment as the `kartlegging` table has it (pseudonymous)."""

    person_id: str
    kommunenummer: str
    dato: dt.date
    scores: Mapping[str, int]

    def cells(self) -> dict[str, str | None]:
        return {
            "person_id": self.person_id,
            "kommunenummer": self.kommunenummer,
            "dato": self.dato.isoformat(),
            **{v: str(self.scores[v]) for v in IPLOS_COLUMNS},
            "behovsniva": None,  # computed from the scores when read
        }


def person_cells(pseudonym: str, fodselsnummer: str) -> dict[str, str | None]:
    """The `personer` row of a person: birth year and sex from the (validated) identity number;
    whether the person lives alone is not known to the casework service."""
    from stdnum.no import fodselsnummer as fnr

    sex = {"M": "M", "F": "K"}.get(fnr.get_gender(fodselsnummer))
    return {
        "person_id": pseudonym,
        "foedselsaar": str(fnr.get_birth_date(fodselsnummer).year),
        "kjoenn": sex,
        "bor_alene": None,
    }


def check_assessment(conn: Connection, row: KartleggingRow) -> None:
    """Refuse an assessment row an import would refuse (see the module docstring)."""
    from sio.data.evaluation_tables import check_kartlegging_rows

    kommune = _stored_kommune(conn, row.kommunenummer)
    if kommune is None:
        raise NotFinanceable(
            "kommunenummer",
            _(
                "municipality {code} is not in the data store; import the municipalities first"
            ).format(code=row.kommunenummer),
        )
    cells = row.cells()
    if kartlegging_row_passes(cells, kommune):
        return
    problems = check_kartlegging_rows([cells], [kommune])
    errors = [p for p in problems if p.severity == ERROR]
    if errors:
        field = "kartlagt_dato" if errors[0].field in ("dato", "kommunenummer") else "skaarer"
        raise NotFinanceable(field, errors[0].message)


def append_assessment_version(
    conn: Connection, row: KartleggingRow, person: Mapping[str, str | None], source: str, user: str
) -> int:
    """Store `row` (and `person`, if the person has no stored `personer` row yet) as a new data
    version (in the caller's transaction); returns the version."""
    cells = row.cells()
    known = conn.execute(_KNOWN_PERSON, {"p": row.person_id}).first()
    counts = {"kartlegging": 1} | ({} if known else {"personer": 1})
    version = _new_version(conn, source, user, cells, counts)
    conn.execute(_NEW_ROW["kartlegging"], {"versjon": version, "rad": None, **cells})
    if not known:
        conn.execute(_NEW_ROW["personer"], {"versjon": version, "rad": None, **person})
    return version
