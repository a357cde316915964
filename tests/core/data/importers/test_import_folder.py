from __future__ import annotations

import threading

import pytest

from inspector.core.data.dataset import Dataset
from inspector.core.data.importers import import_dataset
from inspector.core.errors import DatasetImportError


@pytest.fixture
def source(tmp_path, class_tree, make_image):
    src = class_tree({"ok": 4, "short": 3}, root=tmp_path / "src")
    make_image(src / "short" / "batch2" / "deeper" / "s_nested.png", seed=500)
    make_image(src / "loose.png", seed=501)
    (src / "notes.txt").write_text("about this data")
    (src / "ok" / "Thumbs.db").write_bytes(b"\x00\x01")
    (src / ".git").mkdir()
    make_image(src / ".git" / "hidden.png", seed=502)
    make_image(src / "ok" / ".hidden.png", seed=503)
    return src


def test_folder_import_counts_and_classes(source, dataset):
    report = import_dataset("folder", source, dataset)
    assert dataset.classes() == ["ok", "short"]
    assert report.counts == {"ok": 4, "short": 4}  # the nested sub-folder belongs to short
    assert len(dataset.image_files("short")) == 4
    assert report.add.failed == []
    assert not report.add.stopped
    assert "Imported 8 images into 2 classes" in report.summary()


def test_loose_and_non_image_files_are_skipped_with_reasons(source, dataset):
    report = import_dataset("folder", source, dataset)
    reasons = dict(report.skipped)
    assert "not in a class folder" in reasons["loose.png"]
    assert "notes.txt" in reasons
    assert "not an image" in reasons["ok/Thumbs.db"]
    assert not any("hidden" in item for item in reasons)  # hidden files are not data


def test_source_files_are_untouched(source, dataset, snapshot):
    before = snapshot(source)
    import_dataset("folder", source, dataset)
    assert snapshot(source) == before


def test_bad_class_folder_names_are_skipped(tmp_path, dataset, make_image):
    src = tmp_path / "src"
    make_image(src / "CON" / "a.png", seed=1)
    make_image(src / "good" / "b.png", seed=2)
    report = import_dataset("folder", src, dataset)
    assert report.counts == {"good": 1}
    [(item, reason)] = report.skipped
    assert item == "CON/" and "cannot be a class name" in reason


def test_a_corrupt_image_is_refused_and_the_rest_imported(source, dataset):
    (source / "ok" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    report = import_dataset("folder", source, dataset)
    assert report.counts["ok"] == 4
    [(item, message)] = report.add.failed
    assert item.endswith("broken.png") and "broken.png" in message


def test_existing_class_is_matched_case_insensitively(tmp_path, make_image):
    ds = Dataset.create(tmp_path / "ds")
    ds.create_class("ok")
    make_image(tmp_path / "src" / "OK" / "a.png", seed=7)
    report = import_dataset("folder", tmp_path / "src", ds)
    assert ds.classes() == ["ok"]
    assert report.counts == {"ok": 1}


def test_reimport_adds_nothing(source, dataset):
    import_dataset("folder", source, dataset)
    again = import_dataset("folder", source, dataset)
    assert again.counts == {"ok": 0, "short": 0}
    assert len(again.add.duplicates) == 8


def test_a_source_overlapping_the_dataset_is_refused(tmp_path, make_image):
    make_image(tmp_path / "src" / "ok" / "a.png")
    inner = Dataset.create(tmp_path / "src" / "ds")
    with pytest.raises(DatasetImportError, match="overlap"):
        import_dataset("folder", tmp_path / "src", inner)
    with pytest.raises(DatasetImportError, match="overlap"):
        import_dataset("folder", inner.root, inner)


def test_a_folder_without_classes_is_an_error(tmp_path, dataset):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetImportError, match="no class folders"):
        import_dataset("folder", tmp_path / "empty", dataset)
    (tmp_path / "file.zip").write_bytes(b"PK")
    with pytest.raises(DatasetImportError, match="format 'zip'"):
        import_dataset("folder", tmp_path / "file.zip", dataset)


def test_progress_counts_up_to_the_total(source, dataset):
    seen = []
    import_dataset("folder", source, dataset, on_progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (8, 8)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_stop_event_set_before_start(source, dataset):
    stop = threading.Event()
    stop.set()
    report = import_dataset("folder", source, dataset, stop_event=stop)
    assert report.add.stopped
    assert report.add.added == []


def test_stop_event_set_during_import(source, dataset):
    stop = threading.Event()

    def progress(done: int, total: int) -> None:
        if done >= 2:
            stop.set()

    report = import_dataset("folder", source, dataset, on_progress=progress, stop_event=stop)
    assert report.add.stopped
    assert 1 <= len(report.add.added) < 8
    assert "stopped" in report.summary()
