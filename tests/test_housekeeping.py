"""Housekeeping a user notices: the tests never write into the real home directory (the store's
default SQLite file and the casework pseudonym key go to the user data directory, which the tests
point at a temporary folder through XDG_DATA_HOME, see conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from platformdirs import user_data_dir


def test_the_user_data_directory_of_the_tests_is_a_temporary_folder() -> None:
    data = Path(user_data_dir("sio", appauthor=False))
    assert data.parent == Path(os.environ["XDG_DATA_HOME"])
    assert not data.is_relative_to(Path.home())


def test_the_pseudonym_key_and_the_default_store_land_in_the_temporary_folder() -> None:
    env = {
        k: v for k, v in os.environ.items() if k not in ("SIO_PSEUDONYM_KEY", "SIO_DATABASE_URL")
    }
    code = (
        "from sio.casework.security import pseudonym_key; from sio.store.db import database_url;"
        "assert len(pseudonym_key()) >= 32; print(database_url())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    folder = Path(os.environ["XDG_DATA_HOME"]) / "sio"
    assert (folder / "pseudonym.key").is_file()
    assert result.stdout.strip() == f"sqlite:///{folder / 'sio.db'}"
