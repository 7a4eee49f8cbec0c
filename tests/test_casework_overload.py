"""Load shedding of a running `sio serve`: a burst of writes past `SIO_MAKS_SAMTIDIGE` requests in
hand is answered at once, part 201 and part 503 with Retry-After (never a 5xx of another kind,
never a wait), every 201 is a stored case and a 503 stored nothing; once the burst is over, the
worker answers every request again."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx2
from sqlalchemy import func, select

from casework_server import running_server
from casework_support import identity_number, prepare_store
from sio.casework.schema import case
from sio.parameters import ParameterSet

BURST = 40


def test_a_burst_past_the_limit_is_shed_with_503_and_the_worker_recovers(
    tmp_path: Path, params: ParameterSet
) -> None:
    url = f"sqlite:///{tmp_path / 'sio.db'}"
    svc = prepare_store(url, tmp_path, params)
    headers = svc.as_("sb1")
    with running_server(url, workers=1, SIO_MAKS_SAMTIDIGE="2") as base:
        clients = [httpx2.Client(base_url=base, timeout=60) for _ in range(BURST)]
        try:
            for c in clients:  # every connection open before the burst
                assert c.get("/api/meg", headers=headers).status_code == 200
            barrier = threading.Barrier(BURST)
            answers: list[httpx2.Response | None] = [None] * BURST

            def send(i: int) -> None:
                body = {
                    "fodselsnummer": identity_number(i),
                    "mottatt": "2016-05-02",
                    "henvendelse": "Hjelp",
                }
                barrier.wait()
                answers[i] = clients[i].post("/api/saker", headers=headers, json=body)

            threads = [threading.Thread(target=send, args=(i,)) for i in range(BURST)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            got = [a for a in answers if a is not None]
            assert len(got) == BURST
            statuses = sorted(a.status_code for a in got)
            assert set(statuses) <= {201, 503}, statuses
            shed = [a for a in got if a.status_code == 503]
            assert shed, "no request was shed"
            assert 201 in statuses
            for a in shed:
                assert a.headers["Retry-After"] == "1"
                assert a.json() == {"detail": "tjenesten er travel: prøv igjen om et øyeblikk"}
            with svc.engine.connect() as conn:
                stored = conn.execute(select(func.count()).select_from(case)).scalar_one()
            assert stored == statuses.count(201)  # every 201 stored, nothing for a 503
            # the burst is over: one request at a time is answered again — at once, or, while
            # the last requests of the burst are still being finished (a slow machine), after
            # the Retry-After the answer asks for; a count that never drains would fail here
            for c in clients[:10]:
                for _attempt in range(5):
                    r = c.get("/api/saker", headers=headers)
                    if r.status_code != 503:
                        break
                    time.sleep(float(r.headers["Retry-After"]))
                assert r.status_code == 200
        finally:
            for c in clients:
                c.close()
    svc.engine.dispose()
