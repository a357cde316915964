from __future__ import annotations

import threading

import pytest
from PIL import Image

from inspector.config import ImportConfig
from inspector.core.data.importers import import_dataset
from inspector.core.data.importers.patches import Rect, expand
from inspector.core.data.importers.voc import class_for
from inspector.core.errors import DatasetImportError

PKU = {
    "Missing_hole/01_missing_hole_01": [("missing_hole", 100, 100, 130, 130),
                                        ("missing_hole", 400, 420, 430, 455)],
    "Mouse_bite/01_mouse_bite_01": [("mouse_bite", 200, 200, 230, 236)],
    "Open_circuit/01_open_circuit_01": [("Open-Circuit", 50, 300, 80, 340)],
    "Short/01_short_01": [("short", 500, 500, 540, 530), ("Spurious Copper", 80, 80, 120, 110),
                          ("spur", 300, 60, 330, 90), ("scratch", 200, 400, 260, 430)],
}
CONFIG = ImportConfig(ok_per_image=1)


def crop_of(path) -> Rect:
    return Rect(*map(int, Image.open(path).text["Crop"].split(",")))


@pytest.mark.parametrize(("label", "expected"), [
    ("missing_hole", "missing_hole"), ("Missing_hole", "missing_hole"),
    ("mouse_bite", "mousebite"), ("Mouse-Bite", "mousebite"), ("open_circuit", "open"),
    ("Open Circuit", "open"), ("short", "short"), ("SHORT", "short"), ("spur", "spur"),
    ("spurious_copper", "spurious_copper"), ("Spurious-Copper", "spurious_copper"),
    ("Scratch", "scratch"), ("solder  ball", "solder_ball"),
])
def test_label_mapping(label, expected):
    assert class_for(label) == expected


def test_one_patch_per_object_with_mapped_classes(voc_tree, dataset):
    src = voc_tree(PKU)
    report = import_dataset("voc", src, dataset, CONFIG)
    assert report.counts == {"missing_hole": 2, "mousebite": 1, "open": 1, "short": 1,
                             "spurious_copper": 1, "spur": 1, "scratch": 1, "ok": 4}
    assert report.skipped == [] and report.add.failed == []
    names = {p.name for p in dataset.image_files("missing_hole")}
    assert names == {"01_missing_hole_01_b01_missing_hole.png",
                     "01_missing_hole_01_b02_missing_hole.png"}
    info = Image.open(dataset.image_files("open")[0]).text
    assert info["Source"] == "images/Open_circuit/01_open_circuit_01.jpg"
    assert info["Annotation"] == "Annotations/Open_circuit/01_open_circuit_01.xml object 1"


def test_voc_ok_patches_avoid_the_boxes(voc_tree, dataset):
    src = voc_tree({"Short/01_short_01": PKU["Short/01_short_01"]})
    import_dataset("voc", src, dataset, ImportConfig(ok_per_image=4))
    grown = [expand(Rect(x1, y1, x2, y2), 0.5) for _, x1, y1, x2, y2 in PKU["Short/01_short_01"]]
    ok = dataset.image_files("ok")
    assert len(ok) == 4
    for path in ok:
        assert not any(crop_of(path).intersects(g) for g in grown)


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<annotation><filename>01_short_01.jpg</filename>
<object><name>&lol9;</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>9</xmax><ymax>9</ymax>
</bndbox></object></annotation>
"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE annotation [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<annotation><filename>01_short_01.jpg</filename>
<object><name>&secret;</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>9</xmax><ymax>9</ymax>
</bndbox></object></annotation>
"""


@pytest.mark.parametrize("hostile", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_malicious_xml_is_refused_cleanly(voc_tree, dataset, hostile):
    src = voc_tree(PKU)
    (src / "Annotations" / "Short" / "evil.xml").write_text(hostile, encoding="utf-8")
    report = import_dataset("voc", src, dataset, CONFIG)
    [(item, reason)] = report.skipped
    assert item == "Annotations/Short/evil.xml"
    assert "refused" in reason and "entities" in reason
    assert sum(report.counts.values()) == 8 + 4  # the other files imported as usual
    assert all(len(name) < 64 for name in dataset.classes())


def test_broken_and_foreign_xml_are_skipped(voc_tree, dataset):
    src = voc_tree({"Short/01_short_01": [("short", 10, 10, 40, 40)]})
    (src / "Annotations" / "broken.xml").write_text("<annotation><filename>", encoding="utf-8")
    (src / "Annotations" / "other.xml").write_text("<svg/>", encoding="utf-8")
    report = import_dataset("voc", src, dataset, CONFIG)
    reasons = dict(report.skipped)
    assert "not valid XML" in reasons["Annotations/broken.xml"]
    assert "not a Pascal VOC file" in reasons["Annotations/other.xml"]
    assert report.counts == {"short": 1, "ok": 1}


def test_image_found_by_stem_and_missing_image_reported(voc_tree, voc_xml, dataset):
    src = voc_tree({"Short/01_short_01": [("short", 10, 10, 40, 40)],
                    "Spur/01_spur_01": [("spur", 10, 10, 40, 40)]})
    xml = src / "Annotations" / "Short" / "01_short_01.xml"
    xml.write_text(voc_xml("renamed_elsewhere.png", [("short", 10, 10, 40, 40)]))
    (src / "images" / "Spur" / "01_spur_01.jpg").unlink()
    report = import_dataset("voc", src, dataset, CONFIG)
    assert report.counts == {"short": 1, "ok": 1}
    [(item, reason)] = report.skipped
    assert item == "Annotations/Spur/01_spur_01.xml" and "01_spur_01.jpg was not found" in reason


def test_boxes_partly_outside_are_clamped_and_outside_skipped(voc_tree, dataset):
    src = voc_tree({"Short/01_short_01": [("short", 620, 620, 700, 690),
                                          ("short", 700, 700, 760, 760),
                                          ("short", 10, 10, "x", 40)]})
    report = import_dataset("voc", src, dataset, ImportConfig(ok_per_image=0))
    assert report.counts == {"short": 1}
    [patch] = dataset.image_files("short")
    assert Image.open(patch).text["Box"] == "620,620,640,640"
    reasons = dict(report.skipped)
    where = "Annotations/Short/01_short_01.xml object "
    assert "outside the 640x640 image" in reasons[where + "2"]
    assert "<xmax> is 'x'" in reasons[where + "3"]
    assert "clamped to 620,620,640,640" in dict(report.notes)[where + "1"]


def test_invalid_label_is_skipped_but_its_box_avoided(voc_tree, dataset):
    src = voc_tree({"Short/01_short_01": [("a/b", 0, 0, 640, 600), ("short", 10, 610, 40, 640)]})
    report = import_dataset("voc", src, dataset, ImportConfig(ok_per_image=1, min_patch=16,
                                                              context=0))
    assert report.counts.get("short") == 1
    assert "cannot become a class" in report.skipped[0][1]
    for path in dataset.image_files("ok"):
        assert crop_of(path).y1 >= 600


def test_no_xml_is_an_error(tmp_path, dataset):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetImportError, match=r"No Pascal VOC annotation files"):
        import_dataset("voc", tmp_path / "empty", dataset)


def test_voc_source_untouched_and_stop(voc_tree, dataset, snapshot):
    src = voc_tree(PKU)
    before = snapshot(src)
    stop = threading.Event()
    stop.set()
    report = import_dataset("voc", src, dataset, CONFIG, stop_event=stop)
    assert report.add.stopped and report.add.added == []
    assert snapshot(src) == before
