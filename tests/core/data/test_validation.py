from __future__ import annotations

import threading

from helpers import SALT

from inspector.core.data.dataset import Dataset
from inspector.core.data.validation import IssueKind, validate


def test_every_kind_of_bad_file_is_reported_and_the_scan_finishes(salted_dataset):
    report = validate(Dataset(salted_dataset))
    reported = {p.relative_to(salted_dataset).as_posix(): issue.kind
                for issue in report.issues for p in issue.paths}
    for name, kind in SALT.items():
        assert reported.get(name) == IssueKind[kind], name
        assert any(name.split("/")[-1] in i.message for i in report.issues if i.kind.name == kind)
    kinds = report.by_kind()
    assert len(kinds[IssueKind.DUPLICATE]) == 1
    assert {p.name for p in kinds[IssueKind.DUPLICATE][0].paths} == {"dup.png", "ok_0000.png"}
    conflict = kinds[IssueKind.LABEL_CONFLICT][0]
    assert {p.parent.name for p in conflict.paths} == {"ok", "spur"}
    assert [i.label for i in kinds[IssueKind.TOO_FEW]] == ["short"]
    assert len(kinds[IssueKind.IMBALANCE]) == 1
    # every good image was still checked and counted
    assert report.counts == {"ok": 31, "short": 3, "spur": 26}


def test_a_clean_dataset_has_no_issues(tmp_path, class_tree):
    root = class_tree({"a": 25, "b": 20}, root=tmp_path / "clean")
    report = validate(Dataset(root))
    assert report.issues == []
    assert report.images_checked == 45


def test_validation_reports_progress_and_stops_on_request(tmp_path, class_tree):
    root = class_tree({"a": 250}, root=tmp_path / "big")
    seen: list[tuple[int, int]] = []
    report = validate(Dataset(root), on_progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (250, 250)
    stop = threading.Event()
    stop.set()
    report = validate(Dataset(root), stop_event=stop)
    assert report.stopped
    assert report.images_checked < 250
