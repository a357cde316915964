from __future__ import annotations

import pytest

from inspector.core.training.checkpoint import save_untrained_model

CLASSES = ["missing_hole", "ok", "short"]


def _checkpoint(folder, size: int):
    path = folder / "best.safetensors"
    save_untrained_model(path, CLASSES, size)
    return path


@pytest.fixture(scope="session")
def random_checkpoint(tmp_path_factory):
    """A checkpoint of a random-weight model at 64 px (enough to test plumbing, not accuracy)."""
    return _checkpoint(tmp_path_factory.mktemp("model"), 64)


@pytest.fixture(scope="session")
def small_checkpoint(tmp_path_factory):
    """The same at 32 px, for loops over many frames."""
    return _checkpoint(tmp_path_factory.mktemp("model32"), 32)
