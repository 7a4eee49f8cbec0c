"""The evaluation's estimators (`sio.evaluation`) on small worlds built here, with answers worked
out by hand; a planted effect recovered within its interval over several seeds; a world without an
effect rejected no more often than the nominal rate; and the analysis frame of a tiny input whose
hours, costs and coverage follow from scheme.md §6 and the criteria files."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from sio.evaluation.coverage import coverage_table
from sio.evaluation.did import OUTCOMES, Panel, estimate
from sio.evaluation.equal_treatment import (
    gini,
    gini_against_chance,
    icc_anova,
    icc_mixed,
    standardised_rates,
)

# -- intra-class correlation ---------------------------------------------------------------------


def test_icc_of_two_groups_by_hand() -> None:
    """Groups {1, 2, 3} and {4, 5, 6}: MSB = 3·(1.5² + 1.5²) / 1 = 13.5, MSW = 4 / 4 = 1, n0 = 3,
    ICC = (13.5 − 1) / (13.5 + 2·1) = 12.5 / 15.5; σ²_between = (13.5 − 1) / 3."""
    groups = ["a", "a", "a", "b", "b", "b"]
    y = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    a = icc_anova(groups, y)
    assert a.estimate == pytest.approx(12.5 / 15.5)
    assert a.between == pytest.approx(12.5 / 3)
    assert a.within == pytest.approx(1.0)
    assert a.low < a.estimate < a.high
    # balanced groups: the REML estimate of the multilevel model is the ANOVA estimate
    m = icc_mixed(groups, y)
    assert m.estimate == pytest.approx(12.5 / 15.5, rel=1e-6)
    assert m.between == pytest.approx(12.5 / 3, rel=1e-6)
    assert m.within == pytest.approx(1.0, rel=1e-6)
    assert m.low < m.estimate < m.high


def test_icc_is_zero_when_municipalities_do_not_differ() -> None:
    """Every municipality has exactly the same values: no variance between them."""
    groups = ["a"] * 4 + ["b"] * 4 + ["c"] * 4
    y = [1.0, 2.0, 3.0, 4.0] * 3
    assert icc_mixed(groups, y).estimate == 0.0
    assert icc_anova(groups, y).estimate == pytest.approx(-1 / 3 / (1 + 0), abs=1.0)
    assert icc_anova(groups, y).between == 0.0


def test_multilevel_icc_matches_statsmodels() -> None:
    """The REML fit on group sums gives statsmodels' MixedLM(reml=True) estimates."""
    import statsmodels.api as sm

    rng = np.random.default_rng(7)
    g = np.sort(rng.integers(0, 15, 1500))
    u = rng.normal(0, 0.6, 15)
    y = u[g] + rng.normal(0, 2, g.size)
    ours = icc_mixed(g, y)
    fit = sm.MixedLM(y, np.ones((y.size, 1)), groups=g).fit(reml=True)
    between = float(fit.cov_re[0, 0])
    assert ours.between == pytest.approx(between, rel=1e-4)
    assert ours.within == pytest.approx(float(fit.scale), rel=1e-6)
    assert ours.estimate == pytest.approx(between / (between + float(fit.scale)), rel=1e-4)


# -- standardised rates, Gini --------------------------------------------------------------------


def _persons(rows: list[tuple[str, str, float]], year: int = 2020) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "kommunenummer": [r[0] for r in rows],
            "profile": [r[1] for r in rows],
            "y": [r[2] for r in rows],
            "aar": [year] * len(rows),
        },
        schema={"kommunenummer": pl.Utf8, "profile": pl.Utf8, "y": pl.Float64, "aar": pl.Int32},
    )


def test_standardised_rates_by_hand() -> None:
    """Profile L has values 2 (A), 4 (A), 6 (B): mean 4; profile H has 10 (B), 20 (B): mean 15.
    A: observed 6, expected 4 + 4 = 8, ratio 0.75. B: observed 36, expected 4 + 15 + 15 = 34.
    Funnel: se(A) = √(Var_L + Var_L) / 8 with Var_L = 8/3 (population variance of 2, 4, 6)."""
    df = _persons(
        [("A", "L", 2.0), ("A", "L", 4.0), ("B", "L", 6.0), ("B", "H", 10.0), ("B", "H", 20.0)]
    )
    r = {row["kommunenummer"]: row for row in standardised_rates(df, "y").to_dicts()}
    assert r["A"]["ratio"] == pytest.approx(6 / 8)
    assert r["B"]["ratio"] == pytest.approx(36 / 34)
    assert r["A"]["n"] == 2 and r["B"]["n"] == 3
    assert r["A"]["se"] == pytest.approx(math.sqrt(2 * 8 / 3) / 8)
    var_b = 8 / 3 + 2 * 25.0  # profile H: values 10, 20 around 15
    assert r["B"]["se"] == pytest.approx(math.sqrt(var_b) / 34)
    assert r["A"]["limit95_high"] == pytest.approx(1 + 1.959963984540054 * r["A"]["se"])


