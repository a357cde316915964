from __future__ import annotations

import io
import stat
import struct
import threading
import zipfile

import numpy as np
import pytest
from PIL import Image

from inspector.core.data.importers import archive, import_dataset
from inspector.core.errors import DatasetImportError


def png(seed: int, size: int = 16) -> bytes:
    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def make_zip(path, entries) -> bytes:
    """entries: (name or ZipInfo, bytes); returns the archive's bytes (also written to path)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return path.read_bytes()


def central_record(data: bytes, name: str) -> int:
    """Offset of the central-directory record of the entry called name."""
    offset = data.find(b"PK\x01\x02")
    while offset != -1:
        length = struct.unpack_from("<H", data, offset + 28)[0]
        if data[offset + 46: offset + 46 + length] == name.encode():
            return offset
        offset = data.find(b"PK\x01\x02", offset + 4)
    raise AssertionError(f"{name} is not in the central directory")


def patch(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    buffer = bytearray(data)
    struct.pack_into(fmt, buffer, offset, value)
    return bytes(buffer)


@pytest.fixture
def outside(tmp_path):
    """Everything under tmp_path outside the dataset: must not change during an import."""

    def listing() -> set[str]:
        return {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")
                if not p.relative_to(tmp_path).as_posix().startswith("ds")}

    return listing


GOOD = [("ok/a.png", png(1)), ("ok/b.png", png(2)), ("short/c.png", png(3)),
        ("short/batch/d.png", png(4))]


def test_zip_happy_path(tmp_path, dataset, outside, snapshot):
    src = tmp_path / "data.zip"
    make_zip(src, [*GOOD, ("top.png", png(5)), ("ok/readme.txt", b"hello"),
                   ("__MACOSX/ok/._a.png", b"junk"), ("ok/.DS_Store", b"junk")])
    before, source_bytes = outside(), src.read_bytes()
    report = import_dataset("zip", src, dataset)
    assert report.counts == {"ok": 2, "short": 2}
    assert dataset.classes() == ["ok", "short"]
    reasons = dict(report.skipped)
    assert "not in a class folder" in reasons["data.zip:top.png"]
    assert "not an image" in reasons["data.zip:ok/readme.txt"]
    assert len(report.skipped) == 2  # macOS metadata and hidden files are ignored quietly
    assert outside() == before
    assert src.read_bytes() == source_bytes
    names = sorted(p.name for p in dataset.image_files())
    assert names == ["a.png", "b.png", "c.png", "d.png"]
    assert (dataset.root / "ok" / "a.png").read_bytes() == png(1)


def test_one_wrapping_folder_is_tolerated(tmp_path, dataset):
    src = tmp_path / "wrapped.zip"
    make_zip(src, [(f"mydata/{name}", data) for name, data in GOOD])
    report = import_dataset("zip", src, dataset)
    assert report.counts == {"ok": 2, "short": 2}
    assert dataset.classes() == ["ok", "short"]


@pytest.mark.parametrize(("name", "reason"), [
    ("../evil.png", "'..'"),
    ("ok/../../evil.png", "'..'"),
    ("/tmp/abs_evil.png", "absolute"),
    ("ok\\..\\..\\evil.png", "backslash"),
    ("C:/evil.png", "drive letter"),
])
def test_unsafe_names_are_skipped_and_nothing_lands_outside(tmp_path, dataset, outside, name,
                                                            reason):
    # zipfile writes names as given; the hostile one is put into the archive's bytes in place
    # of a placeholder of the same length, in the local header and the central directory.
    raw = name.encode("utf-8")
    src = tmp_path / "evil.zip"
    data = make_zip(src, [*GOOD, ("Q" * len(raw), png(9))])
    assert data.count(b"Q" * len(raw)) == 2
    src.write_bytes(data.replace(b"Q" * len(raw), raw))
    before = outside()
    report = import_dataset("zip", src, dataset)
    assert report.counts == {"ok": 2, "short": 2}
    [(_item, why)] = report.skipped
    assert reason in why
    assert outside() == before
    assert not (tmp_path / "evil.png").exists()
    assert {p.name for p in dataset.root.iterdir()} == {".inspector", "ok", "short"}


@pytest.mark.parametrize(("kind", "reason"), [(stat.S_IFLNK, "symbolic link"),
                                              (stat.S_IFIFO, "special file"),
                                              (stat.S_IFCHR, "special file")])
def test_links_and_special_files_are_skipped(tmp_path, dataset, outside, kind, reason):
    link = zipfile.ZipInfo("ok/link.png")
    link.create_system = 3
    link.external_attr = (kind | 0o777) << 16
    src = tmp_path / "links.zip"
    make_zip(src, [*GOOD, (link, b"../../../../etc/passwd")])
    before = outside()
    report = import_dataset("zip", src, dataset)
    assert report.counts == {"ok": 2, "short": 2}
    [(item, why)] = report.skipped
    assert item == "links.zip:ok/link.png" and reason in why
    assert outside() == before


def test_encrypted_entries_are_skipped(tmp_path, dataset):
    src = tmp_path / "secret.zip"
    data = make_zip(src, [*GOOD, ("ok/secret.png", png(8))])
    record = central_record(data, "ok/secret.png")
    flags = struct.unpack_from("<H", data, record + 8)[0]
    src.write_bytes(patch(data, record + 8, "<H", flags | 0x1))
    report = import_dataset("zip", src, dataset)
    assert report.counts == {"ok": 2, "short": 2}
    [(item, why)] = report.skipped
    assert item == "secret.zip:ok/secret.png" and "encrypted" in why


def test_a_zip_bomb_refuses_the_whole_archive(tmp_path, dataset, outside):
    src = tmp_path / "bomb.zip"
    make_zip(src, [*GOOD, ("ok/bomb.png", b"\x00" * (4 * 1024**2))])
    before = outside()
    with pytest.raises(DatasetImportError, match="zip bomb"):
        import_dataset("zip", src, dataset)
    assert outside() == before
    assert dataset.classes() == []


def test_entries_sharing_data_refuse_the_archive(tmp_path, dataset):
    src = tmp_path / "overlap.zip"
    data = make_zip(src, GOOD)
    record = central_record(data, "short/c.png")
    src.write_bytes(patch(data, record + 42, "<I", 0))  # points at the first entry's data
    with pytest.raises(DatasetImportError, match="share their data"):
        import_dataset("zip", src, dataset)
    assert dataset.classes() == []


def test_caps_on_entries_and_total_size(tmp_path, dataset, monkeypatch):
    src = tmp_path / "many.zip"
    make_zip(src, GOOD)
    monkeypatch.setattr(archive, "MAX_ENTRIES", 3)
    with pytest.raises(DatasetImportError, match="4 entries"):
        import_dataset("zip", src, dataset)
    monkeypatch.setattr(archive, "MAX_ENTRIES", 100)
    monkeypatch.setattr(archive, "MAX_TOTAL_BYTES", 100)
    with pytest.raises(DatasetImportError, match="would unpack"):
        import_dataset("zip", src, dataset)
    assert dataset.classes() == []


def test_a_header_that_understates_the_size_cannot_bring_more(tmp_path, dataset):
    src = tmp_path / "liar.zip"
    data = make_zip(src, [*GOOD, ("ok/liar.png", png(11, size=64))])
    record = central_record(data, "ok/liar.png")
    src.write_bytes(patch(data, record + 24, "<I", 100))  # declares 100 bytes uncompressed
    report = import_dataset("zip", src, dataset)
    assert report.counts == {"ok": 2, "short": 2}
    [(item, message)] = report.add.failed
    assert item == "liar.zip:ok/liar.png" and "liar.png" in message


def test_the_limited_reader_never_returns_more_than_declared(tmp_path):
    src = tmp_path / "x.zip"
    make_zip(src, [("ok/a.png", png(1, size=64))])
    with zipfile.ZipFile(src) as zf:
        info = zf.getinfo("ok/a.png")
        info.file_size = 50
        with pytest.raises(archive._EntryError):
            archive._read_limited(zf, info)


@pytest.mark.parametrize("content", [b"this is not a zip file at all", b"PK\x03\x04broken", b""])
def test_not_a_zip_is_refused_cleanly(tmp_path, dataset, content):
    src = tmp_path / "fake.zip"
    src.write_bytes(content)
    with pytest.raises(DatasetImportError, match="not a zip archive"):
        import_dataset("zip", src, dataset)


def test_a_truncated_zip_is_refused(tmp_path, dataset):
    src = tmp_path / "cut.zip"
    data = make_zip(src, GOOD)
    src.write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetImportError, match="not a zip archive or is damaged"):
        import_dataset("zip", src, dataset)


def test_a_corrupt_image_inside_is_reported_and_the_rest_imported(tmp_path, dataset, outside):
    src = tmp_path / "mixed.zip"
    whole = png(12, size=64)
    make_zip(src, [*GOOD, ("ok/broken.png", whole[: len(whole) // 2]),
                   ("short/text.jpg", b"not a jpeg"), ("short/empty.png", b"")])
    before = outside()
    report = import_dataset("zip", src, dataset)
    assert report.counts == {"ok": 2, "short": 2}
    failed = dict(report.add.failed)
    assert set(failed) == {"mixed.zip:ok/broken.png", "mixed.zip:short/text.jpg",
                           "mixed.zip:short/empty.png"}
    assert "damaged" in failed["mixed.zip:ok/broken.png"]
    assert "not a supported image" in failed["mixed.zip:short/text.jpg"]
    assert outside() == before


def test_an_image_over_the_pixel_limit_is_refused(tmp_path, dataset):
    dataset.config.max_image_pixels = 100
    src = tmp_path / "big.zip"
    make_zip(src, [("ok/a.png", png(1, size=8)), ("ok/big.png", png(2, size=32))])
    report = import_dataset("zip", src, dataset)
    assert report.counts == {"ok": 1}
    [(_item, message)] = report.add.failed
    assert "over 100 pixels" in message


def test_bad_class_folder_in_zip(tmp_path, dataset):
    src = tmp_path / "names.zip"
    make_zip(src, [("ok/a.png", png(1)), ("nul/b.png", png(2)), ("nul/c.png", png(3))])
    report = import_dataset("zip", src, dataset)
    assert report.counts == {"ok": 1}
    assert report.skipped == [("names.zip:nul/", report.skipped[0][1])]
    assert "cannot be a class name" in report.skipped[0][1]


def test_zip_stop_event(tmp_path, dataset):
    src = tmp_path / "data.zip"
    make_zip(src, GOOD)
    stop = threading.Event()
    report = import_dataset("zip", src, dataset,
                            on_progress=lambda done, total: stop.set(), stop_event=stop)
    assert report.add.stopped
    assert len(report.add.added) < 4


def test_zip_progress_reaches_total(tmp_path, dataset):
    src = tmp_path / "data.zip"
    make_zip(src, GOOD)
    seen = []
    import_dataset("zip", src, dataset, on_progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (4, 4)
