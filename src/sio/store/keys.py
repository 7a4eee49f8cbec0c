"""The key of each stored input table: a row with the same key in a later data version
supersedes the earlier one. Kept apart from the table definitions (`sio.store.schema`) so that
reading a version from its columnar copy (`sio.store.columns`, `sio.store.direct`) does not need
SQLAlchemy."""

from __future__ import annotations

__all__ = ["KEYS"]

KEYS: dict[str, tuple[str, ...]] = {
    "kommuner": ("kommunenummer",),
    "deltakelse": ("kommunenummer", "fra"),
    "utgifter": ("kommunenummer", "aar", "kostra_funksjon"),
    "befolkning": ("kommunenummer", "aar", "aldersgruppe"),
    "toppfinansiering": ("kommunenummer", "aar"),
    "prosjektkostnader": ("kommunenummer", "aar"),
    "vedtak": ("vedtak_id",),
    # migration 0005 (docs/evaluation-data.md): one assessment per person and day, one row a person
    "kartlegging": ("person_id", "dato"),
    "personer": ("person_id",),
}
