"""The trial against the control municipalities, before against after (scheme.md §5): difference
in differences and an event study, with randomisation inference suited to few municipalities.

Outcomes per unit (a municipality with the same borders over time) and year, from the analysis
frame: cost per user, hours per user (hours per week of hour-priced services), the share of users
in an institution, and users per 1 000 inhabitants aged 80 and over (users aged 80+ when the ages
are known, else all users).

Estimator (staggered adoption, never-participating units as the comparison): a trial unit's first
participating year g in the window starts its treatment and g − 1 is its base year; for every
year t, d(u, t) = [Y(u, t) − Y(u, g−1)] − mean over controls c of [Y(c, t) − Y(c, g−1)]. The
difference in differences is the mean over trial units of the mean of d over their participating
years; the event study's coefficient at event time e = t − g is the mean of d(u, g + e) over the
units observed then (e = −1 is 0 by construction; e < −1 are placebo checks of parallel trends).
Each trial unit is compared with its own base year, so early and late starters never serve as each
other's controls (the bias of two-way fixed effects with staggered timing). A trial unit without a
year before its start in the window, or whose base year has fewer than `MIN_BASE_SHARE` of the
users of its first year (the input does not cover it before the start), cannot be compared and is
left out (it is listed).

Inference: the estimates are linear in the outcomes, so a randomisation test is exact under the
sharp null of no effect when units are exchangeable: the trial units' treatment schedules are
given to randomly drawn units (of all compared units) `permutations` times with a seed. The p-value
is the share of draws at least as far from 0 as the estimate; the confidence interval is the set
of constant effects τ the same test does not reject (test inversion: the outcome less τ in the
treated cells, computed without refitting by linearity). With K trial and M control units there
are at most C(K + M, K) distinct assignments; the smallest attainable p-value is reported.

Years at the 2019/2020 break in the national register series and years in which the municipal
structure changes (mergers, new numbers) are flagged wherever an estimate uses them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import polars as pl

if TYPE_CHECKING:
    from sio.evaluation.frame import AnalysisFrame

__all__ = [
    "OUTCOMES",
    "REGISTER_BREAK_YEARS",
    "DidResult",
    "Panel",
    "estimate",
    "panel_from_frame",
    "unit_year_outcomes",
]

FloatArray = npt.NDArray[np.float64]

OUTCOMES: tuple[str, ...] = (
    "cost_per_user",
    "hours_per_user",
    "institution_share",
    "users_per_1000_80",
)
MIN_BASE_SHARE = 0.5
"""A trial unit is compared only if its base year has at least this share of the users of its
first participating year; below it, the input does not cover the unit's users before the start."""
REGISTER_BREAK_YEARS: tuple[int, ...] = (2019, 2020)
"""The national care statistics changed register in these years (IPLOS into the municipal patient
and user register, KPR): levels before and after are not strictly comparable."""


def unit_year_outcomes(frame: AnalysisFrame) -> pl.DataFrame:
    """Per unit and year: users, the four outcomes, whether the unit is in the trial and the share
    of its users living in a municipality that participates on the reference day."""
    p = frame.persons
    old = (pl.col("age") >= 80).fill_null(False) if frame.has_ages else pl.lit(True)
    out = (
        p.group_by("unit", "aar")
        .agg(
            pl.len().alias("users"),
            pl.col("cost").mean().alias("cost_per_user"),
            pl.col("hours").mean().alias("hours_per_user"),
            pl.col("institution").cast(pl.Float64).mean().alias("institution_share"),
            old.sum().alias("users80"),
            pl.col("trial").any().alias("trial"),
            pl.col("participating").cast(pl.Float64).mean().alias("participating_share"),
        )
        .join(frame.population, on=["unit", "aar"], how="left")
        .with_columns(
            pl.when(pl.col("pop80") > 0)
            .then(pl.col("users80") / pl.col("pop80") * 1000.0)
            .alias("users_per_1000_80")
        )
        .sort("unit", "aar")
    )
    return out


@dataclass(frozen=True)
class Panel:
    """Units × years: the outcomes, whether each unit is in the trial and participates each year."""

    units: list[str]
    years: list[int]
    trial: npt.NDArray[np.bool_]
    treated: npt.NDArray[np.bool_]  # (U, T): participates in that year
    values: dict[str, FloatArray]  # outcome → (U, T), NaN where missing
    users: FloatArray  # (U, T)


