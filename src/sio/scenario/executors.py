"""Where the draws run: in this process (the default), or spread over a Dask distributed cluster
as tasks of (block of draws × bin of municipalities).

Both executors run the same function (`sio.scenario.project.project_bin`) on the same bins and
the same draws; a result depends only on its draw and municipality (decision 0015), so the two
give the same øre. The Dask executor starts a `LocalCluster` (processes, one thread each) when no
scheduler address is given, scatters each bin once to the workers, and gathers the blocks.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from sio.scenario.anchor import Anchor, World
from sio.scenario.draws import DrawTable
from sio.scenario.project import COMPONENTS, Bin, WorldBin, project_bin

__all__ = ["DEFAULT_BINS", "DRAW_BLOCK", "make_bins", "run_dask", "run_inprocess"]

I64 = npt.NDArray[np.int64]
DEFAULT_BINS = 4
DRAW_BLOCK = 25


def _slice_world(w: World, start: int, stop: int) -> WorldBin:
    exits = tuple((u - start, e) for u, e in w.exits if start <= u < stop)
    return WorldBin(
        kfac=w.kfac[start:stop],
        price_from=w.price_from,
        deflator=w.deflator,
        extraction=w.extraction[start:stop],
        demography=w.demography[start:stop],
        part=w.part[start:stop],
        act=w.act[start:stop],
        sats=w.sats,
        tak=w.tak,
        lump_share=w.lump_share[start:stop],
        phase_share=w.phase_share,
        topp_data=w.topp_data[start:stop],
        topp_anchor=w.topp_anchor[start:stop],
        exits=exits,
        early_phase=w.early_phase[start:stop],
    )


def make_bins(anchor: Anchor, worlds: Sequence[World], bins: int) -> list[Bin]:
    """The municipalities cut into `bins` contiguous bins of about equal size."""
    from sio.scenario.spec import NEED_KEYS

    n = len(anchor.units)
    bins = max(1, min(bins, n))
    cuts = [round(n * j / bins) for j in range(bins + 1)]
    need_index = tuple(NEED_KEYS.index(x) for x in anchor.needs)
    out = []
    for a, b in itertools.pairwise(cuts):
        if a == b:
            continue
        out.append(
            Bin(
                a,
                np.ascontiguousarray(anchor.volume[:, a:b]),
                need_index,
                tuple(_slice_world(w, a, b) for w in worlds),
            )
        )
    return out


def _blocks(count: int, size: int) -> list[tuple[int, int]]:
    return [(a, min(a + size, count)) for a in range(0, count, size)]


def _assemble(
    bins: Sequence[Bin], draws: DrawTable, parts: dict[tuple[int, int], I64], units: int
) -> I64:
    nw = len(bins[0].worlds)
    ny = bins[0].volume.shape[-1]
    out = np.zeros((nw, draws.count, units, ny, len(COMPONENTS)), np.int64)
    for (bi, d0), arr in parts.items():
        b = bins[bi]
        out[:, d0 : d0 + arr.shape[1], b.start : b.start + b.size] = arr
    return out


def run_inprocess(
    bins: Sequence[Bin],
    draws: DrawTable,
    units: int,
    block: int = DRAW_BLOCK,
    progress: Callable[[int, int], None] | None = None,
) -> I64:
    """Every (draw block × bin) here, one after the other."""
    parts: dict[tuple[int, int], I64] = {}
    jobs = [(bi, a, b) for a, b in _blocks(draws.count, block) for bi in range(len(bins))]
    for done, (bi, a, b) in enumerate(jobs, start=1):
        parts[(bi, a)] = project_bin(bins[bi], draws.block(a, b))
        if progress is not None:
            progress(done, len(jobs))
    return _assemble(bins, draws, parts, units)


def run_dask(
    bins: Sequence[Bin],
    draws: DrawTable,
    units: int,
    scheduler: str | None = None,
    workers: int = 2,
    block: int = DRAW_BLOCK,
    progress: Callable[[int, int], None] | None = None,
    client: Any = None,
) -> I64:
    """Every (draw block × bin) as a task on a Dask cluster: the scheduler at `scheduler`, or a
    LocalCluster of `workers` processes; or an existing `client`."""
    from distributed import (
        Client,
        LocalCluster,
        as_completed,
    )

    cluster = None
    own = client is None
    if client is None:
        if scheduler:
            client = Client(scheduler, timeout="20s")  # type: ignore[no-untyped-call]
        else:
            cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=40,
            )
            client = Client(cluster)  # type: ignore[no-untyped-call]
    try:
        scattered = client.scatter(list(bins), broadcast=False)
        futures = {}
        for a, b in _blocks(draws.count, block):
            block_draws = draws.block(a, b)
            for bi, fut in enumerate(scattered):
                futures[client.submit(project_bin, fut, block_draws, pure=False)] = (bi, a)
        parts: dict[tuple[int, int], I64] = {}
        for done, fut in enumerate(as_completed(list(futures)), start=1):  # type: ignore[no-untyped-call]
            parts[futures[fut]] = fut.result()
            if progress is not None:
                progress(done, len(futures))
        return _assemble(bins, draws, parts, units)
    finally:
        if own:
            client.close()
            if cluster is not None:
                cluster.close()
