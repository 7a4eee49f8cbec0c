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
store that an import would refuse.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

from sio.data.tables import IPLOS_COLUMNS
from sio.data.validation import ERROR, check_vedtak_rows
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


class NotFinanceable(ValueError):
    """The decision cannot become a vedtak row; `field` names the field of the request."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def check_row(conn: Connection, params: ParameterSet, row: VedtakRow) -> None:
    """Refuse a row the engine could not compute (see the module docstring)."""
    k = conn.execute(
        select(KOMMUNER.c.gyldig_fra, KOMMUNER.c.gyldig_til)
        .where(KOMMUNER.c.kommunenummer == row.kommunenummer)
        .order_by(KOMMUNER.c.versjon.desc())
        .limit(1)
    ).first()
    if k is None:
        raise NotFinanceable(
            "kommunenummer",
            _(
                "municipality {code} is not in the data store; import the municipalities first"
            ).format(code=row.kommunenummer),
        )
    kommune = (
        row.kommunenummer,
        dt.date.fromisoformat(k.gyldig_fra),
        dt.date.fromisoformat(k.gyldig_til) if k.gyldig_til else None,
    )
    errors = [p for p in check_vedtak_rows([row.cells()], [kommune], params) if p.severity == ERROR]
    if errors:
        # the request's own field names; the municipality's validity is a matter of the dates
        field = "fra" if errors[0].field == "kommunenummer" else (errors[0].field or "tjeneste")
        raise NotFinanceable(field, errors[0].message)


def append_version(conn: Connection, row: VedtakRow, source: str, user: str) -> int:
    """Store `row` as a new data version (in the caller's transaction); returns the version."""
    cells = row.cells()
    content = json.dumps({"kilde": source, "rad": cells, "id": uuid.uuid4().hex}, sort_keys=True)
    version = conn.execute(
        insert(data_version)
        .values(
            opprettet=dt.datetime.now(dt.UTC),
            bruker=user,
            kilde=source,
            sha256=hashlib.sha256(content.encode()).hexdigest(),
            rader={"vedtak": 1},
        )
        .returning(data_version.c.id)
    ).scalar_one()
    conn.execute(insert(VEDTAK).values(versjon=version, rad=None, **cells))
    return int(version)


def _stored_kommune(conn: Connection, code: str) -> tuple[str, dt.date, dt.date | None] | None:
    k = conn.execute(
        select(KOMMUNER.c.gyldig_fra, KOMMUNER.c.gyldig_til)
        .where(KOMMUNER.c.kommunenummer == code)
        .order_by(KOMMUNER.c.versjon.desc())
        .limit(1)
    ).first()
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
    problems = check_kartlegging_rows([row.cells()], [kommune])
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
    known = conn.execute(
        select(PERSONER.c.id).where(PERSONER.c.person_id == row.person_id).limit(1)
    ).first()
    counts = {"kartlegging": 1} | ({} if known else {"personer": 1})
    content = json.dumps({"kilde": source, "rad": cells, "id": uuid.uuid4().hex}, sort_keys=True)
    version = conn.execute(
        insert(data_version)
        .values(
            opprettet=dt.datetime.now(dt.UTC),
            bruker=user,
            kilde=source,
            sha256=hashlib.sha256(content.encode()).hexdigest(),
            rader=counts,
        )
        .returning(data_version.c.id)
    ).scalar_one()
    conn.execute(insert(KARTLEGGING).values(versjon=version, rad=None, **cells))
    if not known:
        conn.execute(insert(PERSONER).values(versjon=version, rad=None, **person))
    return int(version)
