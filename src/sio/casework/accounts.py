"""Rules for accounts that the administrator's routes and the set-up commands share: a role's
municipality binding (a municipality valid on the day) and that no change may leave the service
without an active administrator."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, select

from sio.casework.access import MUNICIPAL
from sio.casework.schema import account
from sio.data.kommunehistorikk import KommuneHistorikk
from sio.i18n import _
from sio.store.schema import INPUT_TABLES

KOMMUNER = INPUT_TABLES["kommuner"]


class LockOut(Exception):
    """409: the change would leave no active administrator (one Norwegian sentence)."""


def municipality_valid(conn: Connection, code: str, day: dt.date) -> bool:
    """Whether `code` is a municipality on `day`: in the shipped municipality history (SSB's
    classification 131 for the scheme's municipalities), or as the data store has it (its
    latest row of that code)."""
    if KommuneHistorikk.shipped().valid_on(code, day):
        return True
    k = conn.execute(
        select(KOMMUNER.c.gyldig_fra, KOMMUNER.c.gyldig_til)
        .where(KOMMUNER.c.kommunenummer == code)
        .order_by(KOMMUNER.c.versjon.desc())
        .limit(1)
    ).first()
    if k is None:
        return False
    start = dt.date.fromisoformat(k.gyldig_fra)
    end = dt.date.fromisoformat(k.gyldig_til) if k.gyldig_til else None
    return start <= day and (end is None or day <= end)


def binding_problem(conn: Connection, rolle: str, kommune: str | None, day: dt.date) -> str | None:
    """Why `rolle` cannot be bound to `kommune` (None: it can)."""
    if rolle in MUNICIPAL and kommune is None:
        return _("the role {role} is bound to one municipality").format(role=rolle)
    if rolle not in MUNICIPAL and kommune is not None:
        return _("the role {role} is not bound to a municipality").format(role=rolle)
    if kommune is not None and not municipality_valid(conn, kommune, day):
        return _("{code} is not a municipality on {day}").format(code=kommune, day=day.isoformat())
    return None


def check_admins_remain(
    conn: Connection, acting: int, target: int, rolle: str, aktiv: bool
) -> None:
    """Refuse (LockOut) a change that makes account `target` (by `acting`) have `rolle` and
    `aktiv` if it would leave no active administrator: an administrator never deactivates or
    demotes itself, and the last active administrator stays one. The active administrators
    are locked until the transaction ends, so two such changes at once cannot both pass."""
    current = conn.execute(
        select(account.c.rolle, account.c.aktiv).where(account.c.id == target)
    ).one()
    if current.rolle != "admin" or not current.aktiv or (rolle == "admin" and aktiv):
        return
    if target == acting:
        raise LockOut(_("You cannot deactivate yourself or take away your own administrator role."))
    others = conn.execute(
        select(account.c.id)
        .where(account.c.rolle == "admin", account.c.aktiv.is_(True), account.c.id != target)
        .with_for_update()
    ).fetchall()
    if not others:
        raise LockOut(_("The change would leave the service without an active administrator."))
