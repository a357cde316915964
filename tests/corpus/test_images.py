"""Bad and unusual images, added to a dataset class as an import or a capture does: each bad
one is refused with a reason a user can act on, the good ones (however unusual) are added and
load as RGB, the source files are never changed, and nothing else in the dataset moves."""

from __future__ import annotations

import pytest

from corpus import generate
from corpus.generate import tree_digest
from inspector.config import DatasetConfig
from inspector.core.data.dataset import Dataset
from inspector.core.data.images import load_rgb

REFUSED = [
    (generate.truncated_jpeg, "truncated"),
    (generate.truncated_png, "truncated"),
    (generate.zero_bytes, "zero-byte"),
    (generate.text_named_png, "not an image"),
    (generate.decompression_bomb, "too many pixels"),
    (generate.huge_dimensions, "too many pixels"),
    (generate.broken_link, "not a file"),
    (generate.unreadable, "not a file"),
    (generate.symlink_loop, "not a file"),
]
ACCEPTED = [generate.tiff_16bit, generate.cmyk_jpeg, generate.palette_png,
            generate.non_ascii_name]


@pytest.fixture
def dataset(tmp_path):
    dataset = Dataset.create(tmp_path / "data", DatasetConfig(max_image_pixels=4_000_000))
    dataset.create_class("ok")
    generate.good_png(dataset.class_dir("ok"), "already-here.png", seed=1)
    dataset.split()
    return dataset


@pytest.mark.parametrize(("make", "reason"), REFUSED, ids=[m.__name__ for m, _ in REFUSED])
def test_a_bad_image_is_refused_with_its_reason_and_nothing_changes(make, reason, cases,
                                                                   dataset):
    path = make(cases)
    sources_before = tree_digest(cases)
    dataset_before = tree_digest(dataset.root)
    report = dataset.add_images("ok", [path])
    assert not report.added
    [(item, why)] = report.failed
    assert item == str(path) and reason in why.lower(), why
    assert tree_digest(cases) == sources_before
    assert tree_digest(dataset.root) == dataset_before


@pytest.mark.parametrize("make", ACCEPTED, ids=[m.__name__ for m in ACCEPTED])
def test_an_unusual_but_good_image_is_added_and_loads_as_rgb(make, cases, dataset):
    path = make(cases)
    before = tree_digest(cases)
    report = dataset.add_images("ok", [path])
    assert not report.failed, report.failed
    [added] = report.added
    assert added.name == path.name  # the name kept, non-ASCII included
    image = load_rgb(added)
    assert image.dtype.name == "uint8" and image.ndim == 3 and image.shape[2] == 3
    assert tree_digest(cases) == before
    assert dataset.manifest().split_of(
        __import__("inspector.core.data.images", fromlist=["content_hash"]).content_hash(added))


def test_a_mixed_batch_keeps_the_good_and_reports_each_bad_one(cases, dataset):
    paths = [make(cases) for make, _ in REFUSED] + [make(cases) for make in ACCEPTED]
    report = dataset.add_images("ok", paths)
    assert len(report.added) == len(ACCEPTED)
    assert len(report.failed) == len(REFUSED)