def test_gini_by_hand() -> None:
    assert gini([1, 1, 1, 1]) == pytest.approx(0.0)
    assert gini([0, 0, 0, 1]) == pytest.approx(0.75)
    # mean absolute difference 20 / 16 over twice the mean 2.5
    assert gini([1, 2, 3, 4]) == pytest.approx(0.25)


def test_gini_against_chance_tells_real_differences_from_noise() -> None:
    rng = np.random.default_rng(3)
    rows_same = [(f"{m:04d}", "P", float(rng.normal(10, 2))) for m in range(20) for _ in range(30)]
    same = gini_against_chance(_persons(rows_same), "y", replications=199, seed=1)
    assert same.p_value > 0.01
    assert same.chance_low <= same.observed <= same.chance_high * 1.5
    rows_diff = [
        (f"{m:04d}", "P", float(rng.normal(10 + m * 0.5, 2))) for m in range(20) for _ in range(30)
    ]
    diff = gini_against_chance(_persons(rows_diff), "y", replications=199, seed=1)
    assert diff.p_value == pytest.approx(1 / 200)
    assert diff.observed > diff.chance_high


def test_gini_null_by_the_permutations_moments_agrees_with_the_shuffle() -> None:
    """Above `exact_up_to` rows the null comes from the shuffle's exact moments; on the same data
    both give about the same chance distribution (a 0/1 outcome, unequal municipality sizes)."""
    rng = np.random.default_rng(5)
    sizes = [400, 200, 100, 50, 25, 25, 10, 10, 5, 5] * 2
    rows = [
        (f"{m:04d}", "AB"[i % 2], float(rng.random() < (0.2 if i % 2 else 0.5)))
        for m, n in enumerate(sizes)
        for i in range(n)
    ]
    df = _persons(rows)
    shuffle = gini_against_chance(df, "y", replications=399, seed=2)
    normal = gini_against_chance(df, "y", replications=399, seed=2, exact_up_to=0)
    assert (shuffle.method, normal.method) == ("permutation", "normal")
    assert normal.observed == shuffle.observed
    assert normal.chance_mean == pytest.approx(shuffle.chance_mean, rel=0.15)
    assert normal.chance_high == pytest.approx(shuffle.chance_high, rel=0.2)


# -- coverage ------------------------------------------------------------------------------------


def test_coverage_shares_and_wilson_interval_by_hand() -> None:
    """8 of 10 assessed within: Wilson 95 % interval (0.4902, 0.9433); 2 below; 1 unassessed."""
    positions = ["within"] * 8 + ["below"] * 2 + [None]
    df = pl.DataFrame(
        {"kommunenummer": ["0001"] * 11, "aar": [2020] * 11, "coverage": positions},
        schema={"kommunenummer": pl.Utf8, "aar": pl.Int32, "coverage": pl.Utf8},
    )
    row = coverage_table(df).to_dicts()[0]
    assert (row["users"], row["assessed"], row["unassessed"]) == (11, 10, 1)
    assert row["within"] == pytest.approx(0.8) and row["below"] == pytest.approx(0.2)
    assert row["within_low"] == pytest.approx(0.4902, abs=5e-5)
    assert row["within_high"] == pytest.approx(0.9433, abs=5e-5)
    assert row["above"] == 0.0 and row["above_low"] == 0.0


# -- difference in differences -------------------------------------------------------------------


def _panel(y: np.ndarray, trial: np.ndarray, treated: np.ndarray, first: int = 2015) -> Panel:
    units = [f"{i:04d}" for i in range(y.shape[0])]
    years = list(range(first, first + y.shape[1]))
    values = {o: y.copy() for o in OUTCOMES}
    return Panel(units, years, trial, treated, values, np.ones_like(y))