def panel_from_frame(outcomes: pl.DataFrame, first: int, last: int) -> Panel:
    """The panel of `unit_year_outcomes` over the years first…last. A unit participates in a year
    when most of its users live in a participating municipality."""
    units = sorted(outcomes.get_column("unit").unique().to_list())
    years = list(range(first, last + 1))
    ui = {u: i for i, u in enumerate(units)}
    shape = (len(units), len(years))
    values = {o: np.full(shape, np.nan) for o in OUTCOMES}
    users = np.zeros(shape)
    treated = np.zeros(shape, dtype=bool)
    trial = np.zeros(len(units), dtype=bool)
    for row in outcomes.iter_rows(named=True):
        year = int(row["aar"])
        if not first <= year <= last:
            continue
        i, t = ui[row["unit"]], year - first
        for o in OUTCOMES:
            v = row.get(o)
            values[o][i, t] = np.nan if v is None else float(v)
        users[i, t] = float(row["users"])
        treated[i, t] = (row["participating_share"] or 0.0) > 0.5
        trial[i] = trial[i] or bool(row["trial"])
    return Panel(units, years, trial, treated, values, users)


@dataclass
class _Design:
    treated_units: npt.NDArray[np.int64]  # unit index of each trial unit compared
    bases: npt.NDArray[np.int64]  # its base-year index g − 1
    posts: npt.NDArray[np.bool_]  # (K, T) its participating years from g on
    controls: npt.NDArray[np.int64]
    excluded: list[str] = field(default_factory=list)


def _design(panel: Panel) -> _Design:
    treated, bases, posts, excluded = [], [], [], []
    for i, unit in enumerate(panel.units):
        if not panel.trial[i]:
            continue
        on = np.flatnonzero(panel.treated[i])
        if on.size == 0 or on[0] == 0:
            excluded.append(unit)
            continue
        g = int(on[0])
        treated.append(i)
        bases.append(g - 1)
        post = panel.treated[i].copy()
        post[:g] = False
        posts.append(post)
    T = len(panel.years)
    return _Design(
        np.asarray(treated, dtype=np.int64),
        np.asarray(bases, dtype=np.int64),
        np.asarray(posts, dtype=bool).reshape(len(treated), T),
        np.flatnonzero(~panel.trial).astype(np.int64),
        excluded,
    )


def _stats(
    Z: FloatArray,
    assigned: npt.NDArray[np.int64],
    controls: npt.NDArray[np.int64],
    bases: npt.NDArray[np.int64],
    posts: npt.NDArray[np.bool_],
    events: npt.NDArray[np.int64],
) -> FloatArray:
    """For each layer of Z (L, U, T) and each assignment (rows of `assigned` (R, K) and
    `controls` (R, M)): [DiD, θ(e) for e in `events`], shape (R, L, 1 + E), when the schedules
    (bases, posts) are given to the units `assigned` and `controls` are the comparison."""
    _L, _U, T = Z.shape
    K = bases.size
    ks = np.arange(K)
    valid = np.isfinite(Z)
    Z0 = np.where(valid, Z, 0.0)
    V = valid.astype(np.float64)
    # the controls' mean change from year b to year t over the controls observed in both:
    # (S1 − S2) / N with S1[t, b] = Σ_c Y(c, t) v(c, b), S2[t, b] = Σ_c Y(c, b) v(c, t)
    Yc, Vc = Z0[:, controls, :], V[:, controls, :]  # (L, R, M, T)
    S1 = np.einsum("lrmt,lrmb->lrtb", Yc, Vc)
    S2 = np.einsum("lrmt,lrmb->lrtb", Vc, Yc)
    N = np.einsum("lrmt,lrmb->lrtb", Vc, Vc)
    with np.errstate(invalid="ignore", divide="ignore"), _quiet():
        ctrl_all = (S1 - S2) / N  # (L, R, T, B)
        ctrl = np.moveaxis(ctrl_all[:, :, :, bases], 3, 2)  # (L, R, K, T)
        own = Z[:, assigned, :]  # (L, R, K, T)
        own_d = own - own[:, :, ks, bases][..., None]
        d = own_d - ctrl
        post_d = np.where(posts[None, None], d, np.nan)
        per_unit = np.nanmean(post_d, axis=3)  # (L, R, K)
        did = np.nanmean(per_unit, axis=2)  # (L, R)
        t_index = bases[:, None] + 1 + events[None, :]  # (K, E)
        inside = (t_index >= 0) & (t_index < T)
        safe = np.clip(t_index, 0, T - 1)
        picked = d[:, :, ks[:, None], safe]  # (L, R, K, E)
        picked = np.where(inside[None, None], picked, np.nan)
        theta = np.nanmean(picked, axis=2)  # (L, R, E)
    out = np.concatenate([did[..., None], theta], axis=2)  # (L, R, 1 + E)
    return np.moveaxis(out, 1, 0)


