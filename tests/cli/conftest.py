from __future__ import annotations

import json

import pytest
import tomli_w

from inspector.cli import main
from inspector.config import InspectorConfig


@pytest.fixture(scope="package")
def trained_model(tiny_data, tmp_path_factory):
    config = InspectorConfig()
    config.train.workers = 0
    config.train.warmup_epochs = 0.5
    folder = tmp_path_factory.mktemp("cli")
    config_path = folder / "config.toml"
    config_path.write_text(tomli_w.dumps(config.model_dump(mode="json", exclude_none=True)))
    out = folder / "model"
    code = main(["train", "--data", str(tiny_data), "--out", str(out), "--config",
                 str(config_path), "--epochs", "1", "--input-size", "32", "--batch-size", "8",
                 "--json", str(folder / "result.json")])
    assert code == 0
    return out, json.loads((folder / "result.json").read_text())
