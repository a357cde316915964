from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def cases(tmp_path: Path) -> Path:
    """A folder for the generated bad inputs of one test."""
    folder = tmp_path / "cases"
    folder.mkdir()
    return folder
