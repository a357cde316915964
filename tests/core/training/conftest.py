from __future__ import annotations

import pytest
from helpers import tiny_training_config

from inspector.config import InspectorConfig


@pytest.fixture
def tiny_config() -> InspectorConfig:
    return tiny_training_config()
