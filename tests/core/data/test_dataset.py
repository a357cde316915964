from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from inspector.core.data.dataset import Dataset, check_class_name
from inspector.core.errors import DatasetError


def _snapshot(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def dataset(tmp_path, class_tree) -> Dataset:
    return Dataset.create(class_tree({"ok": 6, "short": 4}, root=tmp_path / "ds"))


@pytest.mark.parametrize("bad", ["", "  ", ".hidden", "a/b", "a\\b", "x:y", "CON", "nul.txt",
                                 "dots.", "q?", "x" * 65])
def test_bad_class_names_are_refused_with_a_reason(bad):
    with pytest.raises(DatasetError, match="cannot be a class name"):
        check_class_name(bad)


@pytest.mark.parametrize("good", ["ok", "missing_hole", "Kurzschluss", "défaut 2", "spur+"])
def test_good_class_names(good):
    assert check_class_name(good) == good


def test_classes_ignore_metadata_and_hidden_folders(dataset):
    (dataset.root / ".git").mkdir()
    assert dataset.classes() == ["ok", "short"]


def test_create_rename_delete_class_and_undo(dataset):
    dataset.create_class("spur")
    assert "spur" in dataset.classes()
    with pytest.raises(DatasetError, match="already exists"):
        dataset.create_class("SPUR")
    dataset.rename_class("short", "short_circuit")
    assert dataset.classes() == ["ok", "short_circuit", "spur"]
    assert len(dataset.image_files("short_circuit")) == 4
    dataset.delete_class("short_circuit")
    assert dataset.classes() == ["ok", "spur"]
    assert dataset.undo() == "delete class short_circuit (4 images)"
    assert len(dataset.image_files("short_circuit")) == 4
    assert dataset.undo() == "rename class short to short_circuit"
    assert dataset.classes() == ["ok", "short", "spur"]


def test_add_images_copies_and_never_touches_the_sources(tmp_path, dataset, make_image):
    src = tmp_path / "camera"
    files = [make_image(src / f"shot {i}.png", seed=900 + i) for i in range(5)]
    (src / "broken.png").write_bytes(b"\x89PNG\r\n")
    before = _snapshot(src)
    report = dataset.add_images("ok", [*files, src / "broken.png", src / "missing.png"])
    assert len(report.added) == 5
    assert {Path(s).name for s, _ in report.failed} == {"broken.png", "missing.png"}
    assert all("broken.png" in m or "missing.png" in m for _, m in report.failed)
    assert _snapshot(src) == before
    assert all(p.parent == dataset.root / "ok" for p in report.added)
    again = dataset.add_images("ok", files)
    assert len(again.added) == 0
    assert len(again.duplicates) == 5


def test_name_collisions_get_a_new_name_not_an_overwrite(tmp_path, dataset, make_image):
    existing = dataset.image_files("ok")[0]
    original = existing.read_bytes()
    clash = make_image(tmp_path / "x" / existing.name, seed=4242)
    report = dataset.add_images("ok", [clash])
    assert report.added[0].name != existing.name
    assert existing.read_bytes() == original


def test_add_encoded_sanitises_names(dataset, make_image, tmp_path):
    data = make_image(tmp_path / "p.png", seed=77).read_bytes()
    report = dataset.add_encoded("short", [("../../evil:name.png", data)])
    assert report.added[0].parent == dataset.root / "short"
    assert ".." not in report.added[0].name


def test_relabel_delete_and_undo_round_trip(dataset):
    before = _snapshot(dataset.root / "ok") | _snapshot(dataset.root / "short")
    moved = dataset.relabel(dataset.image_files("ok")[:2], "short")
    assert all(p.parent.name == "short" for p in moved)
    assert len(dataset.image_files("short")) == 6
    deleted = dataset.delete_images(dataset.image_files("short")[:3])
    assert deleted == 3
    assert len(dataset.image_files("short")) == 3
    assert dataset.undo() == "delete 3 images"
    assert dataset.undo() == "relabel 2 images as short"
    assert _snapshot(dataset.root / "ok") | _snapshot(dataset.root / "short") == before
    assert dataset.undo() is None


def test_undo_of_an_add_moves_the_images_to_the_trash(dataset, tmp_path, make_image):
    files = [make_image(tmp_path / "in" / f"{i}.png", seed=300 + i) for i in range(3)]
    dataset.add_images("ok", files)
    assert len(dataset.image_files("ok")) == 9
    assert dataset.undo() == "add 3 images to ok"
    assert len(dataset.image_files("ok")) == 6


def test_operations_refuse_paths_outside_the_dataset(dataset, tmp_path, make_image):
    outside = make_image(tmp_path / "elsewhere.png")
    with pytest.raises(DatasetError, match="not inside the dataset"):
        dataset.delete_images([outside])
    with pytest.raises(DatasetError, match="not an image of a class"):
        dataset.delete_images([dataset.manifest_path])
    with pytest.raises(DatasetError, match="no class"):
        dataset.relabel(dataset.image_files("ok")[:1], "nonexistent")
    assert outside.exists()


def test_an_interrupted_operation_is_finished_when_the_dataset_is_opened(dataset):
    dataset.split()
    files = dataset.image_files("ok")[:3]
    # What a process killed in the middle of a relabel leaves: a pending journal record,
    # one file moved, two not.
    journal = dataset.meta / "journal"
    journal.mkdir(exist_ok=True)
    moves = [[f"ok/{p.name}", f"short/{p.name}"] for p in files]
    record = {"seq": 1, "kind": "relabel", "description": "relabel 3 images as short",
              "moves": moves, "state": "pending", "time": 0.0}
    (journal / "00000001.json").write_text(json.dumps(record))
    files[0].replace(dataset.root / "short" / files[0].name)

    reopened = Dataset(dataset.root)
    assert len(reopened.image_files("short")) == 7
    assert len(reopened.image_files("ok")) == 3
    assert reopened.history()[0].state == "done"
    manifest = reopened.manifest()
    assert all(manifest.split_of(r.hash) for r in reopened.records()[0])


def test_read_only_use_writes_nothing(tmp_path, class_tree):
    root = class_tree({"a": 3, "b": 3}, root=tmp_path / "user-folder")
    before = sorted(p.as_posix() for p in root.rglob("*"))
    dataset = Dataset(root)
    dataset.records()
    assert sorted(p.as_posix() for p in root.rglob("*")) == before


def test_hash_cache_sees_a_changed_file(dataset, make_image):
    first = {r.path: r.hash for r in dataset.records()[0]}
    target = dataset.image_files("ok")[0]
    make_image(target, seed=12345, size=(30, 30))
    second = {r.path: r.hash for r in dataset.records()[0]}
    assert second[target] != first[target]
    assert sum(first[p] != second[p] for p in first) == 1


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetError, match="is not a folder"):
        Dataset(tmp_path / "nope")


def test_add_encoded_refuses_bytes_that_are_not_a_usable_image(dataset):
    report = dataset.add_encoded("ok", [("junk.png", b"not a png"), ("empty.png", b"")])
    assert report.added == []
    assert [name for name, _ in report.failed] == ["junk.png", "empty.png"]
    assert "not an image" in report.failed[0][1]
