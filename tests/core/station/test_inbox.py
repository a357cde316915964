"""The review inbox: operator corrections waiting for an engineer, accepted into the dataset
(with a content hash and a split like any image) or discarded."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inspector.core.data.images import content_hash
from inspector.core.errors import DatasetError
from inspector.core.station.inbox import INBOX_DIR, InboxError, ReviewInbox
from inspector.core.workspace import Workspace


def frame(seed: int, size: tuple[int, int] = (40, 56)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (*size, 3), dtype=np.uint8)


@pytest.fixture
def workspace(tmp_path: Path, class_tree) -> Workspace:
    ws = Workspace.create(tmp_path / "ws")
    dataset = ws.dataset()
    class_tree({"ok": 6, "short": 3}, root=dataset.root)
    dataset.split()
    return ws


@pytest.fixture
def inbox(workspace: Workspace) -> ReviewInbox:
    return ReviewInbox(workspace.root)


def add(inbox: ReviewInbox, seed: int, **fields: object):
    values: dict[str, object] = {"operator": "ana", "operator_label": "short",
                                 "model_label": "ok", "model_verdict": "FAIL",
                                 "confidence": 0.71, "result_id": 100 + seed,
                                 "source": "virtual", "model_version": "run-1"}
    values.update(fields)
    return inbox.add(frame(seed), **values)  # type: ignore[arg-type]


def test_an_item_keeps_the_frame_losslessly_with_both_answers(inbox, workspace):
    image = frame(1)
    item = inbox.add(image, operator="ana", operator_label="short", model_label="ok",
                     model_verdict="FAIL", confidence=0.71, result_id=42, source="cam0",
                     model_version="run-3")
    assert item.is_override
    assert inbox.folder == workspace.root / INBOX_DIR
    saved = np.asarray(Image.open(inbox.image_path(item)).convert("RGB"))
    assert np.array_equal(saved, image)  # RGB in, the same RGB out
    record = json.loads((inbox.folder / f"{item.id}.json").read_text())
    assert record["operator"] == "ana" and record["model_label"] == "ok"
    assert record["result_id"] == 42 and record["model_version"] == "run-3"
    [listed] = inbox.items()
    assert listed == item and len(inbox) == 1


def test_items_are_listed_oldest_first_and_never_collide(inbox):
    t = time.time()
    late = add(inbox, 1, when=t + 5)
    early = add(inbox, 2, when=t)
    twin = add(inbox, 3, when=t, result_id=None)
    twin2 = add(inbox, 4, when=t, result_id=None)  # the same millisecond and no result id
    assert twin.id != twin2.id
    assert [i.id for i in inbox.items()][-1] == late.id
    assert {i.id for i in inbox.items()} == {late.id, early.id, twin.id, twin2.id}


def test_a_confirmed_review_is_not_an_override(inbox):
    item = add(inbox, 1, operator_label="ok", model_verdict="REVIEW")
    assert not item.is_override


def test_accept_into_an_existing_class_adds_a_hashed_split_image(inbox, workspace):
    dataset = workspace.dataset()
    item = add(inbox, 1)
    source_bytes = inbox.image_path(item).read_bytes()
    before = len(dataset.image_files("short"))
    path = inbox.accept(item, dataset, "short")
    assert path is not None and path.parent == dataset.root / "short"
    assert path.read_bytes() == source_bytes
    assert len(dataset.image_files("short")) == before + 1
    records, errors = dataset.records(label="short")
    assert not errors
    [record] = [r for r in records if r.path == path]
    assert record.hash == content_hash(path)
    manifest = dataset.manifest()
    assert manifest is not None and manifest.split_of(record.hash) in {"train", "val", "test"}
    assert inbox.items() == []
    assert list(inbox.folder.iterdir()) == []  # both files gone


def test_accept_into_a_new_class_creates_it(inbox, workspace):
    dataset = workspace.dataset()
    item = add(inbox, 2, operator_label="mouse_bite")
    with pytest.raises(DatasetError, match="no class 'mouse_bite'"):
        inbox.accept(item, dataset, "mouse_bite")
    assert inbox.items() == [item]  # refused: still waiting
    path = inbox.accept(item, dataset, "mouse_bite", create_class=True)
    assert "mouse_bite" in dataset.classes()
    assert path is not None and path.parent.name == "mouse_bite"
    manifest = dataset.manifest()
    assert manifest is not None
    assert manifest.split_of(content_hash(path)) in {"train", "val", "test"}
    assert inbox.items() == []


def test_a_bad_class_name_is_refused_and_the_item_kept(inbox, workspace):
    item = add(inbox, 3)
    with pytest.raises(DatasetError, match="cannot be a class name"):
        inbox.accept(item, workspace.dataset(), "a/b", create_class=True)
    assert inbox.items() == [item]


def test_accepting_an_image_the_class_already_has_adds_nothing(inbox, workspace):
    dataset = workspace.dataset()
    first = add(inbox, 5)
    second = add(inbox, 5)  # the same frame twice
    assert inbox.accept(first, dataset, "short") is not None
    count = len(dataset.image_files("short"))
    assert inbox.accept(second, dataset, "short") is None
    assert len(dataset.image_files("short")) == count
    assert inbox.items() == []


def test_accepted_images_can_be_undone_like_any_addition(inbox, workspace):
    dataset = workspace.dataset()
    path = inbox.accept(add(inbox, 6), dataset, "ok")
    assert path is not None and path.is_file()
    assert dataset.undo() is not None
    assert not path.exists()


def test_discard_removes_the_item_and_its_frame(inbox):
    keep, drop = add(inbox, 1), add(inbox, 2)
    inbox.discard(drop)
    assert inbox.items() == [keep]
    assert not inbox.image_path(drop).exists()
    inbox.discard(drop)  # twice is harmless


def test_orphan_frames_left_by_a_kill_are_cleaned_when_old(inbox):
    item = add(inbox, 1)
    orphan_old = inbox.folder / "20240101-000000-000-9.png"
    orphan_new = inbox.folder / "20240101-000000-001-9.png"
    for orphan in (orphan_old, orphan_new):
        orphan.write_bytes(inbox.image_path(item).read_bytes())
    old = time.time() - 3600
    os.utime(orphan_old, (old, old))
    assert inbox.items() == [item]
    assert not orphan_old.exists()
    assert orphan_new.exists()  # may be an item being written right now
    assert inbox.image_path(item).exists()


def test_unreadable_records_and_records_without_a_frame_are_skipped(inbox):
    item = add(inbox, 1)
    (inbox.folder / "broken.json").write_text("{")
    (inbox.folder / "odd.json").write_text(json.dumps({"id": "odd"}))
    lost = add(inbox, 2)
    inbox.image_path(lost).unlink()
    assert inbox.items() == [item]


def test_an_empty_or_missing_inbox_lists_nothing(tmp_path):
    assert ReviewInbox(tmp_path).items() == []


def test_a_full_or_read_only_inbox_says_so(tmp_path):
    (tmp_path / INBOX_DIR).write_text("a file where the folder should be")
    with pytest.raises(InboxError, match="Could not put the frame in the review inbox"):
        ReviewInbox(tmp_path).add(frame(1), operator="ana", operator_label="short",
                                  model_label="ok", model_verdict="FAIL", confidence=0.5)
