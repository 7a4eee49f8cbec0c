"""Conditions on an assessment: the small rule language of the criteria files.

A condition is a mapping with exactly one key:

- `scores_at_least: {min_score: 3, count: 1, variables: [...]}` — at least `count` of the listed
  IPLOS variables (all 17 if `variables` is left out) have a score of `min_score` or more;
- `mean_at_least: {value: 2.5, variables: [...]}` — the mean score of the listed variables (all 17
  if left out) is at least `value`;
- `need_level_at_least: middels_til_stort` — the aggregate need level is at least this group;
- `all_of: [conditions]` / `any_of: [conditions]`.

In both tests 9 (not relevant) counts as 1. There is no negation and every test is "at least", so
a condition that holds for an assessment holds for every assessment with scores at least as high
and a need level at least as high: this is what makes the care ladder monotone in need.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from sio.criteria.iplos import IPLOS_VARIABLES, variable_name
from sio.i18n import _

NeedLevel = Literal["noe_avgrenset", "middels_til_stort", "omfattende"]
NEED_LEVELS: tuple[NeedLevel, ...] = ("noe_avgrenset", "middels_til_stort", "omfattende")


def need_level_rank(level: NeedLevel) -> int:
    """0, 1 or 2: the position of a need level from lowest to highest."""
    return NEED_LEVELS.index(level)


def need_level_label(level: NeedLevel) -> str:
    """The need level in words, in the current language."""
    labels = {
        "noe_avgrenset": _("some/limited need of assistance"),
        "middels_til_stort": _("medium to large need of assistance"),
        "omfattende": _("extensive need of assistance"),
    }
    return labels[level]


def _known_variable(name: str) -> str:
    if name not in IPLOS_VARIABLES:
        raise PydanticCustomError(
            "iplos_variable",
            _("unknown IPLOS variable {name}; the variables are: {known}"),
            {"name": name, "known": ", ".join(IPLOS_VARIABLES)},
        )
    return name


IplosVariable = Annotated[str, AfterValidator(_known_variable)]


def _iplos_order(names: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """Variables in IPLOS order (the order in a file carries no meaning); unknown ones last."""
    if names is None:
        return None
    rank = {v: i for i, v in enumerate(IPLOS_VARIABLES)}
    return tuple(sorted(names, key=lambda n: (rank.get(n, len(rank)), n)))


def _no_duplicates(names: tuple[str, ...]) -> None:
    if not names:
        raise PydanticCustomError("empty", _("the list of variables is empty"))
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise PydanticCustomError(
            "duplicate", _("a variable is listed twice: {names}"), {"names": ", ".join(twice)}
        )


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScoreRule(_Frozen):
    min_score: int = Field(ge=2, le=5)
    count: int = Field(default=1, ge=1)
    variables: tuple[IplosVariable, ...] | None = None

    def chosen(self) -> tuple[str, ...]:
        return self.variables if self.variables is not None else IPLOS_VARIABLES

    @field_validator("variables")
    @classmethod
    def _in_iplos_order(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return _iplos_order(value)

    @model_validator(mode="after")
    def _count_fits(self) -> ScoreRule:
        _no_duplicates(self.chosen())
        if self.count > len(self.chosen()):
            raise PydanticCustomError(
                "count",
                _("count {count} is more than the {n} variables listed"),
                {"count": self.count, "n": len(self.chosen())},
            )
        return self


class MeanRule(_Frozen):
    value: float = Field(ge=1, le=5)
    variables: tuple[IplosVariable, ...] | None = None

    def chosen(self) -> tuple[str, ...]:
        return self.variables if self.variables is not None else IPLOS_VARIABLES

    @field_validator("variables")
    @classmethod
    def _in_iplos_order(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return _iplos_order(value)

    @model_validator(mode="after")
    def _distinct(self) -> MeanRule:
        _no_duplicates(self.chosen())
        return self


class ScoresAtLeast(_Frozen):
    scores_at_least: ScoreRule


class MeanAtLeast(_Frozen):
    mean_at_least: MeanRule


class NeedLevelAtLeast(_Frozen):
    need_level_at_least: NeedLevel


class AllOf(_Frozen):
    all_of: tuple[Condition, ...] = Field(min_length=1)

    @field_validator("all_of")
    @classmethod
    def _canonical(cls, value: tuple[Condition, ...]) -> tuple[Condition, ...]:
        return _canonical_order(value)


class AnyOf(_Frozen):
    any_of: tuple[Condition, ...] = Field(min_length=1)

    @field_validator("any_of")
    @classmethod
    def _canonical(cls, value: tuple[Condition, ...]) -> tuple[Condition, ...]:
        return _canonical_order(value)


def _canonical_order(conditions: tuple[Condition, ...]) -> tuple[Condition, ...]:
    """Sub-conditions in one fixed order (their order carries no meaning), so that the same
    rule written in another order is equal and has the same version identifier."""
    return tuple(
        sorted(conditions, key=lambda c: json.dumps(c.model_dump(mode="json"), sort_keys=True))
    )


_TAGS = ("scores_at_least", "mean_at_least", "need_level_at_least", "all_of", "any_of")


def _tag(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return next(iter(type(value).model_fields))
    if isinstance(value, Mapping):
        keys = [k for k in value if k in _TAGS]
        return keys[0] if len(keys) == 1 and len(value) == 1 else None
    return None


Condition = Annotated[
    Annotated[ScoresAtLeast, Tag("scores_at_least")]
    | Annotated[MeanAtLeast, Tag("mean_at_least")]
    | Annotated[NeedLevelAtLeast, Tag("need_level_at_least")]
    | Annotated[AllOf, Tag("all_of")]
    | Annotated[AnyOf, Tag("any_of")],
    Discriminator(
        _tag,
        custom_error_type="condition",
        custom_error_message="a condition is a mapping with exactly one key, one of: "
        + ", ".join(_TAGS),
    ),
]

AllOf.model_rebuild()
AnyOf.model_rebuild()


@dataclass(frozen=True)
class Facts:
    """What a condition is tested against: effective scores (9 as 1) and the need level."""

    scores: Mapping[str, int]
    need_level: NeedLevel | None = None


def mean_score(scores: Mapping[str, int], variables: tuple[str, ...]) -> Fraction:
    """The exact mean of the (effective) scores of `variables`."""
    return Fraction(sum(scores[v] for v in variables), len(variables))


def holds(condition: Condition, facts: Facts) -> bool:
    """Whether the condition holds for the facts."""
    if isinstance(condition, ScoresAtLeast):
        rule = condition.scores_at_least
        return sum(facts.scores[v] >= rule.min_score for v in rule.chosen()) >= rule.count
    if isinstance(condition, MeanAtLeast):
        rule_m = condition.mean_at_least
        return mean_score(facts.scores, rule_m.chosen()) >= Fraction(str(rule_m.value))
    if isinstance(condition, NeedLevelAtLeast):
        if facts.need_level is None:
            return False
        return need_level_rank(facts.need_level) >= need_level_rank(condition.need_level_at_least)
    if isinstance(condition, AllOf):
        return all(holds(c, facts) for c in condition.all_of)
    return any(holds(c, facts) for c in condition.any_of)


def _fmt(x: Fraction | float) -> str:
    return f"{float(x):.2f}".rstrip("0").rstrip(".").replace(".", ",")


def explain(condition: Condition, facts: Facts) -> list[str]:
    """Plain-language statements of why a condition holds (empty if it does not)."""
    if not holds(condition, facts):
        return []
    if isinstance(condition, ScoresAtLeast):
        rule = condition.scores_at_least
        met = [v for v in rule.chosen() if facts.scores[v] >= rule.min_score]
        listed = ", ".join(f"{variable_name(v).lower()} {facts.scores[v]}" for v in met)
        if rule.variables is None:
            text = _("{n} of the 17 variables have a score of {min} or more ({listed})")
        else:
            text = _(
                "{n} of the variables named in the criterion have a score of {min} or more "
                "({listed})"
            )
        return [text.format(n=len(met), min=rule.min_score, listed=listed)]
    if isinstance(condition, MeanAtLeast):
        rule_m = condition.mean_at_least
        return [
            _("the mean score is {mean} (at least {value})").format(
                mean=_fmt(mean_score(facts.scores, rule_m.chosen())), value=_fmt(rule_m.value)
            )
        ]
    if isinstance(condition, NeedLevelAtLeast):
        assert facts.need_level is not None
        return [
            _("the aggregate need level is {level}").format(
                level=need_level_label(facts.need_level)
            )
        ]
    if isinstance(condition, AllOf):
        return [text for c in condition.all_of for text in explain(c, facts)]
    for c in condition.any_of:
        found = explain(c, facts)
        if found:
            return found
    return []


def mentions_need_level(condition: Condition) -> bool:
    """Whether a condition (or any part of it) tests the need level."""
    if isinstance(condition, NeedLevelAtLeast):
        return True
    if isinstance(condition, AllOf):
        return any(mentions_need_level(c) for c in condition.all_of)
    if isinstance(condition, AnyOf):
        return any(mentions_need_level(c) for c in condition.any_of)
    return False
