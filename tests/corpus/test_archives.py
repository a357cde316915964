"""Hostile archives. A bomb or a file that is no zip is refused whole; an entry with a hostile
name or type (a path escape, an absolute path, a link) is skipped with its reason while the
archive's good images are imported. Nothing is ever written outside the dataset."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus import generate
from corpus.generate import tree_digest
from inspector.core.data.dataset import Dataset
from inspector.core.data.importers import import_dataset
from inspector.core.errors import DatasetImportError

REFUSED = [(generate.zip_bomb, "zip bomb"), (generate.text_named_zip, "zip")]
SKIPPED = [
    (generate.zip_path_escape, "../../evil.png", ".."),
    (generate.zip_absolute_path, "/tmp/inspector-evil.png", "absolute"),
    (generate.zip_with_link, "ok/link.png", "link"),
]


@pytest.fixture
def dataset(tmp_path):
    dataset = Dataset.create(tmp_path / "ws" / "data")
    dataset.create_class("ok")
    generate.good_png(dataset.class_dir("ok"), "kept.png")
    return dataset


@pytest.mark.parametrize(("make", "reason"), REFUSED, ids=[m.__name__ for m, _ in REFUSED])
def test_an_archive_refused_whole_writes_nothing(make, reason, cases, tmp_path, dataset):
    archive = make(cases)
    before = tree_digest(tmp_path)
    with pytest.raises(DatasetImportError) as refused:
        import_dataset("zip", archive, dataset)
    assert reason in str(refused.value).lower(), refused.value
    assert tree_digest(tmp_path) == before


@pytest.mark.parametrize(("make", "entry", "reason"), SKIPPED,
                         ids=[m.__name__ for m, _, _ in SKIPPED])
def test_a_hostile_entry_is_skipped_with_its_reason_and_nothing_lands_outside(
        make, entry, reason, cases, tmp_path, dataset):
    archive = make(cases)
    outside = {k: v for k, v in tree_digest(tmp_path).items() if not k.startswith("ws/data/")}
    report = import_dataset("zip", archive, dataset)
    assert report.counts == {"ok": 1}  # the archive's good image
    skipped = dict(report.skipped)
    assert any(entry in item for item in skipped), skipped
    assert any(reason in why.lower() for why in skipped.values()), skipped
    after = {k: v for k, v in tree_digest(tmp_path).items() if not k.startswith("ws/data/")}
    assert after == outside
    assert not Path("/tmp/inspector-evil.png").exists()
    assert not (tmp_path / "evil.png").exists() and not (tmp_path / "ws" / "evil.png").exists()