class _quiet:
    """Silence numpy's warnings about means of empty slices (they give NaN, as intended)."""

    def __enter__(self) -> None:
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc: object) -> None:
        self._ctx.__exit__(None, None, None)


@dataclass(frozen=True)
class Estimate:
    """One estimate with its randomisation p-value and confidence interval."""

    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    n_units: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "estimate": _num(self.estimate),
            "ci_low": _num(self.ci_low),
            "ci_high": _num(self.ci_high),
            "p_value": _num(self.p_value),
            "n_units": self.n_units,
        }


def _num(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


@dataclass(frozen=True)
class DidResult:
    """The difference in differences of one outcome and its event study."""

    outcome: str
    did: Estimate
    relative: float  # the estimate / the trial units' mean in their base years
    base_mean: float
    events: list[tuple[int, Estimate, tuple[int, ...], tuple[str, ...]]]  # e, est, years, flags
    treated_units: tuple[str, ...]
    control_units: tuple[str, ...]
    excluded_units: tuple[str, ...]
    person_years: int
    permutations: int
    distinct_assignments: int
    min_p_value: float
    seed: int
    flags: tuple[str, ...]
    flagged_years: dict[int, tuple[str, ...]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            **self.did.to_dict(),
            "relative": _num(self.relative),
            "base_mean": _num(self.base_mean),
            "treated_units": list(self.treated_units),
            "control_units": list(self.control_units),
            "excluded_units": list(self.excluded_units),
            "person_years": self.person_years,
            "permutations": self.permutations,
            "distinct_assignments": self.distinct_assignments,
            "min_p_value": _num(self.min_p_value),
            "seed": self.seed,
            "flags": list(self.flags),
            "flagged_years": {str(y): list(f) for y, f in self.flagged_years.items()},
            "event_study": [
                {"event_time": e, **est.to_dict(), "years": list(years), "flags": list(flags)}
                for e, est, years, flags in self.events
            ],
        }


def _invert(
    s_obs: float, a_obs: float, s_perm: FloatArray, a_perm: FloatArray, alpha: float
) -> tuple[float, float, float]:
    """(p-value at τ = 0, CI low, CI high) by inverting the randomisation test."""
    ok = np.isfinite(s_perm) & np.isfinite(a_perm)
    s_perm, a_perm = s_perm[ok], a_perm[ok]
    if not math.isfinite(s_obs) or s_perm.size == 0:
        return math.nan, math.nan, math.nan
    R = s_perm.size

    def p_of(tau: FloatArray) -> FloatArray:
        obs = np.abs(s_obs - tau * a_obs)  # (G,)
        perm = np.abs(s_perm[None, :] - tau[:, None] * a_perm[None, :])  # (G, R)
        hits = (perm >= obs[:, None] - 1e-12 * (1 + obs[:, None])).sum(axis=1)
        p: FloatArray = (1 + hits) / (R + 1)
        return p

    p0 = float(p_of(np.array([0.0]))[0])
    spread = float(np.std(s_perm)) or abs(s_obs) or 1.0
    for width in (6.0, 20.0, 80.0):
        grid = np.linspace(s_obs - width * spread, s_obs + width * spread, 1201)
        accepted = grid[p_of(grid) > alpha]
        if accepted.size and accepted[0] > grid[0] and accepted[-1] < grid[-1]:
            return p0, float(accepted[0]), float(accepted[-1])
    if accepted.size == 0:
        return p0, math.nan, math.nan
    low = float(accepted[0]) if accepted[0] > grid[0] else -math.inf
    high = float(accepted[-1]) if accepted[-1] < grid[-1] else math.inf
    return p0, low, high


def estimate(
    panel: Panel,
    outcome: str,
    permutations: int = 999,
    seed: int = 1,
    alpha: float = 0.05,
    merger_years: dict[int, tuple[str, ...]] | None = None,
    person_years: int = 0,
) -> DidResult | None:
    """The DiD and event study of `outcome`; None when there are no trial units with a base year
    or no control units."""
    design = _design(panel)
    Y = panel.values[outcome]
    # a trial unit without the outcome in its base year (no users then) cannot be compared, nor
    # one whose base year has far fewer users than its first participating year (the data do
    # not cover its users before the start: the base year would hold only long-running cases)
    base_users = panel.users[design.treated_units, design.bases]
    start_users = panel.users[design.treated_units, design.bases + 1]
    has_base = np.isfinite(Y[design.treated_units, design.bases]) & (
        base_users >= MIN_BASE_SHARE * start_users
    )
    design = _Design(
        design.treated_units[has_base],
        design.bases[has_base],
        design.posts[has_base],
        design.controls,
        sorted(design.excluded + [panel.units[u] for u in design.treated_units[~has_base]]),
    )
    K, M = design.treated_units.size, design.controls.size
    if K == 0 or M == 0:
        return None
    T = len(panel.years)
    events = np.arange(
        -int(design.bases.max()) - 1, T - int(design.bases.min()) - 1, dtype=np.int64
    )
    # layers: Y, the treatment of the DiD, the treatment of each event time
    D = np.zeros_like(Y)
    for k, u in enumerate(design.treated_units):
        D[u, design.posts[k]] = 1.0
    layers = [Y, D]
    for e in events:
        De = np.zeros_like(Y)
        for k, u in enumerate(design.treated_units):
            t = design.bases[k] + 1 + e
            if 0 <= t < T:
                De[u, t] = 1.0
        layers.append(De)
    Z = np.stack(layers)
    Z[1:][:, np.isnan(Y)] = np.nan
    observed = _stats(
        Z, design.treated_units[None], design.controls[None], design.bases, design.posts, events
    )[0]
    pool = np.concatenate([design.treated_units, design.controls])
    rng = np.random.default_rng(seed)
    orders = np.stack([rng.permutation(pool) for _ in range(permutations)])
    chunk = max(1, int(2e7 // max(1, Z.shape[0] * (K + M) * T * T)))
    perm_stats = np.concatenate(
        [
            _stats(Z, o[:, :K], o[:, K:], design.bases, design.posts, events)
            for o in (orders[i : i + chunk] for i in range(0, permutations, chunk))
        ]
    )

    # column j of the statistics: layer 0 is Y; the matching treatment layer is 1 (DiD) or 2 + e
    def inference(j: int) -> tuple[float, float, float]:
        layer = 1 if j == 0 else 1 + j
        return _invert(
            float(observed[0, j]),
            float(observed[layer, j]),
            perm_stats[:, 0, j],
            perm_stats[:, layer, j],
            alpha,
        )

    p0, low, high = inference(0)
    did = Estimate(float(observed[0, 0]), low, high, p0, K)
    base_vals = Y[design.treated_units, design.bases]
    base_mean = float(np.nanmean(base_vals)) if np.isfinite(base_vals).any() else math.nan
    relative = did.estimate / base_mean if base_mean else math.nan
    flags_by_year = year_flags(panel.years, merger_years or {})
    rows = []
    for j, e in enumerate(events, start=1):
        years = sorted(
            {panel.years[b + 1 + int(e)] for b in design.bases if 0 <= b + 1 + int(e) < T}
        )
        n_units = int(
            sum(
                1
                for k, u in enumerate(design.treated_units)
                if 0 <= design.bases[k] + 1 + e < T and math.isfinite(Y[u, design.bases[k] + 1 + e])
            )
        )
        if int(e) == -1:
            est = Estimate(0.0, 0.0, 0.0, math.nan, n_units)
        else:
            pe, lo, hi = inference(j)
            est = Estimate(float(observed[0, j]), lo, hi, pe, n_units)
        flags = tuple(sorted({f for y in years for f in flags_by_year.get(y, ())}))
        rows.append((int(e), est, tuple(years), flags))
    used = {panel.years[int(b)] for b in design.bases} | {
        panel.years[t] for k in range(K) for t in np.flatnonzero(design.posts[k])
    }
    flagged = {y: flags_by_year[y] for y in sorted(used) if y in flags_by_year}
    return DidResult(
        outcome=outcome,
        did=did,
        relative=relative,
        base_mean=base_mean,
        events=rows,
        treated_units=tuple(panel.units[i] for i in design.treated_units),
        control_units=tuple(panel.units[i] for i in design.controls),
        excluded_units=tuple(design.excluded),
        person_years=person_years,
        permutations=permutations,
        distinct_assignments=math.comb(K + M, K),
        min_p_value=max(1 / (permutations + 1), 1 / math.comb(K + M, K)),
        seed=seed,
        flags=tuple(sorted({f for fl in flagged.values() for f in fl})),
        flagged_years=flagged,
    )


def year_flags(
    years: list[int], merger_years: dict[int, tuple[str, ...]]
) -> dict[int, tuple[str, ...]]:
    """Per year: "register_break" and/or "merger" where they apply."""
    out: dict[int, tuple[str, ...]] = {}
    for y in years:
        flags = []
        if y in REGISTER_BREAK_YEARS:
            flags.append("register_break")
        if y in merger_years:
            flags.append("merger")
        if flags:
            out[y] = tuple(flags)
    return out
