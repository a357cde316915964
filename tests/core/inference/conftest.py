from __future__ import annotations

import pytest
import torch

from inspector.config import ModelConfig
from inspector.core.models import build_model
from inspector.core.training.checkpoint import new_meta, save_checkpoint

CLASSES = ["missing_hole", "ok", "short"]


def _checkpoint(folder, size: int):
    torch.manual_seed(0)
    config = ModelConfig(input_size=size)
    model = build_model(config, len(CLASSES)).eval()
    path = folder / "best.safetensors"
    meta = new_meta(architecture="resnet50_cbam", classes=CLASSES, input_size=size,
                    normalization={"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
                    model_config=config.model_dump(mode="json"), temperature=1.0)
    save_checkpoint(path, meta, model.state_dict())
    return path


@pytest.fixture(scope="session")
def random_checkpoint(tmp_path_factory):
    """A checkpoint of a random-weight model at 64 px (enough to test plumbing, not accuracy)."""
    return _checkpoint(tmp_path_factory.mktemp("model"), 64)


@pytest.fixture(scope="session")
def small_checkpoint(tmp_path_factory):
    """The same at 32 px, for loops over many frames."""
    return _checkpoint(tmp_path_factory.mktemp("model32"), 32)