def test_did_of_two_by_two_by_hand() -> None:
    """Trial 10 → 15, controls 8 → 10 and 6 → 8: DiD = 5 − 2 = 3."""
    y = np.array([[10.0, 15.0], [8.0, 10.0], [6.0, 8.0]])
    trial = np.array([True, False, False])
    treated = np.array([[False, True], [False, False], [False, False]])
    res = estimate(_panel(y, trial, treated), "cost_per_user", permutations=99, seed=1)
    assert res is not None
    assert res.did.estimate == pytest.approx(3.0)
    assert res.base_mean == pytest.approx(10.0)
    assert res.relative == pytest.approx(0.3)
    # three units, one treated: three distinct assignments, so p can go no lower than 1/3
    assert res.distinct_assignments == 3
    assert res.min_p_value == pytest.approx(1 / 3)


def test_a_trial_unit_without_a_base_year_is_left_out_and_named() -> None:
    """Unit 0003 starts in 2016 but has no users in 2015: it cannot be compared; the DiD is that
    of 0000 alone, 10 → 15 against 8 → 10 and 6 → 8."""
    y = np.array([[10.0, 15.0], [8.0, 10.0], [6.0, 8.0], [np.nan, 30.0]])
    trial = np.array([True, False, False, True])
    treated = np.array([[False, True], [False, False], [False, False], [False, True]])
    res = estimate(_panel(y, trial, treated), "cost_per_user", permutations=19, seed=1)
    assert res is not None
    assert res.did.estimate == pytest.approx(3.0)
    assert res.treated_units == ("0000",) and res.excluded_units == ("0003",)


def test_a_trial_unit_whose_base_year_is_not_covered_is_left_out() -> None:
    """0003 has 10 users in its base year and 100 in its first year (the input covers only its
    long-running cases before the start): it is left out; at half or more it would count."""
    y = np.array([[10.0, 15.0], [8.0, 10.0], [6.0, 8.0], [1.0, 30.0]])
    trial = np.array([True, False, False, True])
    treated = np.array([[False, True], [False, False], [False, False], [False, True]])
    panel = _panel(y, trial, treated)
    users = np.array([[50.0, 50.0], [40.0, 40.0], [40.0, 40.0], [10.0, 100.0]])
    thin = Panel(panel.units, panel.years, trial, treated, panel.values, users)
    res = estimate(thin, "cost_per_user", permutations=19, seed=1)
    assert res is not None and res.excluded_units == ("0003",)
    assert res.did.estimate == pytest.approx(3.0)
    users[3, 0] = 50.0
    res = estimate(thin, "cost_per_user", permutations=19, seed=1)
    assert res is not None and res.treated_units == ("0000", "0003")


def test_did_recovers_an_exact_effect_with_staggered_starts() -> None:
    """Y = unit level + year level + 2 in participating years, no noise: the DiD is 2, the event
    study 0 before the start and 2 from it; the 2019/2020 break and merger years are flagged."""
    U, T = 9, 8
    unit = np.arange(U, dtype=float)[:, None] * 3
    year = np.array([0, 1, 3, 2, 5, 4, 6, 7], dtype=float)[None, :]
    trial = np.array([True] * 5 + [False] * 4)
    treated = np.zeros((U, T), dtype=bool)
    treated[0:3, 2:6] = True  # start 2017, until 2020
    treated[3:5, 5:] = True  # start 2020
    y = unit + year + 2.0 * treated
    res = estimate(
        _panel(y, trial, treated),
        "hours_per_user",
        permutations=199,
        seed=2,
        merger_years={2020: ("3014",)},
    )
    assert res is not None
    assert res.did.estimate == pytest.approx(2.0)
    assert res.did.ci_low <= 2.0 <= res.did.ci_high
    events = {e: est for e, est, _y, _f in res.events}
    for e in (-4, -3, -2, -1):
        assert events[e].estimate == pytest.approx(0.0, abs=1e-12)
    assert events[0].estimate == pytest.approx(2.0)
    assert res.flagged_years[2019] == ("register_break",)
    assert res.flagged_years[2020] == ("register_break", "merger")
    assert "merger" in res.flags


