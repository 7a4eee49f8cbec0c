"""Equal treatment given need (scheme.md §5): how much of the variation in allocated services,
for persons with the same need profile, lies between municipalities.

- `icc_anova`: the intra-class correlation of a one-way random-effects model (method of moments)
  with the exact F-based confidence interval (Searle 1971; unbalanced groups use the effective
  group size n0). Cheap: used per year and group.
- `icc_mixed`: the same quantity from a multilevel model, statsmodels' `MixedLM` with a random
  intercept per municipality fitted by REML; confidence interval from the Wald interval of the
  log variance ratio σ²_between / σ²_within (the ICC is a monotone function of it).
- Both work on the outcome less its mean in the person's need profile (and year): the profile is
  a fixed effect, so the ICC is the between-municipality share of the variance *given need*.
- `standardised_rates`: indirect standardisation — per municipality, observed / expected, the
  expected being the sum of the national mean of each person's profile — with funnel-plot limits
  (95 % and 99.8 %) from the within-profile variances.
- `gini_against_chance`: the Gini coefficient of the municipalities' standardised rates against
  its distribution when outcomes are shuffled among persons of the same profile (and year), so
  that every municipality keeps its own mix of needs and differs only by chance.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

__all__ = [
    "Icc",
    "gini",
    "gini_against_chance",
    "icc_anova",
    "icc_mixed",
    "residualise",
    "standardised_rates",
]

FloatArray = npt.NDArray[np.float64]
Z95 = 1.959963984540054
Z998 = 3.090232306167813


@dataclass(frozen=True)
class Icc:
    """An intra-class correlation with its confidence interval and what it rests on."""

    estimate: float
    low: float
    high: float
    n: int  # persons (person-years)
    groups: int  # municipalities
    between: float  # variance between municipalities
    within: float  # variance within
    method: str  # "anova" or "reml"

    def to_dict(self) -> dict[str, Any]:
        return {
            "icc": _num(self.estimate),
            "ci_low": _num(self.low),
            "ci_high": _num(self.high),
            "n": self.n,
            "municipalities": self.groups,
            "var_between": _num(self.between),
            "var_within": _num(self.within),
            "method": self.method,
        }


def _num(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def residualise(
    df: pl.DataFrame, outcome: str, by: tuple[str, ...] = ("profile", "aar")
) -> pl.Series:
    """The outcome less its mean in the cells of `by` (the need profile as a fixed effect)."""
    return df.select(
        (pl.col(outcome).cast(pl.Float64) - pl.col(outcome).cast(pl.Float64).mean().over(by)).alias(
            outcome
        )
    ).to_series()


def _group_codes(groups: Any) -> npt.NDArray[np.int64]:
    """0, 1, … for the distinct groups (dense ranks: Polars sorts a million codes at once)."""
    series = groups if isinstance(groups, pl.Series) else pl.Series(np.asarray(groups))
    codes: npt.NDArray[np.int64] = (series.rank("dense").cast(pl.Int64) - 1).to_numpy()
    return codes


def icc_anova(groups: Any, y: Any, alpha: float = 0.05, df_used: int = 0) -> Icc:
    """ICC(1) of `y` by `groups` (one-way ANOVA) with its F-based (1 − alpha) interval.

    `df_used`: degrees of freedom already spent on fixed effects (the profile cells removed by
    `residualise`), subtracted from the within-group degrees of freedom."""
    from scipy import stats  # type: ignore[import-untyped]

    yv = np.asarray(y, dtype=np.float64)
    g = _group_codes(groups)
    n = yv.size
    k = int(g.max()) + 1 if n else 0
    if k < 2 or n - k - df_used < 1:
        return Icc(math.nan, math.nan, math.nan, n, k, math.nan, math.nan, "anova")
    counts = np.bincount(g, minlength=k).astype(np.float64)
    sums = np.bincount(g, weights=yv, minlength=k)
    means = sums / counts
    grand = yv.mean()
    ssb = float((counts * (means - grand) ** 2).sum())
    ssw = float(((yv - means[g]) ** 2).sum())
    df_b, df_w = k - 1, n - k - df_used
    msb, msw = ssb / df_b, ssw / df_w
    n0 = (n - float((counts**2).sum()) / n) / (k - 1)
    if msw <= 0:
        return Icc(math.nan, math.nan, math.nan, n, k, math.nan, 0.0, "anova")
    between = max((msb - msw) / n0, 0.0)
    icc = (msb - msw) / (msb + (n0 - 1) * msw)
    f = msb / msw
    f_low = f / stats.f.ppf(1 - alpha / 2, df_b, df_w)
    f_high = f * stats.f.ppf(1 - alpha / 2, df_w, df_b)
    low = (f_low - 1) / (f_low + n0 - 1)
    high = (f_high - 1) / (f_high + n0 - 1)
    return Icc(
        float(icc),
        float(max(low, -1 / (n0 - 1) if n0 > 1 else low)),
        float(min(high, 1.0)),
        n,
        k,
        between,
        msw,
        "anova",
    )


def _reml_curve(
    counts: FloatArray, means: FloatArray, within_ss: float, n: int, p: int
) -> Callable[[float], float]:
    """−2 × the restricted log-likelihood of the random-intercept model y = μ + u + e, profiled
    over μ and σ²_e, as a function of λ = σ²_u / σ²_e (up to a constant).

    For a group of size n_i with mean ȳ_i, V_i = σ²_e (I + λJ): |V_i| = σ²_e^(n_i) (1 + n_i λ), and
    the GLS weight of its mean is w_i = n_i / (1 + n_i λ); the quadratic form is the within sum
    of squares plus Σ w_i (ȳ_i − μ̂)². `p` = fixed effects (the intercept and the profile cells
    removed beforehand)."""

    def curve(lam: float) -> float:
        w = counts / (1 + counts * lam)
        mu = float((w * means).sum() / w.sum())
        q = within_ss + float((w * (means - mu) ** 2).sum())
        return (
            (n - p) * math.log(q / (n - p))
            + float(np.log1p(counts * lam).sum())
            + math.log(float(w.sum()))
        )

    return curve


def icc_mixed(groups: Any, y: Any, alpha: float = 0.05, df_used: int = 0) -> Icc:
    """The ICC of a multilevel (random-intercept) model fitted by REML, with the profile-
    likelihood confidence interval (the λ whose −2 log-likelihood is within the χ²₁ quantile of
    the minimum). The fit works on group sums, so a million rows take milliseconds; it gives the
    estimates of statsmodels' `MixedLM(reml=True)` (tests/test_evaluation.py checks this)."""
    from scipy import optimize, stats

    yv = np.asarray(y, dtype=np.float64)
    g = _group_codes(groups)
    n = int(yv.size)
    k = int(g.max()) + 1 if n else 0
    p = 1 + df_used
    if k < 2 or n - p < 2:
        return Icc(math.nan, math.nan, math.nan, n, k, math.nan, math.nan, "reml")
    counts = np.bincount(g, minlength=k).astype(np.float64)
    means = np.bincount(g, weights=yv, minlength=k) / counts
    within_ss = float(((yv - means[g]) ** 2).sum())
    if within_ss <= 0:
        return Icc(math.nan, math.nan, math.nan, n, k, math.nan, 0.0, "reml")
    curve = _reml_curve(counts, means, within_ss, n, p)

    # search on t = log(λ) over a wide range, and compare with the boundary λ = 0
    def on_log(t: float) -> float:
        return float(curve(math.exp(t)))

    best = optimize.minimize_scalar(
        on_log, bounds=(-30.0, 12.0), method="bounded", options={"xatol": 1e-10}
    )
    lam = math.exp(float(best.x))
    f_min = float(best.fun)
    if curve(0.0) <= f_min:
        lam, f_min = 0.0, curve(0.0)
    cut = f_min + float(stats.chi2.ppf(1 - alpha, 1))

    def excess(x: float) -> float:
        return float(curve(x)) - cut

    if lam == 0.0 or excess(0.0) <= 0:
        low = 0.0
    else:
        low = float(optimize.brentq(excess, 0.0, lam, xtol=1e-12))
    hi_bracket = max(lam, 1e-6) * 2
    while excess(hi_bracket) < 0 and hi_bracket < 1e8:
        hi_bracket *= 2
    high = (
        float(optimize.brentq(excess, lam, hi_bracket, xtol=1e-12))
        if excess(hi_bracket) > 0
        else math.inf
    )
    w = counts / (1 + counts * lam)
    mu = float((w * means).sum() / w.sum())
    scale = (within_ss + float((w * (means - mu) ** 2).sum())) / (n - p)

    def icc_of(x: float) -> float:
        return x / (1 + x) if math.isfinite(x) else 1.0

    return Icc(icc_of(lam), icc_of(low), icc_of(high), n, k, lam * scale, scale, "reml")


