"""The validated, typed input data that the rules compute on."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class InputData:
    """All input tables, typed and checked (see `sio.data.validation`).

    Columns and types:
    - kommuner: kommunenummer Utf8, navn Utf8, gyldig_fra Date, gyldig_til Date?, aga_sone Utf8,
      reiseindeks Utf8 (exact decimal text), etterfolger Utf8?, organisasjonsnummer Utf8? (the
      compact 9-digit form; null when the cell is empty or the file has no such column)
    - deltakelse: kommunenummer, modell ("A"/"B"), fra Date, til Date?, aktivitet_fra Date
      (filled: = fra when empty), covid_saerordning Boolean (filled: empty = true)
    - utgifter: kommunenummer, aar Int32, kostra_funksjon Utf8, netto_driftsutgifter Int64
    - befolkning: kommunenummer, aar Int32, aldersgruppe Utf8, antall Int64
    - toppfinansiering: kommunenummer, aar Int32, beloep Int64 (empty frame if no file)
    - prosjektkostnader: kommunenummer, aar Int32, beloep Int64 — the part of the supplement
      spent on running the project (optional file; checked against the spending limit)
    - vedtak: vedtak_id, person_id, kommunenummer, tjeneste, prisgruppe (filled: STANDARD),
      omfang Float64, omfang_tekst Utf8 (exact decimal text), enhet, fra Date, til Date?,
      line Int64 (the line in the input file), and the kernel's derived columns gid, _fra, _til,
      _q, _m (see `sio.rules.aktivitetstilskudd.with_derived`)
    - kartlegging (None if the input has no assessment): person_id Utf8, kommunenummer Utf8,
      dato Date, the 17 IPLOS scores (`sio.data.tables.IPLOS_COLUMNS`) Int8 (1–5 or 9; null
      where the source gave only a level), behovsniva Utf8 (always filled: computed from the
      scores where there are scores, else as given), skaarer Boolean (whether the row has
      scores); sorted by person_id, dato (docs/evaluation-data.md)
    - personer (None if the input has no persons): person_id Utf8, foedselsaar Int32,
      kjoenn Utf8? ("K"/"M"), bor_alene Boolean?; sorted by person_id
    """

    kommuner: pl.DataFrame
    deltakelse: pl.DataFrame
    utgifter: pl.DataFrame
    befolkning: pl.DataFrame
    toppfinansiering: pl.DataFrame
    vedtak: pl.DataFrame
    prosjektkostnader: pl.DataFrame | None = None  # kommunenummer, aar, beloep (optional file)
    vedtak_groups: pl.DataFrame | None = None  # gid → kommunenummer, tjeneste, prisgruppe
    kartlegging: pl.DataFrame | None = None  # IPLOS assessments (optional file)
    personer: pl.DataFrame | None = None  # birth year, sex, living alone (optional file)
    source: str = ""