def _world(seed: int, effect: float) -> Panel:
    """17 units (11 trial starting 2016 or 2020, 6 control) over 2015–2023, unit and year effects
    and noise; `effect` added in participating years."""
    rng = np.random.default_rng(seed)
    U, T = 17, 9
    trial = np.zeros(U, dtype=bool)
    trial[:11] = True
    treated = np.zeros((U, T), dtype=bool)
    for i in range(11):
        start = 1 if i < 6 else 5
        treated[i, start:7] = True
    y = (
        rng.normal(0, 1, (U, 1))
        + np.cumsum(rng.normal(0.3, 0.2, T))[None, :]
        + rng.normal(0, 0.4, (U, T))
        + effect * treated
    )
    return _panel(y, trial, treated)


def test_planted_effect_is_recovered_within_its_interval() -> None:
    """A planted effect of 1.5 lies inside the 95 % interval in at least 9 of 10 seeds, and the
    estimate is significant in all of them (the noise sd is 0.4)."""
    covered = significant = 0
    for seed in range(10):
        res = estimate(_world(seed, 1.5), "cost_per_user", permutations=199, seed=seed)
        assert res is not None
        covered += res.did.ci_low <= 1.5 <= res.did.ci_high
        significant += res.did.p_value < 0.05
    assert covered >= 9
    assert significant == 10


def test_no_effect_is_rejected_no_more_often_than_the_nominal_rate() -> None:
    """60 worlds without an effect: the randomisation test at 5 % rejects in at most 7 of them
    (Binomial(60, 0.05) exceeds 7 with probability about 0.03)."""
    rejections = 0
    for seed in range(100, 160):
        res = estimate(_world(seed, 0.0), "cost_per_user", permutations=99, seed=seed)
        assert res is not None
        rejections += res.did.p_value < 0.05
    assert rejections <= 7


def test_no_comparison_without_controls() -> None:
    y = np.ones((2, 3))
    trial = np.array([True, True])
    treated = np.array([[False, True, True], [False, False, True]])
    assert estimate(_panel(y, trial, treated), "cost_per_user", permutations=19) is None


# -- the analysis frame of a tiny input ----------------------------------------------------------

IPLOS = (
    "sosial_deltakelse,beslutninger_dagliglivet,styre_atferd,alminnelig_husarbeid,skaffe_varer,"
    "personlig_hygiene,av_og_paakledning,spise,lage_mat,ivareta_egen_helse,bevege_seg_innendoers,"
    "bevege_seg_utendoers,toalett,hukommelse,kommunikasjon,syn,hoersel"
)


def _write_tiny(d: Path) -> None:
    """Two municipalities in 2016: 0001 participates (model A from 2016-01-01), 0002 never.
    P1 (0001): home nursing 5 h/week all year; P2 (0001): 8 h/week; P3 (0002): long-term stay
    1 day per day; P4 (0002): home nursing 1 h/week, no assessment. P1–P3 assessed with every
    score 3 (medium to large need)."""
    files = {
        "kommuner": "kommunenummer,navn,gyldig_fra,gyldig_til,aga_sone,reiseindeks,etterfolger\n"
        "0001,En,2000-01-01,,1,0,\n0002,To,2000-01-01,,1,0,\n",
        "deltakelse": "kommunenummer,modell,fra,til,aktivitet_fra,covid_saerordning\n"
        "0001,A,2016-01-01,,2016-01-01,true\n",
        "utgifter": "kommunenummer,aar,kostra_funksjon,netto_driftsutgifter\n"
        "0001,2015,254,1000000\n0002,2015,254,1000000\n",
        "befolkning": "kommunenummer,aar,aldersgruppe,antall\n"
        + "".join(
            f"{k},{y},{g},{n}\n"
            for k in ("0001", "0002")
            for y in (2015, 2016)
            for g, n in (("0-66", 900), ("67-79", 60), ("80-89", 30), ("90+", 10))
        ),
        "vedtak": "vedtak_id,person_id,kommunenummer,tjeneste,prisgruppe,omfang,enhet,fra,til\n"
        "V1,P1,0001,HJSPL,,5,timer_per_uke,2016-01-01,\n"
        "V2,P2,0001,HJSPL,,8,timer_per_uke,2016-01-01,\n"
        "V3,P3,0002,INST_LANG,,1,doegn,2016-01-01,\n"
        "V4,P4,0002,HJSPL,,1,timer_per_uke,2016-01-01,\n",
        "kartlegging": f"person_id,kommunenummer,dato,{IPLOS},behovsniva\n"
        + "".join(
            f"{p},{k},2016-01-01,{','.join(['3'] * 17)},\n"
            for p, k in (("P1", "0001"), ("P2", "0001"), ("P3", "0002"))
        ),
        "personer": "person_id,foedselsaar,kjoenn,bor_alene\n"
        "P1,1930,K,true\nP2,1940,M,false\nP3,1925,K,\nP4,1950,,\n",
    }
    for name, text in files.items():
        (d / f"{name}.csv").write_text(text, encoding="utf-8")


