"""The aggregate need level (bistandsbehov, samlemål) from the 17 IPLOS scores (scheme.md §4.2).

The grouping is data (`need_level` in the criteria files): `omfattende` if its condition holds,
else `middels_til_stort` if its condition holds, else `noe_avgrenset`. Both conditions only say
"at least", with 9 counted as 1, so higher scores never give a lower group.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from sio.criteria.conditions import Facts, NeedLevel, explain, holds, mean_score, need_level_label
from sio.criteria.iplos import IPLOS_VARIABLES, IplosScores
from sio.criteria.model import NeedLevelRule
from sio.i18n import _


class NeedLevelResult(BaseModel):
    """The need level with the figures and the statements behind it."""

    model_config = ConfigDict(frozen=True)

    level: NeedLevel
    label: str
    mean_score: float
    scores_3_or_more: int
    scores_4_or_more: int
    reasons: tuple[str, ...]


def classify(scores: IplosScores, rule: NeedLevelRule) -> NeedLevel:
    """Only the group: `omfattende`, `middels_til_stort` or `noe_avgrenset`."""
    facts = Facts(scores.effective())
    if holds(rule.omfattende, facts):
        return "omfattende"
    if holds(rule.middels_til_stort, facts):
        return "middels_til_stort"
    return "noe_avgrenset"


def need_level(scores: IplosScores, rule: NeedLevelRule) -> NeedLevelResult:
    """The group with its reasons in plain language (in the current language)."""
    effective = scores.effective()
    facts = Facts(effective)
    level = classify(scores, rule)
    if level == "noe_avgrenset":
        why = [_("neither the condition for medium to large nor for extensive need is met")]
    else:
        why = explain(getattr(rule, level), facts)
    label = need_level_label(level)
    head = _("Aggregate need level: {level}").format(level=label)
    return NeedLevelResult(
        level=level,
        label=label,
        mean_score=round(float(mean_score(effective, IPLOS_VARIABLES)), 2),
        scores_3_or_more=sum(v >= 3 for v in effective.values()),
        scores_4_or_more=sum(v >= 4 for v in effective.values()),
        reasons=(head, *why),
    )
