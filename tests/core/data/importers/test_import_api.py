from __future__ import annotations

import pytest

from inspector.config import ImportConfig
from inspector.core.data.dataset import AddReport
from inspector.core.data.importers import FORMATS, ImportReport, import_dataset
from inspector.core.errors import DatasetError, DatasetImportError


def test_formats():
    assert FORMATS == ("folder", "zip", "deeppcb", "voc")


def test_unknown_format_lists_the_formats(tmp_path, dataset):
    with pytest.raises(DatasetImportError, match=r"Unknown import format 'coco'.*folder, zip, "
                                                 r"deeppcb, voc"):
        import_dataset("coco", tmp_path, dataset)


def test_format_names_are_case_insensitive(tmp_path, dataset, class_tree):
    src = class_tree({"ok": 1}, root=tmp_path / "src")
    assert import_dataset(" Folder ", src, dataset).counts == {"ok": 1}


@pytest.mark.parametrize("fmt", FORMATS)
def test_missing_source_is_a_clear_error(tmp_path, dataset, fmt):
    with pytest.raises(DatasetImportError, match="does not exist"):
        import_dataset(fmt, tmp_path / "nowhere", dataset)


def test_the_errors_are_dataset_errors():
    assert issubclass(DatasetImportError, DatasetError)


def test_an_unusable_ok_label_is_refused_before_anything_is_read(tmp_path, dataset):
    config = ImportConfig(ok_label="a/b")
    with pytest.raises(DatasetImportError, match="ok_label"):
        import_dataset("deeppcb", tmp_path, dataset, config)


def test_summary_is_one_readable_paragraph(tmp_path):
    report = ImportReport(counts={"ok": 2, "short": 1, "spur": 0})
    report.add = AddReport(added=[tmp_path / "a", tmp_path / "b", tmp_path / "c"],
                           duplicates=[tmp_path / "d"], failed=[("x.png", "x.png: bad")])
    report.skipped.append(("loose.png", "not in a class folder"))
    report.add.stopped = True
    text = report.summary()
    assert "\n" not in text
    assert text.startswith("Imported 3 images into 2 classes (ok 2, short 1).")
    assert "1 image already in the dataset" in text
    assert "x.png: bad" in text
    assert "loose.png: not in a class folder" in text
    assert "stopped" in text
    assert ImportReport().summary() == "No images were imported."
