"""Who may do what: the signed-in principal, the roles, and municipality scoping of queries.

Scoping is applied where data is queried (`scoped`, or `scoped_forms` and `scope` for a statement
built once), not only in route handlers: a query for a
case of another municipality finds nothing, so the answer is 404 — it never leaks by id.

| role | data | scope |
|---|---|---|
| `saksbehandler` | cases with identity numbers; all casework writes | own municipality |
| `okonomi` | cases and decisions, persons pseudonymised; no writes | own municipality |
| `direktorat` | cases and decisions, persons pseudonymised | every municipality |
| `evaluator` | aggregates and pseudonymised decisions only | every municipality |
| `admin` | accounts only, no casework data | — |
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, Table, bindparam

from sio.i18n import _

ROLES: tuple[str, ...] = ("saksbehandler", "okonomi", "direktorat", "evaluator", "admin")
MUNICIPAL: tuple[str, ...] = ("saksbehandler", "okonomi")
CASE_READERS: tuple[str, ...] = ("saksbehandler", "okonomi", "direktorat")
DECISION_READERS: tuple[str, ...] = ("saksbehandler", "okonomi", "direktorat", "evaluator")

S = TypeVar("S", bound=Select[Any])


@dataclass(frozen=True)
class Principal:
    """The account behind a request and how it signed in (`okt`: cookie, `token`: bearer)."""

    konto_id: int
    brukernavn: str
    rolle: str
    kommunenummer: str | None
    via: str
    csrf: str | None = None

    @property
    def sees_identity(self) -> bool:
        """Only the municipality's own caseworkers see national identity numbers."""
        return self.rolle == "saksbehandler"


class Forbidden(Exception):
    """403: the role may not do this."""


class NotFound(Exception):
    """404: nothing the principal may see has this id."""


def require(p: Principal, *roles: str) -> None:
    if p.rolle not in roles:
        raise Forbidden(_("the role {role} may not do this").format(role=p.rolle))


def scoped(stmt: S, table: Table, p: Principal, roles: tuple[str, ...] = CASE_READERS) -> S:
    """`stmt` limited to what `p` may see of `table` (which has a `kommunenummer` column)."""
    require(p, *roles)
    if p.rolle in MUNICIPAL:
        return stmt.where(table.c.kommunenummer == p.kommunenummer)
    return stmt


SCOPE_PARAM = "scope_kommune"


def scoped_forms(stmt: S, table: Table) -> tuple[S, S]:
    """`stmt` as the roles of every municipality and as the municipal roles see it (limited to
    the bound parameter `scope_kommune`): built once at import, so that a request does not build
    and compile its statement again; `scope` picks the form and its parameter per request."""
    return stmt, stmt.where(table.c.kommunenummer == bindparam(SCOPE_PARAM))


def scope(
    forms: tuple[S, S], p: Principal, roles: tuple[str, ...] = CASE_READERS
) -> tuple[S, dict[str, Any]]:
    """The form of `scoped_forms` that `p` may run, with its parameters (as `scoped` limits)."""
    require(p, *roles)
    if p.rolle in MUNICIPAL:
        return forms[1], {SCOPE_PARAM: p.kommunenummer}
    return forms[0], {}
