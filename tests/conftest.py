"""Shared fixtures. Tests make their own small data; they never download anything."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

from helpers import png_claiming


@pytest.fixture(autouse=True, scope="session")
def _no_imagenet_weights(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Session-wide (module fixtures that train run before function fixtures)."""
    saved = {k: os.environ.get(k) for k in ("TORCH_HOME", "INSPECTOR_IMAGENET_WEIGHTS")}
    os.environ["TORCH_HOME"] = str(tmp_path_factory.mktemp("torch-home"))
    os.environ.pop("INSPECTOR_IMAGENET_WEIGHTS", None)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory,
                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Never read or write the real user's settings, recent list or logs."""
    home = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("INSPECTOR_CONFIG_DIR", str(home / "config"))
    monkeypatch.setenv("INSPECTOR_DATA_DIR", str(home / "data"))



ImageMaker = Callable[..., Path]


@pytest.fixture
def make_image() -> ImageMaker:
    """make_image(path, size=(w, h), mode="RGB", seed=0, **save_kwargs) writes a random image."""

    def make(path: Path, size: tuple[int, int] = (24, 24), mode: str = "RGB", seed: int = 0,
             **save_kwargs: object) -> Path:
        rng = np.random.default_rng(seed)
        w, h = size
        if mode in {"I;16", "I;16B"}:
            image = Image.fromarray(rng.integers(0, 65535, (h, w), dtype=np.uint16))
        else:
            image = Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).convert(mode)
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path, **save_kwargs)
        return path

    return make


@pytest.fixture
def class_tree(tmp_path: Path, make_image: ImageMaker) -> Callable[..., Path]:
    """class_tree({"ok": 5, "short": 3}, root=None) makes one folder per class of unique PNGs."""
    counter = iter(range(10**6))

    def make(counts: dict[str, int], root: Path | None = None) -> Path:
        root = root or tmp_path / "tree"
        for label, n in counts.items():
            for _ in range(n):
                i = next(counter)
                make_image(root / label / f"{label}_{i:04d}.png", seed=i + 1)
        return root

    return make


@pytest.fixture
def salted_dataset(tmp_path: Path, class_tree: Callable[..., Path],
                   make_image: ImageMaker) -> Path:
    """A dataset with every kind of bad file, plus duplicates, a label conflict, a tiny class
    and strong imbalance. Returns its root."""
    root = class_tree({"ok": 30, "short": 3, "spur": 25}, root=tmp_path / "salted")
    (root / "ok" / "empty.png").write_bytes(b"")
    (root / "ok" / "notes.png").write_text("not an image")
    for suffix in (".jpg", ".png"):
        full = make_image(tmp_path / f"full{suffix}", size=(96, 96), seed=99).read_bytes()
        (root / "ok" / f"cut{suffix}").write_bytes(full[: len(full) // 2])
    (root / "ok" / "bomb.png").write_bytes(png_claiming(100_000, 100_000))
    (root / "ok" / "folder.jpg").mkdir()
    (root / "ok" / "readme.txt").write_text("notes")
    make_image(root / "stray.png", seed=31337)
    ok_files = sorted((root / "ok").glob("ok_*.png"))
    (root / "ok" / "dup.png").write_bytes(ok_files[0].read_bytes())
    (root / "spur" / "conflict.png").write_bytes(ok_files[1].read_bytes())
    return root


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three classes of small synthetic patches: a plain folder, one sub-folder per class."""
    from inspector.core.data.synthetic import generate_patch_dataset

    root = tmp_path_factory.mktemp("tiny") / "data"
    generate_patch_dataset(root, per_class=14, seed=3, size=48,
                           classes=("ok", "short", "missing_hole"))
    return root
