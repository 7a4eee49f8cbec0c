"""The projection of one bin of municipalities over a block of draws: the money rules of
scheme.md §3 as array arithmetic over municipalities × years × months (decision 0015).

For each draw, world (scenario, baseline), municipality k and year y = anchor + i:

- activity grant: each cell's anchor øre in a month × demography × the service-use factor of its
  need level × F(k, group, y, month) / F(k, group, anchor, month) (the unit price indexed with the
  draw's deflator, k_aga, k_reise) is one line, rounded half away from zero to whole øre; the
  lines of the activity-financed months are summed and the year rounded once to whole kroner;
- uttrekk(k, y) = uttrekk(k, anchor) × Π (1 + deflator) × Π W(t) / W(t − 1), paid 1/12 in each
  participating month; øremerket tilskudd the same in months not activity-financed;
- rundsumtilskudd = Σ over activity-financed months of andel × uttrekk / 12;
- inntektspåslag = Σ over participating months of min(sats × uttrekk, tak) / 12, and in the three
  years after an exit (while the municipality stays out) the phase-out share × the supplement of
  its last year with 12 participating months (else the exit year's, scaled to 12 months);
- toppfinansiering: the data's amount of the year, else the anchor year's indexed with the
  deflator, × activity-financed months / 12;
- tilskudd = the sum of the four rounded grants; netto = tilskudd − uttrekk − toppfinansiering.

Everything but the activity lines is exact until the annual figure in float64 (amounts far below
2^53 øre); every sum over months runs in a fixed order and every other operation is elementwise
per municipality, so a result does not depend on how municipalities are binned or draws
blocked: the Dask run equals the in-process run to the øre.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sio.scenario.draws import DrawTable

__all__ = ["COMPONENTS", "Bin", "WorldBin", "project_bin"]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

COMPONENTS: tuple[str, ...] = (
    "uttrekk",
    "toppfinansiering",
    "aktivitetstilskudd",
    "rundsumtilskudd",
    "oeremerket_tilskudd",
    "inntektspaaslag",
    "tilskudd",
    "netto",
)


@dataclass(frozen=True)
class WorldBin:
    """One world's arrays for the municipalities of a bin (see `sio.scenario.anchor.World`)."""

    kfac: F64
    price_from: I64
    deflator: F64
    extraction: F64
    demography: F64
    part: F64
    act: F64
    sats: F64
    tak: F64
    lump_share: F64
    phase_share: F64
    topp_data: F64
    topp_anchor: F64
    exits: tuple[tuple[int, int], ...]  # (unit within the bin, i of the exit year)
    early_phase: F64  # [unit, i]: phase-outs of exits before the anchor year


@dataclass(frozen=True)
class Bin:
    """A bin of municipalities: their cells' volumes and both worlds."""

    start: int  # the first municipality's index in the anchor
    volume: F64  # [need, unit, group, month, i]
    need_index: tuple[int, ...]  # the need levels of `volume`, as indices of NEED_KEYS
    worlds: tuple[WorldBin, ...]

    @property
    def size(self) -> int:
        return int(self.volume.shape[1])


def _round(x: F64) -> I64:
    """Half away from zero to whole units (every amount here is ≥ 0)."""
    return np.floor(x + 0.5).astype(np.int64)


def _world_year(w: WorldBin, volume_d: F64, deflator_d: F64 | None, work: F64 | None = None) -> I64:
    """[unit, i, component] in whole kroner for one draw (`work`: a scratch array of the shape
    of `volume_d`, reused from draw to draw so that no large array is allocated per draw —
    Dask's workers return freed memory to the system at once, which makes large temporaries
    slow there)."""
    ny = w.deflator.shape[0]
    det = w.deflator[1:]
    defl = det if deflator_d is None else deflator_d
    chain = np.ones(ny)
    chain[1:] = np.cumprod(1.0 + defl)
    chain_det = np.ones(ny)
    chain_det[1:] = np.cumprod(1.0 + det)
    q = chain / chain_det
    price_adj = q[None, None, :] / q[w.price_from]  # [group, month, i]
    lines = np.empty_like(volume_d) if work is None else work
    np.multiply(volume_d, w.kfac, out=lines)
    np.multiply(lines, price_adj[None], out=lines)
    np.add(lines, 0.5, out=lines)
    np.floor(lines, out=lines)  # [unit, group, month, i]: each line rounded to whole øre
    per_month = lines.sum(axis=1)  # [unit, month, i]: integers (< 2^53), in any order exact
    activity_oere = np.rint((per_month.transpose(0, 2, 1) * w.act).sum(axis=2)).astype(np.int64)
    activity = (activity_oere + 50) // 100  # whole kroner, half away from zero (≥ 0)

    x = w.extraction[:, None] * chain[None, :] * w.demography
    n_part = w.part.sum(axis=2)
    n_act = w.act.sum(axis=2)
    uttrekk = x * n_part / 12
    earmarked = x * (n_part - n_act) / 12
    lump = x * w.lump_share / 12
    supplement = np.zeros_like(x)
    for m in range(12):  # a fixed order: the same sum in every run
        supplement += w.part[:, :, m] * np.minimum(w.sats[None, :, m] * x, w.tak[None, :, m]) / 12
    topp_year = np.where(
        np.isnan(w.topp_data), w.topp_anchor[:, None] * chain[None, :], w.topp_data
    )
    topp = topp_year * n_act / 12
    # a phase-out ends in the first year the municipality takes part again
    back = np.cumsum(n_part, axis=1) > 0
    phase = np.where(back, 0.0, w.early_phase)
    for u, e in w.exits:
        full = [i for i in range(e, -1, -1) if n_part[u, i] == 12]
        base = supplement[u, full[0]] if full else supplement[u, e] * 12 / n_part[u, e]
        for j in (1, 2, 3):
            i = e + j
            if i >= ny or n_part[u, e + 1 : i + 1].any():
                break
            phase[u, i] += w.phase_share[i, j - 1] * base
    supplement = np.where(n_part > 0, supplement, phase)

    out = np.zeros((x.shape[0], ny, 8), np.int64)
    out[:, :, 0] = _round(uttrekk)
    out[:, :, 1] = _round(topp)
    out[:, :, 2] = activity
    out[:, :, 3] = _round(lump)
    out[:, :, 4] = _round(earmarked)
    out[:, :, 5] = _round(supplement)
    out[:, :, 6] = out[:, :, 2] + out[:, :, 3] + out[:, :, 4] + out[:, :, 5]
    out[:, :, 7] = out[:, :, 6] - out[:, :, 0] - out[:, :, 1]
    return out


def project_bin(b: Bin, draws: DrawTable) -> I64:
    """[world, draw, unit, i, component]: whole kroner of every draw in the block."""
    nw, nd = len(b.worlds), draws.count
    ny = b.volume.shape[-1]
    out = np.zeros((nw, nd, b.size, ny, len(COMPONENTS)), np.int64)
    volume_d = np.empty(b.volume.shape[1:])
    scratch = np.empty_like(volume_d)
    for d in range(nd):
        volume_d.fill(0.0)
        for j, n in enumerate(b.need_index):  # a fixed order
            np.multiply(b.volume[j], draws.growth_factor[d, n][None, None, None, :], out=scratch)
            volume_d += scratch
        deflator_d = None if draws.deflator is None else draws.deflator[d]
        for w, world in enumerate(b.worlds):
            out[w, d] = _world_year(world, volume_d, deflator_d, scratch)
    return out