def test_frame_of_a_tiny_input(tmp_path: Path) -> None:
    """Hours, costs and coverage by hand (2016 is a leap year; prices of scheme.md §6, 2016):
    P1 5 h/week → cost 5 × 366/7 × 720 kr; a long-term stay is 7 × 3 100 / 720 hour
    equivalents a week and 366 × 3 100 kr a year. Every score 3 gives medium to large need; the
    recommendation's step is 4 (day activity, support contact) with home nursing as a supplement,
    range 2–6 h/week: 5 h is within, 8 h above; a long-term stay (step 7 of the care ladder) is
    above the recommended step."""
    from sio.data.validation import load_input
    from sio.evaluation.frame import build_frame
    from sio.parameters import load_parameters

    _write_tiny(tmp_path)
    params = load_parameters()
    inp, problems = load_input(tmp_path, params)
    assert not [p for p in problems if p.severity == "error"]
    frame = build_frame(inp, params, 2016, 2016)
    rows = {r["person_id"]: r for r in frame.persons.to_dicts()}
    assert set(rows) == {"P1", "P2", "P3", "P4"}
    p1, p2, p3, p4 = rows["P1"], rows["P2"], rows["P3"], rows["P4"]
    assert p1["hours"] == pytest.approx(5.0)
    assert p1["cost"] == pytest.approx(5 * 366 / 7 * 720)
    assert p3["hours"] == 0.0 and p3["institution"] is True
    assert p3["hour_equivalents"] == pytest.approx(7 * 3100 / 720)
    assert p3["cost"] == pytest.approx(366 * 3100)
    assert p1["need_level"] == "middels_til_stort" and p4["need_level"] == "ukjent"
    assert (p1["age_band"], p1["living"]) == ("80-89", "alene")
    assert (p2["age_band"], p2["living"]) == ("67-79", "ikke_alene")
    assert (p3["age_band"], p3["living"]) == ("90+", "ukjent")
    assert p1["profile"] == "middels_til_stort|80-89|alene"
    assert (p1["coverage"], p2["coverage"], p3["coverage"], p4["coverage"]) == (
        "within",
        "above",
        "above",
        None,
    )
    assert p1["participating"] and p1["trial"] and not p3["trial"] and not p3["participating"]
    assert "aktivitetstilskudd.enhetspris.HJSPL.STANDARD" in frame.cost_estimates
    assert frame.coverage_estimates  # the criteria are estimates


def test_units_follow_new_numbers_and_start_anew_at_mergers() -> None:
    """0001 gets the new number 0003 (one predecessor: the same municipality); 0002 (a
    participant) and 0004 merge into 0005 (a new unit). 0004 never participates, so its unit is
    a control although it merged into a participant's successor."""
    import datetime as dt
    from types import SimpleNamespace

    from sio.evaluation.frame import _units_table

    d = dt.date
    kommuner = pl.DataFrame(
        {
            "kommunenummer": ["0001", "0002", "0003", "0004", "0005"],
            "navn": ["A", "B", "A", "D", "E"],
            "gyldig_fra": [d(2000, 1, 1)] * 2 + [d(2020, 1, 1), d(2000, 1, 1), d(2020, 1, 1)],
            "gyldig_til": [d(2019, 12, 31)] * 2 + [None, d(2019, 12, 31), None],
            "aga_sone": ["1"] * 5,
            "reiseindeks": ["0"] * 5,
            "etterfolger": ["0003", "0005", None, "0005", None],
        }
    )
    deltakelse = pl.DataFrame({"kommunenummer": ["0002"]})
    units = _units_table(SimpleNamespace(kommuner=kommuner, deltakelse=deltakelse))  # type: ignore[arg-type]
    got = {r["kommunenummer"]: (r["unit"], r["trial"]) for r in units.to_dicts()}
    assert got == {
        "0001": ("0003", False),
        "0003": ("0003", False),
        "0002": ("0002", True),
        "0004": ("0004", False),
        "0005": ("0005", False),
    }


