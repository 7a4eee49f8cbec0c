"""Shared fixtures: the default parameters and helpers to write input directories."""

from __future__ import annotations

import atexit
import csv
import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import Phase
from hypothesis import settings as hypothesis_settings

from sio import i18n
from sio.data.tables import TABLES
from sio.parameters import ParameterSet, load_parameters

# The tests never write into the real home directory: the user data directory (where the store's
# default SQLite file and the casework pseudonym key live, found with platformdirs, which reads
# XDG_DATA_HOME) is a temporary folder of this test run, inherited by every subprocess.
_DATA_HOME = tempfile.mkdtemp(prefix="sio-tests-data-")
os.environ["XDG_DATA_HOME"] = _DATA_HOME
atexit.register(shutil.rmtree, _DATA_HOME, ignore_errors=True)

# `make mutation` sets SIO_MUTATION=1: each property then draws at most this many examples, so
# the tests run for every mutant in seconds (docs/mutation-testing.md). `make test` draws them all.
MUTATION_EXAMPLES = 4


def max_examples(n: int) -> int:
    """The number of hypothesis examples of a property: n, or fewer in the mutation run."""
    return min(n, MUTATION_EXAMPLES) if os.environ.get("SIO_MUTATION") == "1" else n


@pytest.fixture(autouse=True)
def _norwegian() -> None:
    i18n.set_language("nb")


@pytest.fixture(scope="session")
def params() -> ParameterSet:
    return load_parameters()


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def write_input(
    directory: Path,
    tables: Mapping[str, Sequence[Mapping[str, Any]]],
    only_present: bool = False,
) -> Path:
    """Write input tables as CSV files with the columns of interfaces.md §1, in order.

    With `only_present`, a column that no row names is left out of the file (to test a missing
    column); otherwise every column is written and a missing key is an empty cell. Optional
    columns are written when a row names them."""
    directory.mkdir(parents=True, exist_ok=True)
    for spec in TABLES:
        rows = tables.get(spec.name)
        if rows is None:
            if spec.optional:
                continue
            rows = []
        with (directory / f"{spec.name}.csv").open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, lineterminator="\n")
            cols = spec.columns + tuple(
                c for c in getattr(spec, "optional_columns", ()) if any(c in r for r in rows)
            )
            if only_present and rows:
                cols = tuple(c for c in spec.columns if any(c in r for r in rows))
            w.writerow(cols)
            for r in rows:
                w.writerow([_cell(r.get(c)) for c in cols])
    return directory


# Property tests are judged by what they assert, not by how fast one example runs: a deadline
# (hypothesis' default is 200 ms) only makes them fail on a busy machine.
hypothesis_settings.register_profile("sio", deadline=None)
hypothesis_settings.load_profile("sio")

if os.environ.get("SIO_MUTATION") == "1":
    # the same few examples for every mutant (loaded after "sio", which would replace it), and no
    # shrinking: a failing example already kills the mutant, shrinking it only costs CPU time
    hypothesis_settings.register_profile(
        "mutation",
        parent=hypothesis_settings.get_profile("sio"),
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
    )
    hypothesis_settings.load_profile("mutation")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Close the browser the browser tests share (`web_support.browser`), if one was started."""
    import sys

    support = sys.modules.get("web_support")
    if support is not None:
        support.close_browser()
