"""Did the trial narrow the differences between municipalities for the same need? The
between-municipality standard deviation of log home-service hours (home nursing and practical
assistance, SSB's "timar i veka … i heimen"), given the need profile, in the trial municipalities
after their start against before, and the same ratio in the control municipalities over the same
years (scheme.md §5, equal treatment).

The SD is the multilevel model's (`equal_treatment._reml_curve`, REML on group sums) on the log
hours less their mean in the profile and year, over users with home-service hours. "Before" are a
trial unit's years before its first participating year, "after" its participating years, counting
only users whose home-service decisions were all made on or after the unit's start (`home_from` ≥
`trial_start`: a decision made before the start and still in force says nothing about the
trial's practice, and counting it would pull the ratio towards 1); for the controls the split is
the most common start year of the trial units, and "after" counts decisions made from the
earliest start in that year. The ratio after / before is 1 − θ when the trial shrinks every
municipality's deviation by θ in the decisions it makes. Its 95 % interval comes from a
bootstrap over municipalities (the same municipalities before and after, seeded).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from sio.evaluation.equal_treatment import _group_codes, _reml_curve

__all__ = ["between_variance", "dispersion_change"]

FloatArray = npt.NDArray[np.float64]


def between_variance(counts: FloatArray, means: FloatArray, within_ss: float, p: int) -> float:
    """σ²_between of the random-intercept model from group sizes, means and the within SS."""
    from scipy import optimize  # type: ignore[import-untyped]

    n = int(counts.sum())
    if counts.size < 2 or n - p < 2 or within_ss <= 0:
        return math.nan
    curve = _reml_curve(counts, means, within_ss, n, p)
    best = optimize.minimize_scalar(
        lambda t: float(curve(math.exp(t))),
        bounds=(-30.0, 12.0),
        method="bounded",
        options={"xatol": 1e-8},
    )
    lam = math.exp(float(best.x))
    if curve(0.0) <= float(best.fun):
        lam = 0.0
    w = counts / (1 + counts * lam)
    mu = float((w * means).sum() / w.sum())
    scale = (within_ss + float((w * (means - mu) ** 2).sum())) / (n - p)
    return lam * scale


def _stats(df: pl.DataFrame) -> tuple[FloatArray, FloatArray, FloatArray, int]:
    """Per municipality: n, mean and within SS of `_r`; and the profile cells used."""
    g = _group_codes(df.get_column("kommunenummer"))
    r = df.get_column("_r").to_numpy()
    k = int(g.max()) + 1
    n = np.bincount(g, minlength=k).astype(np.float64)
    mean = np.bincount(g, weights=r, minlength=k) / n
    ss = np.bincount(g, weights=(r - mean[g]) ** 2, minlength=k).astype(np.float64)
    cells = int(df.select(pl.struct("profile", "aar").n_unique()).item())
    return n, mean, ss, cells


def _group(
    before: pl.DataFrame, after: pl.DataFrame, reps: int, seed: int, alpha: float
) -> dict[str, Any]:
    if before.is_empty() or after.is_empty():
        return {}
    codes = sorted(set(before["kommunenummer"]) & set(after["kommunenummer"]))
    before = before.filter(pl.col("kommunenummer").is_in(codes))
    after = after.filter(pl.col("kommunenummer").is_in(codes))
    if len(codes) < 3:
        return {"municipalities": len(codes)}
    nb, mb, sb, cb = _stats(before)
    na, ma, sa, ca = _stats(after)
    vb = between_variance(nb, mb, float(sb.sum()), cb)
    va = between_variance(na, ma, float(sa.sum()), ca)
    ratio = math.sqrt(va / vb) if vb > 0 else math.nan
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(reps):
        pick = rng.integers(0, len(codes), len(codes))
        b = between_variance(nb[pick], mb[pick], float(sb[pick].sum()), cb)
        a = between_variance(na[pick], ma[pick], float(sa[pick].sum()), ca)
        if b > 0 and math.isfinite(a):
            draws.append(math.sqrt(a / b))
    arr = np.asarray(draws)
    return {
        "sd_before": math.sqrt(vb) if vb >= 0 else None,
        "sd_after": math.sqrt(va) if va >= 0 else None,
        "ratio": ratio,
        "ci_low": float(np.quantile(arr, alpha / 2)) if arr.size else None,
        "ci_high": float(np.quantile(arr, 1 - alpha / 2)) if arr.size else None,
        "municipalities": len(codes),
        "n_before": before.height,
        "n_after": after.height,
        "replications": reps,
        "_draws": arr,
    }


def dispersion_change(
    persons: pl.DataFrame, reps: int = 199, seed: int = 1, alpha: float = 0.05
) -> dict[str, Any]:
    """The ratio after / before of the between-municipality SD of log home hours given need, for
    the trial and the control municipalities, and trial / control."""
    users = persons.filter(pl.col("home_hours") > 0)
    if users.is_empty():
        return {}
    starts = (
        users.filter(pl.col("participating"))
        .group_by("unit")
        .agg(pl.col("aar").min().alias("_start"))
    )
    users = users.join(starts, on="unit", how="left")
    common = starts.get_column("_start").mode().sort()
    if common.is_empty():
        return {}
    split = int(common[0])
    log_h = pl.col("home_hours").log()
    users = users.with_columns((log_h - log_h.mean().over("profile", "aar")).alias("_r"))
    trial, control = users.filter(pl.col("trial")), users.filter(~pl.col("trial"))
    # "after" counts the home hours decided under the trial: a decision made before the start
    # still in force on a later 31 December says nothing about the trial's practice
    new_trial: pl.Expr = pl.lit(True)
    new_control: pl.Expr = pl.lit(True)
    split_day: dt.date | None = None
    if {"home_from", "trial_start"} <= set(users.columns):
        new_trial = pl.col("home_from") >= pl.col("trial_start")
        days = (
            trial.filter(pl.col("trial_start").dt.year() == split)
            .get_column("trial_start")
            .drop_nulls()
        )
        first_day = days.min() if days.len() else None
        if isinstance(first_day, dt.date):
            split_day = first_day
            new_control = pl.col("home_from") >= pl.lit(split_day)
    t = _group(
        trial.filter(pl.col("aar") < pl.col("_start")),
        trial.filter(pl.col("participating") & new_trial),
        reps,
        seed,
        alpha,
    )
    c = _group(
        control.filter(pl.col("aar") < split),
        control.filter((pl.col("aar") >= split) & new_control),
        reps,
        seed + 1,
        alpha,
    )
    out: dict[str, Any] = {"outcome": "log_home_hours", "split_year_controls": split}
    if split_day is not None:
        out["decided_from_controls"] = split_day.isoformat()
    out["trial"] = {k: v for k, v in t.items() if k != "_draws"}
    out["control"] = {k: v for k, v in c.items() if k != "_draws"}
    ok = bool(t.get("ratio")) and bool(c.get("ratio"))
    if ok and len(t["_draws"]) and len(c["_draws"]) and (c["_draws"] > 0).any():
        n = min(len(t["_draws"]), len(c["_draws"]))
        tc, cc = t["_draws"][:n], c["_draws"][:n]
        rel = tc[cc > 0] / cc[cc > 0]
        out["trial_over_control"] = {
            "ratio": t["ratio"] / c["ratio"],
            "ci_low": float(np.quantile(rel, alpha / 2)),
            "ci_high": float(np.quantile(rel, 1 - alpha / 2)),
        }
    return out