def _dispersion_world(seed: int, theta: float, stale: float | None = None) -> pl.DataFrame:
    """60 trial and 20 control municipalities, 30 users each, 2017–2020; log home hours = a
    profile level + the municipality's deviation u (sd 0.3) + noise (sd 0.3); the trial starts in
    2019 and multiplies u by 1 − θ from then on. With `stale`, that share of the users of 2019
    and 2020 have decisions made before 2019 still in force (deviation u, not narrowed), and the
    frame has the decisions' first day (`home_from`) and the trial's start (`trial_start`)."""
    rng = np.random.default_rng(seed)
    start = dt.date(2019, 1, 1)
    rows = []
    for m in range(80):
        u = rng.normal(0, 0.3)
        trial = m < 60
        for year in range(2017, 2021):
            after = year >= 2019
            for i in range(30):
                profile = ("a", "b")[i % 2]
                old = not after or (stale is not None and rng.random() < stale)
                dev = u * (1 - theta) if trial and not old else u
                level = 1.0 if profile == "a" else 2.0
                rows.append(
                    (
                        f"{m:04d}",
                        year,
                        profile,
                        float(np.exp(level + dev + rng.normal(0, 0.3))),
                        trial,
                        trial and after,
                        dt.date(min(year - 1, 2018), 6, 1) if old else dt.date(year, 3, 1),
                        start if trial else None,
                    )
                )
    frame = pl.DataFrame(
        rows,
        schema={
            "kommunenummer": pl.Utf8,
            "aar": pl.Int32,
            "profile": pl.Utf8,
            "home_hours": pl.Float64,
            "trial": pl.Boolean,
            "participating": pl.Boolean,
            "home_from": pl.Date,
            "trial_start": pl.Date,
        },
        orient="row",
    ).with_columns(pl.col("kommunenummer").alias("unit"))
    return frame if stale is not None else frame.drop("home_from", "trial_start")


def test_a_planted_narrowing_of_municipal_differences_is_recovered() -> None:
    """θ = 0.5 halves the municipalities' deviations in the trial: the SD ratio after / before is
    0.5 within its interval, the controls' about 1, over three seeds."""
    from sio.evaluation.dispersion import dispersion_change

    for seed in range(3):
        res = dispersion_change(_dispersion_world(seed, 0.5), reps=99, seed=seed)
        trial, control = res["trial"], res["control"]
        assert trial["ci_low"] <= 0.5 <= trial["ci_high"]
        assert control["ci_low"] <= 1.0 <= control["ci_high"]
        assert trial["municipalities"] == 60 and control["municipalities"] == 20
        assert res["split_year_controls"] == 2019
        assert res["trial_over_control"]["ci_high"] < 1.0


def test_decisions_made_before_the_start_do_not_dilute_a_narrowing() -> None:
    """Half the users of the trial's years still have decisions made before its start, with the
    old deviation: counting only the decisions made under the trial recovers θ = 0.5 within its
    interval over three seeds; the controls are split at the same day."""
    from sio.evaluation.dispersion import dispersion_change

    for seed in range(3):
        res = dispersion_change(_dispersion_world(seed, 0.5, stale=0.5), reps=99, seed=seed)
        trial, control = res["trial"], res["control"]
        assert trial["ci_low"] <= 0.5 <= trial["ci_high"]
        assert control["ci_low"] <= 1.0 <= control["ci_high"]
        assert res["decided_from_controls"] == "2019-01-01"
        # about half of the 60 × 30 × 2 person-years after the start are decisions made before
        assert 1500 <= trial["n_after"] <= 2100


def test_no_narrowing_is_found_no_more_often_than_the_nominal_rate() -> None:
    """30 worlds without an effect (decisions made before the start still in force in half the
    users), with the 199 bootstrap replications `sio evaluer` uses: the trial's 95 % interval of
    the ratio after / before excludes 1 in at most 4 of them (Binomial(30, 0.05) exceeds 4 with
    probability about 0.016). It excluded 1 in 3. (The percentile interval is somewhat narrow
    here: its implied SD is about 0.027 against a spread of the ratio over the worlds of about
    0.036; with 99 replications it excluded 1 in 6 of the 30.)"""
    from sio.evaluation.dispersion import dispersion_change

    excluded = 0
    for seed in range(200, 230):
        res = dispersion_change(_dispersion_world(seed, 0.0, stale=0.5), reps=199, seed=seed)
        trial = res["trial"]
        excluded += not (trial["ci_low"] <= 1.0 <= trial["ci_high"])
    assert excluded <= 4
