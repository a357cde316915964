from __future__ import annotations

from pathlib import Path

import pytest

from inspector.config import InspectorConfig
from inspector.core.data.synthetic import generate_patch_dataset


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three classes of small synthetic patches: a plain folder, one sub-folder per class."""
    root = tmp_path_factory.mktemp("tiny") / "data"
    generate_patch_dataset(root, per_class=14, seed=3, size=48,
                           classes=("ok", "short", "missing_hole"))
    return root


@pytest.fixture
def tiny_config() -> InspectorConfig:
    """32 px inputs, two short epochs; no ImageNet weights exist in the test environment, so
    this also exercises the no-weights path (a warning, every layer trained)."""
    config = InspectorConfig()
    config.model.input_size = 32
    config.train.epochs = 2
    config.train.batch_size = 8
    config.train.workers = 0
    config.train.warmup_epochs = 0.5
    config.train.patience = 0
    return config
