"""The synthetic PCB generator: determinism, shapes, visible defects, true boxes, dataset files."""

from __future__ import annotations

import copy
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from inspector.core.data.synthetic import (
    DEFECT_CLASSES,
    PATCH_CLASSES,
    BoardFrame,
    DefectBox,
    SyntheticPCB,
    generate_patch_dataset,
)

STYLES = ("photo", "scan")


def _pair(gen: SyntheticPCB, label: str, index: int, size: int = 128,
          ) -> tuple[np.ndarray, np.ndarray]:
    """A defect patch and the same patch (same layout, colours, noise) without its defect."""
    layout, post = gen.patch_layout(label, size, index)
    with_defect = gen.render_layout(layout, copy.deepcopy(post))
    without = gen.render_layout(layout.without_defects(), post)
    return with_defect, without


# ---- patches ---------------------------------------------------------------------------------


def test_class_names() -> None:
    assert ("ok", *DEFECT_CLASSES) == PATCH_CLASSES
    assert DEFECT_CLASSES == ("open", "short", "mousebite", "spur", "spurious_copper",
                              "pin_hole", "missing_hole")


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("size", [64, 128, 200])
def test_every_class_generates_rgb_uint8(style: str, size: int) -> None:
    gen = SyntheticPCB(seed=3, style=style)
    for label in PATCH_CLASSES:
        image = gen.patch(label, size=size, index=1)
        assert image.shape == (size, size, 3)
        assert image.dtype == np.uint8
        assert image.flags.c_contiguous
        assert image.std() > 5, f"{style} {label}: a blank image"


@pytest.mark.parametrize("style", STYLES)
def test_same_seed_gives_identical_patches_in_any_order(style: str) -> None:
    first = SyntheticPCB(seed=11, style=style)
    forward = [first.patch(label, 96, i) for i in range(3) for label in PATCH_CLASSES]
    second = SyntheticPCB(seed=11, style=style)
    backward = [second.patch(label, 96, i) for i in reversed(range(3))
                for label in reversed(PATCH_CLASSES)]
    for a, b in zip(forward, reversed(backward), strict=True):
        np.testing.assert_array_equal(a, b)


def test_seed_index_style_and_class_change_the_image() -> None:
    base = SyntheticPCB(seed=1).patch("spur", 96, 0)
    assert not np.array_equal(base, SyntheticPCB(seed=2).patch("spur", 96, 0))
    assert not np.array_equal(base, SyntheticPCB(seed=1).patch("spur", 96, 1))
    assert not np.array_equal(base, SyntheticPCB(seed=1, style="scan").patch("spur", 96, 0))
    assert not np.array_equal(base, SyntheticPCB(seed=1).patch("open", 96, 0))


def test_generator_can_be_shared_between_threads() -> None:
    gen = SyntheticPCB(seed=5)
    expected = [SyntheticPCB(seed=5).patch(PATCH_CLASSES[i % 8], 64, i) for i in range(16)]
    results: dict[int, np.ndarray] = {}

    def work(start: int) -> None:
        for i in range(start, 16, 4):
            results[i] = gen.patch(PATCH_CLASSES[i % 8], 64, i)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for i, image in enumerate(expected):
        np.testing.assert_array_equal(results[i], image)


def test_invalid_arguments_raise_value_error() -> None:
    gen = SyntheticPCB()
    with pytest.raises(ValueError, match="unknown class 'scratch'") as err:
        gen.patch("scratch")
    for label in PATCH_CLASSES:
        assert label in str(err.value)
    with pytest.raises(ValueError, match="style"):
        SyntheticPCB(style="xray")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="seed"):
        SyntheticPCB(seed=-1)
    with pytest.raises(ValueError, match="size"):
        gen.patch("ok", size=8)
    with pytest.raises(ValueError, match="index"):
        gen.patch("ok", index=-1)
    with pytest.raises(ValueError, match="unknown defect class 'ok'"):
        gen.board(classes=("ok",))
    with pytest.raises(ValueError, match="classes is empty"):
        gen.board(classes=())


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("label", DEFECT_CLASSES)
def test_defect_is_visible_and_centred(style: str, label: str) -> None:
    gen = SyntheticPCB(seed=21, style=style)
    for index in range(6):
        defect, clean = _pair(gen, label, index)
        np.testing.assert_array_equal(defect, gen.patch(label, 128, index))
        diff = np.abs(defect.astype(np.int16) - clean.astype(np.int16)).max(axis=2)
        # Same colours, light and noise in both: only the defect differs. A black or white
        # solder mask shows copper with little contrast, hence the modest threshold.
        strong = diff > (15 if style == "photo" else 100)
        assert strong.sum() >= 8, f"{style} {label} #{index}: defect hardly visible"
        ys, xs = np.nonzero(strong)
        weights = diff[ys, xs].astype(np.float64)
        cx, cy = np.average(xs, weights=weights), np.average(ys, weights=weights)
        assert abs(cx - 64) < 16 and abs(cy - 64) < 16, (
            f"{style} {label} #{index}: defect centred at ({cx:.0f}, {cy:.0f})")


