"""The IPLOS needs assessment (kartlegging): the 17 function variables, their scores, and the
assessment record a caseworker makes with the person (scheme.md §4.2).

`IplosScores` is the single source of the 17 variables: its fields, in the official IPLOS order,
are the variable identifiers (Norwegian, ASCII, as the glossary asks); `IPLOS_VARIABLES` and the
Norwegian names are read from it. A score is 1–5 (1 = no need of assistance … 5 = full
assistance) or 9 (not relevant). Where scores are compared or summed, 9 counts as 1 (see
`effective_score`): "not relevant" means no need of personal assistance when assessed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from sio.i18n import _

SCORES: tuple[int, ...] = (1, 2, 3, 4, 5, 9)
NOT_RELEVANT = 9
NOT_RELEVANT_COUNTS_AS = 1
WHAT_MATTERS_MAX = 5000


def _score(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or str(value).strip() == "":
        raise PydanticCustomError(
            "iplos_score",
            _("an IPLOS score must be 1, 2, 3, 4, 5 or 9 (9 = not relevant), not {value}"),
            {"value": repr(value)},
        )
    text = str(value).strip()
    if not text.isdigit() or int(text) not in SCORES:
        raise PydanticCustomError(
            "iplos_score",
            _("an IPLOS score must be 1, 2, 3, 4, 5 or 9 (9 = not relevant), not {value}"),
            {"value": repr(value)},
        )
    return int(text)


Score = Annotated[
    int,
    BeforeValidator(_score),
    WithJsonSchema({"type": "integer", "enum": list(SCORES)}),
]


def _var(title: str, english: str) -> Any:
    return Field(title=title, description=english)


class IplosScores(BaseModel):
    """The 17 IPLOS function variables, each scored 1–5 or 9. Field order is the IPLOS order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sosial_deltakelse: Score = _var("Sosial deltakelse", "Social participation")
    beslutninger_dagliglivet: Score = _var("Beslutninger i dagliglivet", "Daily-life decisions")
    styre_atferd: Score = _var("Styre atferd", "Behaviour control")
    alminnelig_husarbeid: Score = _var("Alminnelig husarbeid", "Housework")
    skaffe_varer: Score = _var("Skaffe seg varer og tjenester", "Shopping")
    personlig_hygiene: Score = _var("Personlig hygiene", "Personal hygiene")
    av_og_paakledning: Score = _var("Av- og påkledning", "Dressing")
    spise: Score = _var("Spise", "Eating")
    lage_mat: Score = _var("Lage mat", "Cooking")
    ivareta_egen_helse: Score = _var("Ivareta egen helse", "Own health")
    bevege_seg_innendoers: Score = _var("Bevege seg innendørs", "Moving indoors")
    bevege_seg_utendoers: Score = _var("Bevege seg utendørs", "Moving outdoors")
    toalett: Score = _var("Toalett", "Toilet")
    hukommelse: Score = _var("Hukommelse", "Memory")
    kommunikasjon: Score = _var("Kommunikasjon", "Communication")
    syn: Score = _var("Syn", "Vision")
    hoersel: Score = _var("Hørsel", "Hearing")

    def as_dict(self) -> dict[str, int]:
        """The scores by variable, in IPLOS order."""
        return {name: int(getattr(self, name)) for name in IPLOS_VARIABLES}

    def effective(self) -> dict[str, int]:
        """The scores with 9 (not relevant) counted as 1, for comparisons and means."""
        return {k: effective_score(v) for k, v in self.as_dict().items()}


IPLOS_VARIABLES: tuple[str, ...] = tuple(IplosScores.model_fields)
VARIABLE_NAMES: dict[str, str] = {
    name: str(info.title) for name, info in IplosScores.model_fields.items()
}


def score_meaning(score: int, _: Callable[[str], str] = _) -> str:
    """What a score level means, after Helsedirektoratet's IPLOS scoring guide (1–2: no need of
    personal assistance, 3–5: a need of it, 9: not relevant), through the translation function
    `_` (default: the current language)."""
    meanings = {
        1: _("No problems: manages the activity on their own, no need of assistance"),
        2: _("Some problems or a need of adaptation, but no need of personal assistance"),
        3: _("Needs personal assistance with parts of the activity"),
        4: _("Needs personal assistance with most of the activity"),
        5: _("Does not do the activity: needs assistance with all of it"),
        9: _("Not relevant"),
    }
    return meanings[score]


def effective_score(score: int) -> int:
    """The score used in comparisons and means: 9 (not relevant) counts as 1 (no need)."""
    return NOT_RELEVANT_COUNTS_AS if score == NOT_RELEVANT else score


def variable_name(variable: str) -> str:
    """The Norwegian IPLOS name of a variable identifier (the identifier if unknown)."""
    return VARIABLE_NAMES.get(variable, variable)


class Assessment(BaseModel):
    """A dated, signed IPLOS assessment (kartlegging) with what matters to the person."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    scores: IplosScores = Field(description="IPLOS-skår for de 17 funksjonsvariablene")
    assessed_on: dt.date = Field(description="Kartleggingsdato")
    assessor: str = Field(
        min_length=1, max_length=200, description="Kartlagt av (navn eller brukerident)"
    )
    signed_on: dt.date = Field(description="Dato kartleggingen ble signert")
    what_matters: str = Field(
        default="",
        max_length=WHAT_MATTERS_MAX,
        description="«Hva er viktig for deg?» — med personens egne ord",
    )

    @field_validator("assessor")
    @classmethod
    def _assessor_named(cls, value: str) -> str:
        if not value.strip():
            raise PydanticCustomError("assessor", _("the assessor must be named"))
        return value

    @field_validator("signed_on")
    @classmethod
    def _signed_after_assessment(cls, value: dt.date, info: ValidationInfo) -> dt.date:
        assessed = info.data.get("assessed_on")
        if isinstance(assessed, dt.date) and value < assessed:
            raise PydanticCustomError(
                "signed_before_assessed",
                _("the assessment is signed ({signed}) before it was made ({assessed})"),
                {"signed": value.isoformat(), "assessed": assessed.isoformat()},
            )
        return value


def scores_from_mapping(scores: Mapping[str, int]) -> IplosScores:
    """Build `IplosScores` from a mapping (order irrelevant); raises pydantic's ValidationError."""
    return IplosScores.model_validate(dict(scores))
