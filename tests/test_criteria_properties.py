"""Fairness properties of the criteria: a stronger need never gets a lower step on the care
ladder or a lower need level; the recommendation does not depend on how the input or the criteria
files are ordered or split; 9 (not relevant) counts as 1 (no need), as documented."""

from __future__ import annotations

import datetime as dt
import random
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sio.criteria import (
    IPLOS_VARIABLES,
    NEED_LEVELS,
    SCORES,
    Assessment,
    CriteriaVersion,
    IplosScores,
    default_criteria_dir,
    effective_score,
    load_criteria,
    recommend,
)

DAY = dt.date(2021, 6, 1)
score_maps = st.fixed_dictionaries({v: st.sampled_from(SCORES) for v in IPLOS_VARIABLES})


def _assessment(scores: dict[str, int]) -> Assessment:
    return Assessment(scores=IplosScores(**scores), assessed_on=DAY, assessor="A", signed_on=DAY)


@pytest.fixture(scope="module")
def criteria() -> CriteriaVersion:
    return load_criteria().at(DAY)


@st.composite
def weaker_and_stronger(draw: st.DrawFn) -> tuple[dict[str, int], dict[str, int]]:
    """Two score maps where every score of the second is at least that of the first, with 9
    ranked as 1 (so a 9 may become a 1 or anything higher, and a 1 may become a 9)."""
    weak = draw(score_maps)
    strong = {}
    for v, s in weak.items():
        floor = effective_score(s)
        options = [x for x in SCORES if effective_score(x) >= floor]
        strong[v] = draw(st.sampled_from(options))
    return weak, strong


@settings(max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pair=weaker_and_stronger())
def test_a_stronger_need_never_gets_a_lower_step(
    criteria: CriteriaVersion, pair: tuple[dict[str, int], dict[str, int]]
) -> None:
    weak, strong = (recommend(_assessment(s), criteria) for s in pair)
    assert strong.step >= weak.step
    assert NEED_LEVELS.index(strong.need_level.level) >= NEED_LEVELS.index(weak.need_level.level)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pair=weaker_and_stronger())
def test_a_stronger_need_never_loses_a_services_volume(
    criteria: CriteriaVersion, pair: tuple[dict[str, int], dict[str, int]]
) -> None:
    """A service recommended for both gets a range at least as high for the stronger need."""
    weak, strong = (recommend(_assessment(s), criteria) for s in pair)
    for svc in weak.services:
        other = strong.service(svc.service)
        if other is not None:
            assert other.volume_min >= svc.volume_min and other.volume_max >= svc.volume_max


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scores=score_maps, seed=st.integers(0, 2**32 - 1))
def test_the_order_of_the_variables_in_the_input_changes_nothing(
    criteria: CriteriaVersion, scores: dict[str, int], seed: int
) -> None:
    items = list(scores.items())
    random.Random(seed).shuffle(items)
    assert recommend(_assessment(dict(items)), criteria) == recommend(_assessment(scores), criteria)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scores=score_maps, data=st.data())
def test_not_relevant_counts_as_no_need(
    criteria: CriteriaVersion, scores: dict[str, int], data: st.DataObject
) -> None:
    ones = [v for v, s in scores.items() if s in (1, 9)]
    flipped = dict(scores)
    for v in data.draw(st.lists(st.sampled_from(ones), unique=True) if ones else st.just([])):
        flipped[v] = 10 - flipped[v]  # 1 ↔ 9
    a, b = recommend(_assessment(scores), criteria), recommend(_assessment(flipped), criteria)
    assert (a.step, a.need_level.level, a.services) == (b.step, b.need_level.level, b.services)


# -- reordering and re-splitting the criteria files ---------------------------------------------


def _shuffled(value: Any, rng: random.Random) -> Any:
    """The same YAML data with every mapping and every list in a random order: no order in the
    criteria files carries meaning (steps are numbers; `any_of`, `all_of`, `variables` are sets,
    and a reference list is kept as given — so references are left alone)."""
    if isinstance(value, dict):
        items = [(k, _shuffled(v, rng)) for k, v in value.items()]
        rng.shuffle(items)
        return dict(items)
    if isinstance(value, list):
        out = [_shuffled(v, rng) for v in value]
        if not any(isinstance(v, dict) and "title" in v for v in out):
            rng.shuffle(out)
        return out
    return value


def _rewrite(target: Path, seed: int, one_file: bool) -> Path:
    rng = random.Random(seed)
    parts: dict[str, Any] = {}
    for file in sorted(default_criteria_dir().glob("*.yaml")):
        parts.update(yaml.safe_load(file.read_text(encoding="utf-8")))
    parts = _shuffled(parts, rng)
    target.mkdir()
    if one_file:
        (target / "alt.yaml").write_text(yaml.safe_dump(parts, allow_unicode=True), "utf-8")
    else:
        for i, (name, part) in enumerate(parts.items()):
            text = yaml.safe_dump({name: part}, allow_unicode=True, sort_keys=False)
            (target / f"del_{i}.yaml").write_text(text, "utf-8")
    return target


@pytest.mark.parametrize(("seed", "one_file"), [(1, True), (2, False), (3, False)])
def test_reordered_criteria_files_give_the_same_version_and_recommendations(
    tmp_path: Path, seed: int, one_file: bool, criteria: CriteriaVersion
) -> None:
    shuffled = load_criteria(_rewrite(tmp_path / "k", seed, one_file)).at(DAY)
    assert shuffled.id == criteria.id
    rng = random.Random(seed)
    for _ in range(300):
        scores = {v: rng.choice(SCORES) for v in IPLOS_VARIABLES}
        assert recommend(_assessment(scores), criteria) == recommend(_assessment(scores), shuffled)


def test_the_version_id_does_not_depend_on_the_folder(tmp_path: Path) -> None:
    copy = tmp_path / "kopi"
    shutil.copytree(default_criteria_dir(), copy)
    assert load_criteria(copy).at(DAY).id == load_criteria().at(DAY).id