def standardised_rates(df: pl.DataFrame, outcome: str, by: str = "kommunenummer") -> pl.DataFrame:
    """Indirectly standardised rates per municipality (and year): observed / expected, where the
    expected is the sum over its persons of their profile's mean in that year across all
    municipalities. Funnel limits around 1 from the within-profile variances under the null of
    no municipal difference."""
    y = pl.col(outcome).cast(pl.Float64)
    cells = ["profile", "aar"]
    with_e = df.with_columns(
        y.mean().over(cells).alias("_e"), y.var(ddof=0).over(cells).fill_null(0.0).alias("_v")
    )
    out = (
        with_e.group_by(by, "aar")
        .agg(
            pl.len().alias("n"),
            y.sum().alias("observed"),
            pl.col("_e").sum().alias("expected"),
            pl.col("_v").sum().alias("_var"),
        )
        .with_columns(
            pl.when(pl.col("expected") > 0)
            .then(pl.col("observed") / pl.col("expected"))
            .alias("ratio"),
            pl.when(pl.col("expected") > 0)
            .then(pl.col("_var").sqrt() / pl.col("expected"))
            .alias("se"),
        )
        .with_columns(
            (1 - Z95 * pl.col("se")).alias("limit95_low"),
            (1 + Z95 * pl.col("se")).alias("limit95_high"),
            (1 - Z998 * pl.col("se")).alias("limit998_low"),
            (1 + Z998 * pl.col("se")).alias("limit998_high"),
        )
        .with_columns(
            pl.when(pl.col("ratio") > pl.col("limit998_high"))
            .then(pl.lit("above998"))
            .when(pl.col("ratio") > pl.col("limit95_high"))
            .then(pl.lit("above95"))
            .when(pl.col("ratio") < pl.col("limit998_low"))
            .then(pl.lit("below998"))
            .when(pl.col("ratio") < pl.col("limit95_low"))
            .then(pl.lit("below95"))
            .when(pl.col("ratio").is_not_null())
            .then(pl.lit("inside"))
            .alias("funnel"),
            (pl.col("observed") / pl.col("n")).alias("mean_observed"),
            (pl.col("expected") / pl.col("n")).alias("mean_expected"),
        )
        .drop("_var")
        .sort("aar", by)
    )
    return out


