from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image

from inspector.config import ImportConfig
from inspector.core.data.images import load_rgb
from inspector.core.data.importers import import_dataset
from inspector.core.data.importers.deeppcb import parse_line
from inspector.core.data.importers.patches import Rect, expand
from inspector.core.errors import DatasetImportError

BOARD_A = ["100,100,140,130,1", "300,320,330,350,3", "500,40,560,90,5"]
BOARD_B = ["60 500 90 540 2", "400 400 440 430 4", "200 200 230 240 6", "20,20,50,50,3"]
CONFIG = ImportConfig(ok_per_image=2)


def crop_of(path) -> Rect:
    return Rect(*map(int, Image.open(path).text["Crop"].split(",")))


def box_of(path) -> Rect:
    return Rect(*map(int, Image.open(path).text["Box"].split(",")))


def boxes(lines: list[str]) -> list[Rect]:
    return [Rect(*map(int, parse_line(line)[0])) for line in lines]


@pytest.fixture
def two_boards(deeppcb_tree):
    return deeppcb_tree({"00041000": BOARD_A, "00041001": BOARD_B})


def test_one_patch_per_annotation_line_in_its_class(two_boards, dataset):
    report = import_dataset("deeppcb", two_boards, dataset, CONFIG)
    assert report.counts == {"open": 1, "short": 1, "mousebite": 2, "spur": 1,
                             "spurious_copper": 1, "pin_hole": 1, "ok": 4}
    assert report.skipped == [] and report.add.failed == [] and report.add.duplicates == []
    names = {p.parent.name + "/" + p.name for p in dataset.image_files()}
    assert "mousebite/00041000_b02_mousebite.png" in names
    assert "mousebite/00041001_b04_mousebite.png" in names
    assert "ok/00041001_ok02.png" in names
    assert len(names) == len(BOARD_A) + len(BOARD_B) + 4


def test_patches_hold_their_box_with_context_and_minimum_size(two_boards, dataset):
    import_dataset("deeppcb", two_boards, dataset, CONFIG)
    source = two_boards / "PCBData" / "group00041" / "00041" / "00041000_test.jpg"
    board = load_rgb(source)
    for path in dataset.image_files("mousebite") + dataset.image_files("open"):
        rect, box = crop_of(path), box_of(path)
        grown = expand(box, CONFIG.context)
        assert rect.contains(grown.clamp(640, 640)) and rect.inside(640, 640)
        assert rect.width == rect.height == max(grown.width, grown.height, CONFIG.min_patch)
        if path.name.startswith("00041000"):
            pixels = load_rgb(path)
            assert np.array_equal(pixels, board[rect.y1:rect.y2, rect.x1:rect.x2])


def test_ok_patches_stay_away_from_every_box(two_boards, dataset):
    import_dataset("deeppcb", two_boards, dataset, ImportConfig(ok_per_image=5))
    ok = dataset.image_files("ok")
    assert len(ok) == 10
    for stem, lines in (("00041000", BOARD_A), ("00041001", BOARD_B)):
        grown = [expand(b, 0.5) for b in boxes(lines)]
        rects = [crop_of(p) for p in ok if p.name.startswith(stem)]
        assert len(rects) == 5
        for i, rect in enumerate(rects):
            assert rect.inside(640, 640)
            assert not any(rect.intersects(g) for g in grown)
            assert not any(rect.intersects(r) for r in rects[i + 1:])


def test_ok_patches_are_reproducible_from_seed_and_name(deeppcb_tree, tmp_path):
    from inspector.core.data.dataset import Dataset

    src = deeppcb_tree({"00041000": BOARD_A})
    crops = []
    for n, seed in enumerate((0, 0, 1)):
        ds = Dataset.create(tmp_path / f"ds{n}")
        import_dataset("deeppcb", src, ds, ImportConfig(ok_per_image=3, seed=seed))
        crops.append(sorted(crop_of(p).text() for p in ds.image_files("ok")))
    assert crops[0] == crops[1]
    assert crops[0] != crops[2]


def test_bad_lines_are_skipped_with_file_and_line(deeppcb_tree, dataset):
    lines = ["100,100,140,130,1",
             "garbage here",
             "10,10,20",
             "600,600,700,700,2",
             "700,700,720,720,2",
             "200,200,240,240,9",
             "",
             "300,300,300,340,4",
             "1e999,0,10,10,1",
             "50,400,90,440,3"]
    src = deeppcb_tree({"00041000": lines})
    report = import_dataset("deeppcb", src, dataset, ImportConfig(ok_per_image=0))
    assert report.counts == {"open": 1, "mousebite": 1}
    reasons = dict(report.skipped)
    prefix = "PCBData/group00041/00041_not/00041000.txt line "
    assert set(reasons) == {prefix + n for n in ("2", "3", "4", "5", "6", "8", "9")}
    assert "expected 5 numbers" in reasons[prefix + "2"]
    assert "not inside the 640x640 image" in reasons[prefix + "4"]
    assert "outside the 640x640 image" in reasons[prefix + "5"]
    assert "unknown defect type 9" in reasons[prefix + "6"]
    assert "no area" in reasons[prefix + "8"]
    assert "not numbers" in reasons[prefix + "9"]


def test_a_box_of_unknown_type_still_keeps_ok_patches_away(deeppcb_tree, dataset):
    lines = ["0,0,640,300,9", "0,300,300,640,9", "20,320,60,360,1"]
    src = deeppcb_tree({"00041000": lines})
    report = import_dataset("deeppcb", src, dataset, ImportConfig(ok_per_image=3, context=0))
    grown = boxes(lines)
    for path in dataset.image_files("ok"):
        assert not any(crop_of(path).intersects(g) for g in grown)
    assert report.counts["open"] == 1


