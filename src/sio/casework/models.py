"""The JSON shapes of the casework API (request and response models; field names Norwegian as
the glossary has them, so that the coming pages and integrations use the case-worker's words)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    field_validator,
)
from pydantic_core import PydanticCustomError

Rolle = Literal["saksbehandler", "okonomi", "direktorat", "evaluator", "admin"]
Enhet = Literal["timer_per_uke", "doegn", "timer_per_maaned", "per_maaned"]
# ASCII digits only: `\d` would also take other scripts' digits (Arabic-Indic, full-width …)
KOMMUNENUMMER = r"^[0-9]{4}$"
# Dates the service accepts: wide, but far enough from the ends of the calendar that deadlines
# and re-evaluation dates computed from them stay dates.
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2199, 12, 31)
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_day(value: Any) -> Any:
    """A date as the document writes it (`format: date`, YYYY-MM-DD), or a date object; not the
    other forms pydantic would take as a date (a number of seconds since 1970 such as `0`, a
    time of day with it), which the document does not promise."""
    if (isinstance(value, dt.date) and not isinstance(value, dt.datetime)) or (
        isinstance(value, str) and ISO_DAY.fullmatch(value)
    ):
        return value
    raise PydanticCustomError("date_parsing", "must be a date YYYY-MM-DD")


Dato = Annotated[dt.date, BeforeValidator(_iso_day), Field(ge=FIRST_DAY, le=LAST_DAY)]
# The examples walk one case (docs/casework.md): a person with some needs in daily chores
IPLOS_EXAMPLE: dict[str, Any] = {
    "sosial_deltakelse": 1,
    "beslutninger_dagliglivet": 1,
    "styre_atferd": 1,
    "alminnelig_husarbeid": 3,
    "skaffe_varer": 3,
    "personlig_hygiene": 2,
    "av_og_paakledning": 1,
    "spise": 1,
    "lage_mat": 2,
    "ivareta_egen_helse": 2,
    "bevege_seg_innendoers": 1,
    "bevege_seg_utendoers": 2,
    "toalett": 1,
    "hukommelse": 1,
    "kommunikasjon": 1,
    "syn": 1,
    "hoersel": 9,
}


def _no_nul(schema: dict[str, Any]) -> None:
    """Say in the document what `_storable_text` refuses: text fields have no NUL."""
    for prop in schema.get("properties", {}).values():
        for alt in [prop, *prop.get("anyOf", [])]:
            if alt.get("type") == "string" and "pattern" not in alt and "format" not in alt:
                alt["pattern"] = "^[^\\u0000]*$"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @classmethod
    def __get_pydantic_json_schema__(cls, core: Any, handler: GetJsonSchemaHandler) -> Any:
        schema = handler.resolve_ref_schema(handler(core))
        _no_nul(schema)
        return schema

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        """Text the databases can store: no NUL (PostgreSQL refuses it; lone surrogates are
        refused by pydantic already)."""
        if isinstance(value, str) and "\x00" in value:
            raise PydanticCustomError("text_characters", "text with characters not allowed")
        return value


class Innlogging(_In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"brukernavn": "kari.stjordal", "passord": "riktig-hest-batteri-stift"}]
        }
    )

    brukernavn: str = Field(min_length=1, max_length=100)
    passord: str = Field(min_length=1, max_length=200)


class Meg(BaseModel):
    brukernavn: str
    rolle: Rolle
    kommunenummer: str | None
    innlogget_med: Literal["okt", "token"]
    csrf_token: str | None = Field(
        None, description="Sendes som X-CSRF-Token på skrivende kall med øktcookie"
    )


class NyKonto(_In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "brukernavn": "kari.stjordal",
                    "passord": "riktig-hest-batteri-stift",
                    "rolle": "saksbehandler",
                    "kommunenummer": "5035",
                }
            ]
        }
    )

    brukernavn: str = Field(min_length=3, max_length=100, pattern=r"^[a-zA-Z0-9._@-]+$")
    passord: str = Field(min_length=12, max_length=200)
    rolle: Rolle
    kommunenummer: str | None = Field(None, pattern=KOMMUNENUMMER)


class KontoEndring(_In):
    model_config = ConfigDict(json_schema_extra={"examples": [{"aktiv": True}]})

    passord: str | None = Field(None, min_length=12, max_length=200)
    aktiv: bool | None = None
    rolle: Rolle | None = None
    kommunenummer: str | None = Field(None, pattern=KOMMUNENUMMER)


class Konto(BaseModel):
    id: int
    brukernavn: str
    rolle: Rolle
    kommunenummer: str | None
    aktiv: bool


class NyToken(_In):
    model_config = ConfigDict(json_schema_extra={"examples": [{"navn": "fagsystem", "dager": 90}]})

    navn: str = Field(min_length=1, max_length=100)
    dager: int = Field(90, ge=1, le=365, description="Gyldighet i dager")


class Token(BaseModel):
    id: int
    navn: str
    opprettet: dt.datetime
    utloper: dt.datetime
    tilbakekalt: dt.datetime | None


class NyTokenSvar(Token):
    token: str = Field(description="Vises bare én gang")


class NySak(_In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "fodselsnummer": "02014010125",
                    "mottatt": "2020-09-01",
                    "henvendelse": "Trenger hjelp til rengjøring og innkjøp etter hoftebrudd",
                }
            ]
        }
    )

    fodselsnummer: str = Field(min_length=11, max_length=13, description="Fødselsnummer/D-nummer")
    mottatt: Dato
    henvendelse: str = Field(min_length=1, max_length=4000, description="Hva det søkes om")


class PersonUt(BaseModel):
    pseudonym: str
    fodselsnummer: str | None
    fodselsdato_maskert: str | None


class KartleggingUt(BaseModel):
    id: int
    skaarer: dict[str, int]
    kartlagt_dato: dt.date
    kartlagt_av: str
    signert_dato: dt.date
    hva_er_viktig: str | None


class AnbefalingUt(BaseModel):
    id: int
    kartlegging_id: int
    kriterieversjon: str
    resultat: dict[str, Any]


class VedtakUt(BaseModel):
    id: int
    vedtak_id: str
    erstatter: int | None
    tjeneste: str
    prisgruppe: str | None
    omfang: str
    enhet: str
    fra: dt.date
    til: dt.date | None
    maal: str | None
    revurderes: dt.date
    vedtaksdato: dt.date
    plassering: Literal["within", "below", "above", "other"]
    avviksbegrunnelse: str | None
    avvikstekst: str | None
    kriterieversjon: str
    data_versjon: int


class RevurderingUt(BaseModel):
    id: int
    dato: dt.date
    vurdering: str | None


class Sak(BaseModel):
    id: int
    kommunenummer: str
    mottatt: dt.date
    henvendelse: str | None
    foreloepig_svar: dt.date | None
    status: Literal["mottatt", "kartlagt", "anbefalt", "vedtatt"]
    kriterieversjon: str | None
    person: PersonUt
    kartlegginger: list[KartleggingUt]
    anbefalinger: list[AnbefalingUt]
    vedtak: list[VedtakUt]
    revurderinger: list[RevurderingUt]


class SakSammendrag(BaseModel):
    id: int
    kommunenummer: str
    mottatt: dt.date
    pseudonym: str


class Saksliste(BaseModel):
    side: int
    per_side: int
    totalt: int
    saker: list[SakSammendrag]


class NyKartlegging(_In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "skaarer": IPLOS_EXAMPLE,
                    "kartlagt_dato": "2020-09-08",
                    "kartlagt_av": "Kari Kartlegger",
                    "signert_dato": "2020-09-08",
                    "hva_er_viktig": "Å bo hjemme og gå tur med hunden",
                }
            ]
        }
    )

    skaarer: dict[str, int] = Field(description="IPLOS-skår 1–5 eller 9 for alle 17 variabler")
    kartlagt_dato: Dato
    kartlagt_av: str = Field(min_length=1, max_length=200)
    signert_dato: Dato
    hva_er_viktig: str = Field("", max_length=4000, description="«Hva er viktig for deg?»")


class KartleggingKvittering(BaseModel):
    id: int
    sak_id: int
    kartlagt_dato: dt.date


class AnbefalingKvittering(BaseModel):
    id: int
    sak_id: int
    kartlegging_id: int
    kriterieversjon: str
    resultat: dict[str, Any]


class NyttVedtak(_In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "tjeneste": "PB_DAGL",
                    "omfang": "1.5",
                    "enhet": "timer_per_uke",
                    "fra": "2020-10-01",
                    "maal": "Klare seg hjemme etter hoftebruddet",
                    "vedtaksdato": "2020-09-15",
                }
            ]
        }
    )

    tjeneste: str = Field(min_length=1, max_length=40, pattern=r"^[A-Z0-9_]+$")
    prisgruppe: str | None = Field(None, min_length=1, max_length=40, pattern=r"^[A-Z0-9_]+$")
    omfang: Decimal = Field(gt=0, le=100000, max_digits=12, decimal_places=4)
    enhet: Enhet
    fra: Dato
    til: Dato | None = None
    maal: str = Field("", max_length=4000, description="Mål for tjenesten")
    revurderes: Dato | None = None
    vedtaksdato: Dato | None = None
    avviksbegrunnelse: str | None = Field(None, max_length=60)
    avvikstekst: str | None = Field(None, max_length=4000)


class Vedtaksendring(NyttVedtak):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "tjeneste": "PB_DAGL",
                    "omfang": "1",
                    "enhet": "timer_per_uke",
                    "fra": "2020-10-01",
                    "maal": "Klare seg hjemme etter hoftebruddet",
                    "vedtaksdato": "2020-11-15",
                }
            ]
        }
    )

    pass


class NyRevurdering(_In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"dato": "2021-09-15", "vurdering": "Behovet er uendret; vedtaket fortsetter"}
            ]
        }
    )

    dato: Dato
    vurdering: str = Field(min_length=1, max_length=4000)


class RevurderingKvittering(BaseModel):
    id: int
    sak_id: int
    dato: dt.date


class ForeloepigSvar(_In):
    model_config = ConfigDict(json_schema_extra={"examples": [{"dato": "2020-09-03"}]})

    dato: Dato


class Forfalt(BaseModel):
    sak_id: int
    kommunenummer: str
    steg: str
    frist: dt.date
    dager_over: int
    vedtak_id: str | None = None


class Avvik(BaseModel):
    kommunenummer: str
    kriterieversjon: str
    vedtak: int
    avvik: int
    andel_avvik: float


class PseudonymtVedtak(VedtakUt):
    kommunenummer: str
    pseudonym: str


class Innsynsbegjaering(_In):
    model_config = ConfigDict(json_schema_extra={"examples": [{"fodselsnummer": "02014010125"}]})

    fodselsnummer: str = Field(min_length=11, max_length=13)


class Loggrad(BaseModel):
    tidspunkt: dt.datetime
    brukernavn: str
    rolle: str
    handling: str
    ressurs: str
    sak_id: int | None
    begrunnelse: str


class Kriterieversjon(BaseModel):
    id: str
    gyldig_fra: dt.date
    tjenester: list[dict[str, Any]]
    avviksbegrunnelser: list[dict[str, str]]


class Feil(BaseModel):
    detail: str


class FeltfeilRad(BaseModel):
    loc: list[str | int] = Field(
        description="Hvor feilen er: body, query, path eller header + felt"
    )
    msg: str = Field(description="Hva som er galt, på norsk")
    type: str = Field(description="Feiltypen, for programmer")


class Feltfeil(BaseModel):
    detail: list[FeltfeilRad]
