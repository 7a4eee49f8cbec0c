"""Allocation criteria (tildelingskriterier): the IPLOS assessment, the aggregate need level, the
care ladder with service criteria and the LEON recommendation, justifications for deviating and
the process deadlines (scheme.md §4) — versioned data plus pure functions, no I/O beyond reading
the criteria files.

Typical use (e.g. by the casework service)::

    criteria = load_criteria()                      # or load_criteria(path_to_users_files)
    version = criteria.at(assessment.assessed_on)   # record version.id on the case
    rec = recommend(assessment, version)
    check = check_decision(rec, version, "HJSPL", 4.0, "timer_per_uke")
"""

from sio.criteria.conditions import NEED_LEVELS, NeedLevel, need_level_label
from sio.criteria.deadlines import (
    DeadlineStatus,
    assessment_due,
    case_deadlines,
    decision_due,
    overdue,
    reevaluation_due,
)
from sio.criteria.iplos import (
    IPLOS_VARIABLES,
    SCORES,
    Assessment,
    IplosScores,
    effective_score,
    variable_name,
)
from sio.criteria.leon import (
    DecisionCheck,
    FieldProblem,
    Reason,
    Recommendation,
    ServiceRecommendation,
    check_decision,
    indicated,
    recommend,
    recommend_on,
)
from sio.criteria.loader import (
    CriteriaError,
    CriteriaLookupError,
    CriteriaSet,
    default_criteria_dir,
    load_criteria,
)
from sio.criteria.model import (
    CareLadder,
    CriteriaVersion,
    Deadline,
    Justification,
    NeedLevelRule,
    ProcessDeadlines,
    ServiceCriterion,
    VolumeRange,
)
from sio.criteria.need_level import NeedLevelResult, classify, need_level

__all__ = [
    "IPLOS_VARIABLES",
    "NEED_LEVELS",
    "SCORES",
    "Assessment",
    "CareLadder",
    "CriteriaError",
    "CriteriaLookupError",
    "CriteriaSet",
    "CriteriaVersion",
    "Deadline",
    "DeadlineStatus",
    "DecisionCheck",
    "FieldProblem",
    "IplosScores",
    "Justification",
    "NeedLevel",
    "NeedLevelResult",
    "NeedLevelRule",
    "ProcessDeadlines",
    "Reason",
    "Recommendation",
    "ServiceCriterion",
    "ServiceRecommendation",
    "VolumeRange",
    "assessment_due",
    "case_deadlines",
    "check_decision",
    "classify",
    "decision_due",
    "default_criteria_dir",
    "effective_score",
    "indicated",
    "load_criteria",
    "need_level",
    "need_level_label",
    "overdue",
    "recommend",
    "recommend_on",
    "reevaluation_due",
    "variable_name",
]
