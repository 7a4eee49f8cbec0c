"""A schemathesis run over the casework service's OpenAPI document: requests generated for every
operation, signed in with a bearer token as a caseworker and as the directorate, must never get
a server error or an answer that breaks the documented schema (status code and body)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from casework_support import Service, make_service, walk_case
from sio.casework.api import create_app, issue_token
from sio.parameters import ParameterSet
from sio.store.db import make_engine
from test_casework_security import cheap_argon2

CHECKS = [not_a_server_error, response_schema_conformance]
# The OIDC path is reserved and answers 404 (no such provider) until one is configured
# (docs/decisions/0009): a documented answer, checked against the schema but not as a crash.
RESERVED = "/api/innlogging/oidc/{leverandor}"

# The document only: the app is made on an empty in-memory store that it never touches; the
# requests go to the app of the `running` fixture.
schema = schemathesis.openapi.from_dict(create_app(make_engine("sqlite://")).openapi())

RUN = settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory, params: ParameterSet) -> Iterator[Service]:
    tmp = tmp_path_factory.mktemp("schema")
    with pytest.MonkeyPatch.context() as mp:
        cheap_argon2(mp)
        for svc in make_service(f"sqlite:///{tmp / 'sio.db'}", tmp, params):
            # cases 1–3 exist (two in 9001, one in 9002), so generated ids sometimes hit one
            walk_case(svc, n=1)
            walk_case(svc, n=2)
            walk_case(svc, who="sb2", n=3)
            yield svc


def _call(case: Any, svc: Service, who: str) -> None:
    # a fresh token for every request: a generated DELETE /api/tokens/{id} may revoke one
    token = issue_token(svc.engine, svc.accounts[who])
    headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    case.headers = {**headers, "Authorization": f"Bearer {token}"}
    if case.operation.path == RESERVED:
        r = case.call(app=svc.client.app)
        assert r.status_code < 500 or r.status_code == 501, r.text
        case.validate_response(r, checks=[response_schema_conformance])
        return
    case.call_and_validate(app=svc.client.app, checks=CHECKS)


@schema.parametrize()
@RUN
def test_as_a_caseworker(case: Any, running: Service) -> None:
    _call(case, running, "sb1")


@schema.parametrize()
@RUN
def test_as_the_directorate(case: Any, running: Service) -> None:
    _call(case, running, "dir")