def test_ok_patches_show_circuitry_without_a_defect() -> None:
    gen = SyntheticPCB(seed=4)
    for index in range(8):
        layout, _ = gen.patch_layout("ok", 128, index)
        assert not layout.add and not layout.sub and not layout.no_hole
        assert layout.traces or layout.pads


def test_scan_style_is_binarised_greyscale_like_deeppcb() -> None:
    gen = SyntheticPCB(seed=8, style="scan")
    images = np.stack([gen.patch(label, 128, i) for i in range(2) for label in PATCH_CLASSES])
    assert np.array_equal(images[..., 0], images[..., 1])
    assert np.array_equal(images[..., 0], images[..., 2])
    extreme = (images[..., 0] < 40) | (images[..., 0] > 215)
    assert extreme.mean() > 0.95
    assert (images[..., 0] > 215).mean() > 0.3  # white laminate, black copper


def test_photo_style_varies_in_colour() -> None:
    gen = SyntheticPCB(seed=8, style="photo")
    means = np.array([gen.patch("ok", 64, i).reshape(-1, 3).mean(axis=0) for i in range(24)])
    assert means.std(axis=0).max() > 15  # different mask colours and lighting
    assert (means[:, 1] > means[:, 0]).mean() > 0.4  # green boards are the most common


# ---- boards ----------------------------------------------------------------------------------


def _box_mask(shape: tuple[int, int], boxes: tuple[DefectBox, ...], grow: int) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    for b in boxes:
        mask[max(0, b.y1 - grow):b.y2 + grow, max(0, b.x1 - grow):b.x2 + grow] = True
    return mask


@pytest.mark.parametrize("style", STYLES)
def test_board_boxes_are_inside_valid_and_apart(style: str) -> None:
    gen = SyntheticPCB(seed=2, style=style)
    for index in range(3):
        frame = gen.board(640, 480, n_defects=4, index=index)
        assert isinstance(frame, BoardFrame)
        assert frame.image.shape == (480, 640, 3)
        assert frame.image.dtype == np.uint8
        assert len(frame.boxes) == 4
        for box in frame.boxes:
            assert box.label in DEFECT_CLASSES
            assert 0 <= box.x1 < box.x2 <= 640
            assert 0 <= box.y1 < box.y2 <= 480
        for i, a in enumerate(frame.boxes):
            for b in frame.boxes[i + 1:]:
                assert a.x2 <= b.x1 or b.x2 <= a.x1 or a.y2 <= b.y1 or b.y2 <= a.y1


@pytest.mark.parametrize("style", STYLES)
def test_board_defects_are_inside_their_boxes(style: str) -> None:
    gen = SyntheticPCB(seed=9, style=style)
    for index in range(2):
        layout, frame, post = gen.board_layout(640, 480, n_defects=5, index=index)
        with_defects = gen.render_layout(layout, copy.deepcopy(post), vignette=True)
        clean = gen.render_layout(layout.without_defects(), post, vignette=True)
        np.testing.assert_array_equal(with_defects, gen.board(640, 480, 5, index=index).image)
        diff = np.abs(with_defects.astype(np.int16) - clean.astype(np.int16)).max(axis=2)
        strong = diff > (15 if style == "photo" else 100)
        inside = _box_mask(diff.shape, frame.boxes, grow=8)
        assert strong[~inside].sum() == 0, "a change outside every box"
        for box in frame.boxes:
            changed = strong[box.y1:box.y2, box.x1:box.x2].sum()
            assert changed >= 4, f"{style}: no visible {box.label} in {box}"


