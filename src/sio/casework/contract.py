"""The casework API's contract in its OpenAPI document: every status an operation can answer,
with the schema of its error body, and the links a client follows to walk a case.

`documented(route)` derives the answers every operation shares from what the operation takes:
signed in (401, 403), a body (400 unreadable, 422), parameters (422), path ids (404), and the
load shedding of every request (503). Operations add their own (409, 429, 501) beside.
"""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute

from sio.casework import models as m

OVERLOAD = {
    "model": m.Feil,
    "description": "Tjenesten er travel: prøv igjen etter Retry-After sekunder",
    "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Sekunder"}},
}
UNAUTHENTICATED = {"model": m.Feil, "description": "Ikke innlogget (eller ukjent, utløpt token)"}
FORBIDDEN = {"model": m.Feil, "description": "Ikke tilgang for rollen, eller CSRF-token mangler"}
NOT_FOUND = {"model": m.Feil, "description": "Finnes ikke (eller ikke synlig for deg)"}
UNREADABLE = {"model": m.Feil, "description": "Innholdet kan ikke leses (ikke UTF-8 eller JSON)"}
INVALID = {"model": m.Feltfeil, "description": "Ugyldige felt: én rad per felt, på norsk"}
CONFLICT = {"model": m.Feil, "description": "I strid med det som er lagret"}
TOO_MANY = {
    "model": m.Feil,
    "description": "For mange mislykkede innlogginger",
    "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Sekunder"}},
}


def documented(route: APIRoute, authenticated: bool) -> dict[int | str, dict[str, Any]]:
    """The answers `route` shares with every operation like it (see the module docstring)."""
    out: dict[int | str, dict[str, Any]] = {503: OVERLOAD}
    if authenticated:
        out[401] = UNAUTHENTICATED
        out[403] = FORBIDDEN
    path = _params(route.dependant, "path_params")
    params = path or any(
        _params(route.dependant, kind) for kind in ("query_params", "header_params")
    )
    if route.body_field is not None:
        out[400] = UNREADABLE
    if route.body_field is not None or params:
        out[422] = INVALID
    if path:
        out[404] = NOT_FOUND
    return out


def _params(dependant: Any, kind: str) -> bool:
    """Whether `dependant` or one of its dependencies takes parameters of `kind`."""
    return bool(getattr(dependant, kind)) or any(_params(d, kind) for d in dependant.dependencies)


def link(operation_id: str, description: str, **parameters: str) -> dict[str, Any]:
    """An OpenAPI link to `operation_id` with its parameters taken from the answer."""
    return {"operationId": operation_id, "parameters": parameters, "description": description}
