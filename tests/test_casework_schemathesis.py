"""schemathesis with all checks and all phases (examples, coverage, fuzzing, stateful along the
document's links) against a running `sio serve --workers 2` on SQLite and PostgreSQL, with a
bearer token of the caseworker and of the administrator (the roles with the most writes): no
failure. A short run (few examples); benchmarks/casework_schemathesis.py runs every role longer."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx2
import pytest

from casework_server import running_server
from casework_support import prepare_store, walk_case
from sio.parameters import ParameterSet
from test_store import _pg_database, pg_url, store_url  # noqa: F401  (fixtures)

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
from casework_schemathesis import NOT_REVOKE, run_schemathesis


def test_schemathesis_finds_no_failure(
    store_url: str,  # noqa: F811
    tmp_path: Path,
    params: ParameterSet,
) -> None:
    svc = prepare_store(store_url, tmp_path, params)
    with running_server(store_url) as base:
        svc.client = httpx2.Client(base_url=base, timeout=60)  # type: ignore[assignment]
        walk_case(svc, n=1)
        walk_case(svc, who="sb2", n=3)
        for role in ("sb1", "admin"):
            # without token revocation, which could revoke the role's own token (and leave
            # every later request a 401)
            rc = run_schemathesis(base, svc.tokens[role], max_examples=3, select=NOT_REVOKE)
            assert rc == 0, role
    svc.engine.dispose()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