def gini(values: Any) -> float:
    """The Gini coefficient of non-negative values (mean absolute difference / twice the mean)."""
    x = np.sort(np.asarray(values, dtype=np.float64))
    x = x[np.isfinite(x)]
    n = x.size
    if n == 0 or x.sum() == 0:
        return math.nan
    ranks = np.arange(1, n + 1, dtype=np.float64)
    return float((2 * (ranks * x).sum()) / (n * x.sum()) - (n + 1) / n)


@dataclass(frozen=True)
class GiniTest:
    """The Gini of the municipal rates against its distribution under chance alone."""

    observed: float
    chance_mean: float
    chance_low: float  # 2.5 % quantile of the null distribution
    chance_high: float  # 97.5 %
    p_value: float  # share of null draws with a Gini at least the observed
    municipalities: int
    n: int
    replications: int
    seed: int
    method: str = "permutation"

    def to_dict(self) -> dict[str, Any]:
        return {
            "gini": _num(self.observed),
            "chance_mean": _num(self.chance_mean),
            "chance_low": _num(self.chance_low),
            "chance_high": _num(self.chance_high),
            "p_value": _num(self.p_value),
            "municipalities": self.municipalities,
            "n": self.n,
            "replications": self.replications,
            "seed": self.seed,
            "method": self.method,
        }


