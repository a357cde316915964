from __future__ import annotations

import pytest

from inspector.config import InspectorConfig


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