def test_board_honours_classes_and_count() -> None:
    gen = SyntheticPCB(seed=6)
    frame = gen.board(320, 240, n_defects=2, classes=("spur", "pin_hole"), index=3)
    assert frame.image.shape == (240, 320, 3)
    assert {b.label for b in frame.boxes} <= {"spur", "pin_hole"}
    assert gen.board(320, 240, n_defects=0).boxes == ()
    again = SyntheticPCB(seed=6).board(320, 240, 2, ("spur", "pin_hole"), index=3)
    np.testing.assert_array_equal(frame.image, again.image)
    assert frame.boxes == again.boxes


def test_missing_hole_boards_hide_a_drill_hole() -> None:
    gen = SyntheticPCB(seed=12)
    layout, frame, _ = gen.board_layout(640, 480, 2, classes=("missing_hole",), index=0)
    assert len(frame.boxes) == 2
    assert len(layout.no_hole) == 2
    for i in layout.no_hole:
        assert layout.pads[i].hole > 0


# ---- dataset ---------------------------------------------------------------------------------


def test_generate_patch_dataset_writes_files_and_reports_progress(tmp_path: Path) -> None:
    progress: list[tuple[int, int]] = []
    counts = generate_patch_dataset(tmp_path / "ds", per_class=3, seed=7, size=64,
                                    on_progress=lambda d, t: progress.append((d, t)))
    assert counts == dict.fromkeys(PATCH_CLASSES, 3)
    for label in PATCH_CLASSES:
        names = sorted(p.name for p in (tmp_path / "ds" / label).iterdir())
        assert names == [f"synth-s7-{i:05d}.png" for i in range(3)]
    image = cv2.imread(str(tmp_path / "ds" / "spur" / "synth-s7-00002.png"), cv2.IMREAD_COLOR)
    expected = SyntheticPCB(seed=7).patch("spur", 64, 2)
    np.testing.assert_array_equal(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), expected)
    total = 3 * len(PATCH_CLASSES)
    assert progress[-1] == (total, total)
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)
    assert all(t == total for _, t in progress)


def test_generate_patch_dataset_is_byte_identical_and_overwrites(tmp_path: Path) -> None:
    classes = ("ok", "short", "missing_hole")
    for run in ("a", "b"):
        generate_patch_dataset(tmp_path / run, per_class=2, seed=3, size=48, classes=classes,
                               style="scan")
    target = tmp_path / "b" / "short" / "synth-s3-00001.png"
    target.write_bytes(b"stale")
    generate_patch_dataset(tmp_path / "b", per_class=2, seed=3, size=48, classes=classes,
                           style="scan")
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*"))
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*"))
    assert files_a == files_b
    for rel in files_a:
        if (tmp_path / "a" / rel).is_file():
            assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()


def test_generate_patch_dataset_stops_when_asked(tmp_path: Path) -> None:
    stop = threading.Event()

    def progress(done: int, total: int) -> None:
        if done >= 5:
            stop.set()

    counts = generate_patch_dataset(tmp_path, per_class=10, size=48, on_progress=progress,
                                    stop_event=stop)
    assert sum(counts.values()) == 5
    assert max(counts.values()) - min(counts.values()) <= 1  # classes stay balanced
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(written) == 5
    assert not [p for p in written if p.name.startswith(".")]  # no temporary files left


def test_generate_patch_dataset_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown class"):
        generate_patch_dataset(tmp_path, per_class=1, classes=("ok", "dent"))
    with pytest.raises(ValueError, match="per_class"):
        generate_patch_dataset(tmp_path, per_class=-1)
    assert not any(tmp_path.iterdir())


# ---- import cost and speed -------------------------------------------------------------------


def test_importing_the_class_names_does_not_load_opencv() -> None:
    code = ("import sys; import inspector.core.data.synthetic as s; s.PATCH_CLASSES; "
            "print('cv2' in sys.modules)")
    root = Path(__file__).resolve().parents[3]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=root, check=True)
    assert out.stdout.strip() == "False"


def test_patch_generation_speed_floor() -> None:
    gen = SyntheticPCB(seed=1)
    gen.patch("ok")
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < 0.5:
        gen.patch(PATCH_CLASSES[n % len(PATCH_CLASSES)], 128, n)
        n += 1
    rate = n / (time.perf_counter() - start)
    assert rate >= 100, f"{rate:.0f} patches/s"