def test_identical_duplicate_lines_still_make_one_file_each(deeppcb_tree, dataset):
    line = "300,300,340,330,3"
    src = deeppcb_tree({"00041000": [line, line, "300 300 340 330 3", "100,100,130,130,1"]})
    report = import_dataset("deeppcb", src, dataset, ImportConfig(ok_per_image=0))
    assert report.counts == {"mousebite": 3, "open": 1}
    files = dataset.image_files("mousebite")
    assert len(files) == 3
    assert len({f.read_bytes() for f in files}) == 3  # distinct files ...
    assert len({load_rgb(f).tobytes() for f in files}) == 1  # ... of the same pixels
    assert report.add.duplicates == []
    notes = dict(report.notes)
    assert "same patch as" in notes["PCBData/group00041/00041_not/00041000.txt line 2"]
    assert "same patch as" in notes["PCBData/group00041/00041_not/00041000.txt line 3"]


def test_reimport_is_skipped_as_duplicates(two_boards, dataset):
    first = import_dataset("deeppcb", two_boards, dataset, CONFIG)
    again = import_dataset("deeppcb", two_boards, dataset, CONFIG)
    assert sum(again.counts.values()) == 0
    assert len(again.add.duplicates) == sum(first.counts.values())


def test_comma_and_space_separators(deeppcb_tree, dataset):
    src = deeppcb_tree({"00041000": ["10,10,40,40,1", "100 100 140 140 2", "200, 200, 240, 240, 4",
                                     "300\t300\t340\t340\t6"]})
    report = import_dataset("deeppcb", src, dataset, ImportConfig(ok_per_image=0))
    assert report.counts == {"open": 1, "short": 1, "spur": 1, "pin_hole": 1}
    assert report.skipped == []


def test_missing_test_image_is_reported(deeppcb_tree, dataset):
    src = deeppcb_tree({"00041000": BOARD_A, "00041001": BOARD_B})
    (src / "PCBData" / "group00041" / "00041" / "00041001_test.jpg").unlink()
    report = import_dataset("deeppcb", src, dataset, CONFIG)
    assert sum(report.counts.values()) == len(BOARD_A) + 2
    [(item, reason)] = report.skipped
    assert item == "PCBData/trainval.txt line 2"
    assert "00041001_test.jpg is missing" in reason


def test_an_unreadable_test_image_is_reported(deeppcb_tree, dataset):
    src = deeppcb_tree({"00041000": BOARD_A, "00041001": BOARD_B})
    (src / "PCBData" / "group00041" / "00041" / "00041001_test.jpg").write_bytes(b"no jpeg")
    report = import_dataset("deeppcb", src, dataset, CONFIG)
    assert sum(report.counts.values()) == len(BOARD_A) + 2
    [(item, reason)] = report.skipped
    assert item.endswith("00041001_test.jpg") and "not an image" in reason
    assert "4 annotated boxes were not imported" in reason


def test_without_list_files_boards_are_discovered(deeppcb_tree, dataset):
    src = deeppcb_tree({"00041000": BOARD_A, "00041001": BOARD_B}, lists=False)
    (src / "PCBData" / "group00041" / "00041_not" / "00041001.txt").unlink()
    report = import_dataset("deeppcb", src / "PCBData", dataset, CONFIG)
    assert sum(report.counts.values()) == len(BOARD_A) + 2
    [(item, reason)] = report.skipped
    assert item == "group00041/00041/00041001_test.jpg"
    assert "annotation file" in reason and "missing" in reason


def test_a_list_line_leaving_the_folder_is_not_followed(deeppcb_tree, dataset):
    src = deeppcb_tree({"00041000": BOARD_A})
    with (src / "PCBData" / "trainval.txt").open("a") as handle:
        handle.write("../../outside/x.jpg ../../outside/x.txt\n/etc/x.jpg /etc/x.txt\n")
    report = import_dataset("deeppcb", src, dataset, CONFIG)
    assert sum(report.counts.values()) == len(BOARD_A) + 2
    assert [reason for _, reason in report.skipped] == [
        "names a file outside the DeepPCB folder; not read"] * 2


def test_no_boards_at_all_is_an_error(tmp_path, dataset):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetImportError, match="No DeepPCB boards"):
        import_dataset("deeppcb", tmp_path / "empty", dataset)


def test_a_crowded_board_gives_fewer_ok_patches_and_says_so(deeppcb_tree, dataset):
    src = deeppcb_tree({"00041000": ["0,0,640,400,1", "0,380,500,640,2"]})
    report = import_dataset("deeppcb", src, dataset, ImportConfig(ok_per_image=3, context=0.1))
    assert report.counts.get("ok", 0) < 3
    [(_item, note)] = report.notes
    assert "of 3 defect-free patches" in note


def test_source_is_untouched(two_boards, dataset, snapshot):
    before = snapshot(two_boards)
    import_dataset("deeppcb", two_boards, dataset, CONFIG)
    assert snapshot(two_boards) == before


def test_deeppcb_stop_event(two_boards, dataset):
    stop = threading.Event()
    report = import_dataset("deeppcb", two_boards, dataset, CONFIG,
                            on_progress=lambda done, total: stop.set(), stop_event=stop)
    assert report.add.stopped
    assert sum(report.counts.values()) < len(BOARD_A) + len(BOARD_B) + 4


def test_deeppcb_progress_reaches_total(two_boards, dataset):
    seen = []
    import_dataset("deeppcb", two_boards, dataset, CONFIG,
                   on_progress=lambda d, t: seen.append((d, t)))
    total = 2 + len(BOARD_A) + len(BOARD_B) + 4
    assert seen[-1] == (total, total)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
