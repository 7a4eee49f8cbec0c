"""A schemathesis run over the casework service with all checks and all phases (examples,
coverage, fuzzing, stateful — the stateful phase follows the document's links case →
assessment → recommendation → decision), with a bearer token for each role, against a running
`sio serve --workers 2` on SQLite or PostgreSQL; token revocation in a pass of its own at the
end (it may revoke the caller's token). Not a test: the test suite runs the same with
a small example count (tests/test_casework_schemathesis.py).

Run: .venv/bin/python benchmarks/casework_schemathesis.py [--db sqlite|postgresql|both]
     [--max-examples 100] [--roles sb1,ok1,dir,eval,admin] [--passes main,revoke]
Needs PostgreSQL on 127.0.0.1:5432 (trust auth) for --db postgresql.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "tests"))

from casework_server import running_server  # noqa: E402
from casework_support import ACCOUNTS, prepare_store, walk_case  # noqa: E402
from sio.casework.api import issue_token  # noqa: E402

BIN = Path(sys.executable).parent


# Revoking a token (`DELETE /api/tokens/{token_id}`) may revoke the caller's own: every request
# after it would answer 401, and the run would test nothing but the sign-in. The long run fuzzes
# it in a pass of its own, with a token of its own, after the rest.
REVOKE = ["--include-method", "DELETE"]
NOT_REVOKE = ["--exclude-method", "DELETE"]
STATELESS = "examples,coverage,fuzzing"


def run_schemathesis(
    base: str,
    token: str,
    max_examples: int,
    seed: int = 1,
    select: list[str] | None = None,
    phases: str = "examples,coverage,fuzzing,stateful",
) -> int:
    """`st run` with every check and phase as one role (on the operations `select` picks);
    its exit code."""
    return subprocess.run(
        [
            str(BIN / "st"),
            "--config-file",
            str(HERE / "casework_schemathesis.toml"),
            "run",
            f"{base}/openapi.json",
            "--checks",
            "all",
            "--phases",
            phases,
            "--max-examples",
            str(max_examples),
            "--seed",
            str(seed),
            "-H",
            f"Authorization: Bearer {token}",
            "--suppress-health-check",
            "all",
            "--no-color",
            *(select or []),
        ],
        check=False,
    ).returncode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--max-examples", type=int, default=100)
    ap.add_argument("--roles", default=",".join(ACCOUNTS))
    ap.add_argument(
        "--passes", default="main,revoke", help="main (all but revocation), revoke, or both"
    )
    args = ap.parse_args()
    from sio.parameters import load_parameters
    from test_store import _pg_database

    params = load_parameters()
    failed = []
    for db in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
        with tempfile.TemporaryDirectory() as tmp:
            if db == "sqlite":
                url_cm = None
                url = f"sqlite:///{Path(tmp) / 'sio.db'}"
            else:
                url_cm = _pg_database()
                url = url_cm.__enter__()
            try:
                svc = prepare_store(url, Path(tmp), params)
                with running_server(url) as base:
                    import httpx2

                    svc.client = httpx2.Client(base_url=base, timeout=60)  # type: ignore[assignment]
                    walk_case(svc, n=1)
                    walk_case(svc, who="sb2", n=3)
                    passes = args.passes.split(",")
                    for role in args.roles.split(",") if "main" in passes else []:
                        t0 = time.monotonic()
                        rc = run_schemathesis(
                            base, svc.tokens[role], args.max_examples, select=NOT_REVOKE
                        )
                        print(f"{db} {role}: exit {rc} in {time.monotonic() - t0:.0f} s")
                        if rc:
                            failed.append(f"{db}/{role}")
                    # revocation last, a token of its own
                    for role in args.roles.split(",") if "revoke" in passes else []:
                        t0 = time.monotonic()
                        own = issue_token(svc.engine, svc.accounts[role], "revoke")
                        # no stateful phase: no link of the document ends in a revocation
                        rc = run_schemathesis(
                            base, own, args.max_examples, select=REVOKE, phases=STATELESS
                        )
                        print(f"{db} {role} (revoke): exit {rc} in {time.monotonic() - t0:.0f} s")
                        if rc:
                            failed.append(f"{db}/{role}/revoke")
                svc.engine.dispose()
            finally:
                if url_cm is not None:
                    url_cm.__exit__(None, None, None)
    print("failures:", ", ".join(failed) or "none")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