def gini_against_chance(
    df: pl.DataFrame,
    outcome: str,
    replications: int = 199,
    seed: int = 1,
    by: str = "kommunenummer",
    exact_up_to: int = 60_000,
) -> GiniTest:
    """The Gini of the standardised rates of one year's (or several years') person rows against
    the Gini when the outcome is shuffled among persons of the same profile and year.

    Up to `exact_up_to` rows the outcomes are shuffled (`replications` times); above, each
    municipality's sum is drawn from a normal distribution with the mean and variance it has under
    that shuffle (the permutation's exact moments, within each cell without replacement), which is
    the same null at national scale in a fraction of the time. `method` says which was used."""
    cells = df.select(pl.struct("profile", "aar").rank("dense").cast(pl.Int64) - 1).to_series()
    munis = _group_codes(df.get_column(by).to_numpy())
    y = df.get_column(outcome).cast(pl.Float64).to_numpy()
    cell = cells.to_numpy()
    k = int(munis.max()) + 1 if munis.size else 0
    cell_mean = np.bincount(cell, weights=y) / np.bincount(cell)
    expected = np.bincount(munis, weights=cell_mean[cell], minlength=k)
    ok = expected > 0

    def rates(values: FloatArray) -> FloatArray:
        observed = np.bincount(munis, weights=values, minlength=k)
        return observed[ok] / expected[ok]

    observed_gini = gini(rates(y))
    rng = np.random.default_rng(seed)
    draws = np.empty(replications)
    method = "permutation" if y.size <= exact_up_to else "normal"
    if method == "permutation":
        positions = np.argsort(cell, kind="stable")
        for r in range(replications):
            shuffled = np.argsort(cell + rng.random(cell.size))
            permuted = np.empty_like(y)
            permuted[positions] = y[shuffled]
            draws[r] = gini(rates(permuted))
    else:
        # the permutation's own first two moments per municipality: a sum of n draws without
        # replacement from a cell of N values with variance σ² has variance n σ² (N − n)/(N − 1)
        n_cells = int(cell.max()) + 1
        size = np.bincount(cell, minlength=n_cells).astype(np.float64)
        var = np.bincount(cell, weights=(y - cell_mean[cell]) ** 2, minlength=n_cells) / size
        pair = munis * n_cells + cell
        n_mc = np.bincount(pair, minlength=k * n_cells).astype(np.float64).reshape(k, n_cells)
        finite_pop = np.where(size > 1, (size - n_mc) / np.maximum(size - 1, 1), 0.0)
        sd = np.sqrt((n_mc * var[None, :] * finite_pop).sum(axis=1))[ok]
        for r in range(replications):
            draws[r] = gini((expected[ok] + sd * rng.standard_normal(sd.size)) / expected[ok])
    finite = draws[np.isfinite(draws)]
    if finite.size == 0 or not math.isfinite(observed_gini):
        return GiniTest(
            observed_gini,
            math.nan,
            math.nan,
            math.nan,
            math.nan,
            int(ok.sum()),
            int(y.size),
            replications,
            seed,
            method,
        )
    p = (1 + float((finite >= observed_gini - 1e-12).sum())) / (1 + finite.size)
    return GiniTest(
        observed_gini,
        float(finite.mean()),
        float(np.quantile(finite, 0.025)),
        float(np.quantile(finite, 0.975)),
        p,
        int(ok.sum()),
        int(y.size),
        replications,
        seed,
        method,
    )
