"""open_source: what each spec form opens, and the errors for the ones that name nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from inspector.config import SourceConfig
from inspector.core.errors import CameraError
from inspector.core.inference.sources import (
    CameraSource,
    ImageFolderSource,
    UrlSource,
    VideoFileSource,
    VirtualCamera,
    open_source,
)


@pytest.mark.parametrize(("spec", "index"), [("0", 0), ("1", 1), ("camera:0", 0),
                                             (" camera:12 ", 12), ("CAMERA:2", 2)])
def test_camera_specs(spec: str, index: int) -> None:
    source = open_source(spec)
    assert isinstance(source, CameraSource)
    assert source.index == index and source.drop
    assert source.describe() == f"camera {index}"


@pytest.mark.parametrize("spec", ["rtsp://10.0.0.5:554/stream1", "http://127.0.0.1:8080/v.mjpg",
                                  "https://cam.local/video", "RTSP://host/x"])
def test_url_specs(spec: str) -> None:
    source = open_source(spec)
    assert isinstance(source, UrlSource) and source.drop
    assert source.url == spec


def test_url_passwords_are_never_shown() -> None:
    source = open_source("rtsp://admin:s3cret@10.0.0.5:554/live")
    assert "s3cret" not in source.describe()
    assert source.describe() == "stream rtsp://admin:***@10.0.0.5:554/live"


def test_files_folders_and_virtual(tmp_path: Path) -> None:
    clip = tmp_path / "clip.MP4"
    clip.write_bytes(b"not really a video")  # the spec only checks the name: states report
    video = open_source(str(clip))
    assert isinstance(video, VideoFileSource)
    assert not video.drop and not video.realtime
    folder = open_source(str(tmp_path))
    assert isinstance(folder, ImageFolderSource) and not folder.drop
    virtual = open_source("virtual")
    assert isinstance(virtual, VirtualCamera) and virtual.seed == 0 and virtual.drop
    assert virtual.realtime and virtual.mode == "board"
    assert (virtual.width, virtual.height, virtual.fps) == (640, 480, 15.0)
    seeded = open_source("virtual:7", mode="patch", size=128)
    assert isinstance(seeded, VirtualCamera)
    assert (seeded.seed, seeded.mode, seeded.size) == (7, "patch", 128)
    unpaced = open_source("virtual", realtime=False)
    assert not unpaced.drop  # made on demand: no core spent on frames nobody takes
    assert open_source("virtual", realtime=False, drop=True).drop


def test_overrides_and_config_objects() -> None:
    config = SourceConfig(spec="virtual:3", width=320, height=240, fps=5)
    source = open_source(config, fps=30.0, realtime=False)
    assert isinstance(source, VirtualCamera)
    assert (source.width, source.height, source.fps, source.realtime) == (320, 240, 30.0, False)
    camera = open_source("2", width=1280, height=720, reconnect_attempts=3, drop=False)
    assert isinstance(camera, CameraSource)
    assert camera.config.width == 1280 and camera.config.reconnect_attempts == 3
    assert not camera.drop


def test_an_option_of_another_kind_is_ignored_an_unknown_one_refused() -> None:
    camera = open_source("0", size=224, mode="patch", realtime=True)  # virtual-only options
    assert isinstance(camera, CameraSource)
    with pytest.raises(TypeError, match="sizee"):
        open_source("virtual", sizee=224)


@pytest.mark.parametrize(("spec", "why"), [
    ("", "empty"),
    ("camera:x", "whole number"),
    ("virtual:abc", "seed"),
    ("ftp://host/file", "not supported"),
    ("no/such/place", "no such file or folder"),
    ("missing.mp4", "no such video"),
    ("rtsp://", "no address"),
])
def test_malformed_specs_raise_camera_error_listing_the_forms(spec: str, why: str) -> None:
    with pytest.raises(CameraError, match=why) as info:
        open_source(spec)
    message = str(info.value)
    for form in ("camera:0", "rtsp://", "virtual:7", "folder", ".mp4"):
        assert form in message


def test_a_file_that_is_not_a_video_is_refused(tmp_path: Path) -> None:
    image = tmp_path / "board.png"
    image.write_bytes(b"x")
    with pytest.raises(CameraError, match="not a video file"):
        open_source(str(image))


@pytest.mark.parametrize("overrides", [{"fps": -1}, {"width": 3}, {"loop": "perhaps"},
                                       {"reconnect_attempts": -2}])
def test_invalid_settings_raise_camera_error(overrides: dict) -> None:
    with pytest.raises(CameraError, match="invalid frame source settings"):
        open_source("virtual", **overrides)


@pytest.mark.parametrize("options", [{"mode": "film"}, {"size": 8}, {"style": "oil"},
                                     {"classes": ["scratch"]}, {"ok_fraction": 2.0},
                                     {"classes": "spur"}])
def test_invalid_virtual_options_raise_camera_error(options: dict) -> None:
    with pytest.raises(CameraError):
        open_source("virtual", **options)


def test_importing_the_package_does_not_import_opencv() -> None:
    code = ("import sys, inspector.core.inference.sources as s; s.open_source('virtual'); "
            "s.open_source('0'); print('cv2' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
