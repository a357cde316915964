"""Small builders shared by tests (importable as `helpers`: tests/ is on sys.path)."""

from __future__ import annotations

from pathlib import Path

from inspector.config import InspectorConfig


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge size: a decompression bomb's signature."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


# What salted_dataset plants, by file: the kind the validation report must give it.
SALT = {
    "ok/empty.png": "EMPTY",
    "ok/notes.png": "NOT_IMAGE",
    "ok/cut.jpg": "TRUNCATED",
    "ok/cut.png": "TRUNCATED",
    "ok/bomb.png": "TOO_LARGE",
    "ok/folder.jpg": "UNSUPPORTED",
    "ok/readme.txt": "UNSUPPORTED",
    "stray.png": "UNSUPPORTED",
}


def tiny_training_config() -> InspectorConfig:
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


def dead_class_copy(source: Path, target: Path, dead_class: str) -> None:
    """A model folder `target` holding `source`'s model with one class that can never win (its
    head bias pushed down): its recall drops to 0, the rest is unchanged. A deliberately worse
    model for the promotion gate, recorded as a child of `source`."""
    import shutil

    from inspector.core.training.checkpoint import load_checkpoint, save_checkpoint

    checkpoint = load_checkpoint(source / "best.safetensors")
    state = dict(checkpoint.model_state)
    bias = state["fc.bias"].clone()
    bias[checkpoint.classes.index(dead_class)] = -1e4
    state["fc.bias"] = bias
    meta = dict(checkpoint.meta, parent={"model": source.name, "classes": checkpoint.classes,
                                         "kept": [], "new": [], "dropped": []})
    target.mkdir(parents=True)
    save_checkpoint(target / "best.safetensors", meta, state)
    shutil.copy(source / "split.json", target / "split.json")
