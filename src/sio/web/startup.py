"""What `sio serve` does on an empty store: import the demo data (`sio.data.demo`, through the
same `import_path` as `sio import`) and create one demo account per role, so that a person who
starts the service with no configuration can sign in and see real figures at once."""

from __future__ import annotations

import datetime as dt
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, func, select

from sio.casework.access import MUNICIPAL, ROLES
from sio.casework.api import create_account
from sio.casework.schema import account
from sio.parameters import ParameterSet
from sio.store.versions import import_path, latest_version

__all__ = ["DemoAccount", "DemoSetup", "prepare_demo"]

# the demo's caseworker and finance officer belong to this municipality when it is valid today
PREFERRED_MUNICIPALITY = "5035"  # Stjørdal: model A, activity-financed 2016–2021 in the demo


@dataclass(frozen=True)
class DemoAccount:
    brukernavn: str
    passord: str
    rolle: str
    kommunenummer: str | None


@dataclass(frozen=True)
class DemoSetup:
    """What was done: the data version imported (None: there was data) and the accounts made
    (empty: there were accounts)."""

    data_version: int | None
    accounts: list[DemoAccount]


def _municipality(engine: Engine) -> str | None:
    """A participating demo municipality that a municipal account can be bound to today."""
    from sio.store.schema import INPUT_TABLES

    deltakelse = INPUT_TABLES["deltakelse"]
    today = dt.date.today()
    with engine.connect() as c:
        codes = sorted({str(r[0]) for r in c.execute(select(deltakelse.c.kommunenummer))})
        ordered = sorted(codes, key=lambda k: k != PREFERRED_MUNICIPALITY)
        for code in ordered:
            if _bindable(c, code, today):
                return code
    return None


def _bindable(conn: Connection, code: str, day: dt.date) -> bool:
    """Whether a municipal account may be bound to `code` on `day` (the account rules'
    `binding_problem` where that module exists, else the shipped municipality history)."""
    try:
        from sio.casework.accounts import binding_problem
    except ImportError:  # pragma: no cover - a service without the account rules module
        from sio.data.kommunehistorikk import KommuneHistorikk

        return KommuneHistorikk.shipped().valid_on(code, day)
    return binding_problem(conn, "saksbehandler", code, day) is None


def prepare_demo(engine: Engine, params: ParameterSet) -> DemoSetup:
    """Import the demo data if no data version is stored, and make one account per role (with
    a random password each) if there is no account at all."""
    from sio.data.demo import write_demo_data

    with engine.connect() as c:
        has_data = latest_version(c) is not None
        has_accounts = c.execute(select(func.count()).select_from(account)).scalar_one() > 0
    version = None
    if not has_data:
        with tempfile.TemporaryDirectory(prefix="sio-demo-") as tmp:
            folder = Path(tmp) / "inndata"
            write_demo_data(folder)
            version = import_path(engine, folder, params, user="demo").versjon
    made: list[DemoAccount] = []
    if not has_accounts:
        code = _municipality(engine)
        for rolle in ROLES:
            kommune = code if rolle in MUNICIPAL else None
            if rolle in MUNICIPAL and kommune is None:
                continue
            name = f"demo-{rolle}"
            password = secrets.token_urlsafe(12)
            create_account(engine, name, password, rolle, kommune)
            made.append(DemoAccount(name, password, rolle, kommune))
    return DemoSetup(version, made)
