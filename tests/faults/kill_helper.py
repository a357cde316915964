"""Run by the fault tests in a process of its own, which they kill with SIGKILL mid-work.

    python kill_helper.py checkpoint PATH     save a ResNet-50 checkpoint over PATH in a loop
    python kill_helper.py dataset ROOT        add images to, relabel and delete from a dataset

Prints "ready" once the first unit of work is done, then one line per unit.
"""

from __future__ import annotations

import sys
from pathlib import Path


def checkpoints(path: Path) -> None:
    import torch

    from inspector.config import ModelConfig
    from inspector.core.models import build_model
    from inspector.core.training.checkpoint import new_meta, save_checkpoint

    config = ModelConfig(input_size=32, pretrained=False)
    model = build_model(config, 3)
    meta = new_meta(architecture="resnet50_cbam", classes=["a", "b", "c"], input_size=32,
                    normalization={"mean": [0.5] * 3, "std": [0.25] * 3},
                    model_config=config.model_dump(mode="json"))
    for n in range(10_000):
        with torch.no_grad():
            model.fc.bias.fill_(float(n))  # each save is recognisable
        save_checkpoint(path, dict(meta, epoch=n), model.state_dict())
        print("ready" if n == 0 else n, flush=True)


def dataset(root: Path) -> None:
    import numpy as np
    from PIL import Image

    from inspector.core.data.dataset import Dataset

    data = Dataset(root)
    sources = root.parent / "incoming"
    sources.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    for n in range(10_000):
        batch = []
        for i in range(5):
            path = sources / f"img-{n:05d}-{i}.png"
            Image.fromarray(rng.integers(0, 255, (24, 24, 3), dtype=np.uint8)).save(path)
            batch.append(path)
        added = data.add_images("ok", batch).added
        data.relabel(added[:2], "short")
        data.delete_images(added[2:3])
        print("ready" if n == 0 else n, flush=True)


if __name__ == "__main__":
    {"checkpoint": checkpoints, "dataset": dataset}[sys.argv[1]](Path(sys.argv[2]))
