"""The thumbnail grid: 50,000 rows stay fast, decoding stays off the GUI thread, filters, keys."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QElapsedTimer, Qt, QTimer

from inspector.gui.widgets.thumbnail_grid import (
    ANY_PROBLEM,
    DUPLICATE,
    MIME_TYPE,
    UNREADABLE,
    ThumbnailGrid,
    decode_paths,
)
from inspector.gui.workers.thumbnails import ThumbnailLoader, decode_thumbnail

TIMEOUT = 10_000


@dataclass(frozen=True, slots=True)
class Item:
    path: str
    label: str
    split: str


@pytest.fixture
def loader(qtbot):
    loader = ThumbnailLoader()
    yield loader
    loader.close()


@pytest.fixture
def grid(qtbot, loader) -> ThumbnailGrid:
    grid = ThumbnailGrid(loader)
    qtbot.addWidget(grid)
    grid.resize(1000, 700)
    grid.show()
    qtbot.waitExposed(grid)
    return grid


def fake_items(n: int) -> list[Item]:
    splits = ("train", "val", "test")
    return [Item(f"/no/such/dir/c{i % 5}/img_{i:06d}.png", f"c{i % 5}", splits[i % 3])
            for i in range(n)]


def test_fifty_thousand_rows_build_and_scroll_fast_and_request_only_visible_cells(
        qtbot, grid, loader):
    items = fake_items(50_000)
    start = time.perf_counter()
    grid.grid_model.set_images(items)
    qtbot.wait(1)  # the layout happens in the event loop
    built = time.perf_counter() - start
    assert grid.grid_model.rowCount() == 50_000
    assert built < 2.0, f"building took {built:.2f} s"

    scrollbar = grid.verticalScrollBar()
    assert scrollbar.maximum() > 100_000  # a long grid of uniform cells
    visible = len(grid.visible_rows())
    assert 10 <= visible <= 200
    steps = 40
    start = time.perf_counter()
    for step in range(steps + 1):
        scrollbar.setValue(scrollbar.maximum() * step // steps)
        grid.viewport().repaint()  # paint now, as a user scrolling would see each position
    scrolled = time.perf_counter() - start
    assert scrolled < 10.0, f"scrolling took {scrolled:.2f} s"
    print(f"\n50,000 rows: built in {built * 1000:.0f} ms, {steps + 1} scroll positions "
          f"painted in {scrolled * 1000:.0f} ms, {loader.requested} decode requests "
          f"({visible} cells visible)")
    # each position asks only for its visible cells (plus a partly visible line)
    assert loader.requested <= (steps + 1) * (visible + 20)
    assert loader.requested < 50_000 // 10
    assert grid.visible_rows()[-1] == 49_999
    # the paths do not exist: they end as "cannot read" placeholders, never as errors
    qtbot.waitUntil(lambda: loader.has_failed(items[49_999].path), timeout=TIMEOUT)


def test_the_event_loop_never_stalls_while_thumbnails_load(qtbot, grid, loader, tmp_path,
                                                          app_heap):
    rng = np.random.default_rng(0)
    items = []
    for i in range(500):
        path = tmp_path / f"c{i % 3}" / f"img_{i:03d}.png"
        path.parent.mkdir(exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (48, 48, 3), dtype=np.uint8)).save(path)
        items.append(Item(str(path), f"c{i % 3}", "train"))
    grid.grid_model.set_images(items)
    qtbot.wait(1)

    gaps: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.elapsed()]

    def tick() -> None:
        now = clock.elapsed()
        gaps.append(now - last[0])
        last[0] = now

    def scroll_on() -> None:  # a user paging down through the grid
        bar = grid.verticalScrollBar()
        bar.setValue(min(bar.maximum(), bar.value() + bar.pageStep()))

    ticker = QTimer()
    ticker.setInterval(10)
    ticker.timeout.connect(tick)
    pager = QTimer()
    pager.setInterval(120)
    pager.timeout.connect(scroll_on)
    ticker.start()
    pager.start()
    start = time.perf_counter()
    try:
        qtbot.waitUntil(lambda: all(loader.is_cached(i.path) for i in items),
                        timeout=30_000)
    finally:
        ticker.stop()
        pager.stop()
    took = time.perf_counter() - start
    longest = max(gaps)
    print(f"\n500 thumbnails loaded in {took:.2f} s; longest event-loop gap {longest} ms "
          f"(timer at 10 ms, {len(gaps)} ticks)")
    assert longest < 100, f"the event loop stalled for {longest} ms"
    assert loader.decoded >= 500
    assert not any(loader.has_failed(i.path) for i in items)


def test_thumbnails_are_small_and_placeholders_show_until_ready(qtbot, grid, loader,
                                                                 tmp_path, make_image):
    path = make_image(tmp_path / "big.png", size=(400, 200))
    image = decode_thumbnail(path, 96)
    assert (image.width(), image.height()) == (96, 48)
    assert loader.thumbnail(str(path)) is None  # not yet: queued
    with qtbot.waitSignal(loader.ready, timeout=TIMEOUT) as blocker:
        pass
    assert str(path) in blocker.args[0]
    cached = loader.thumbnail(str(path))
    assert cached is not None and cached.width() == 96
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    assert loader.thumbnail(str(broken)) is None
    qtbot.waitUntil(lambda: loader.has_failed(str(broken)), timeout=TIMEOUT)


def test_the_cache_keeps_the_most_recent_thumbnails(qtbot, tmp_path, make_image):
    paths = [str(make_image(tmp_path / f"{i}.png", size=(64, 64), seed=i)) for i in range(6)]
    one = decode_thumbnail(paths[0], 32).sizeInBytes()
    loader = ThumbnailLoader(size=32, cache_bytes=3 * one)
    try:
        for path in paths:
            loader.request(path)
        qtbot.waitUntil(lambda: loader.decoded == 6, timeout=TIMEOUT)
        assert sum(loader.is_cached(p) for p in paths) == 3
    finally:
        loader.close()


def test_filters_by_class_split_problem_and_paths(qtbot, grid):
    items = fake_items(30)
    model = grid.grid_model
    model.set_images(items)
    model.set_problems({items[0].path: {UNREADABLE}, items[7].path: {DUPLICATE}})
    model.set_filter(label="c2")
    assert {model.image_at(r).label for r in range(model.rowCount())} == {"c2"}
    assert model.rowCount() == 6
    model.set_filter(label="c2", split="val")
    assert [model.image_at(r).path for r in range(model.rowCount())] == \
        [i.path for i in items if i.label == "c2" and i.split == "val"]
    model.set_filter(problem=ANY_PROBLEM)
    assert model.rowCount() == 2
    model.set_filter(problem=DUPLICATE)
    assert [model.image_at(0).path] == [items[7].path]
    model.set_filter(paths=[items[3].path, items[4].path])
    assert model.rowCount() == 2
    model.set_filter()
    assert model.rowCount() == 30


def test_multi_selection_drags_the_selected_paths(qtbot, grid):
    items = fake_items(20)
    grid.grid_model.set_images(items)
    model = grid.grid_model
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton,
                     pos=grid.visualRect(model.index(2)).center())
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.ShiftModifier,
                     pos=grid.visualRect(model.index(4)).center())
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.ControlModifier,
                     pos=grid.visualRect(model.index(9)).center())
    selected = grid.selected_paths()
    assert selected == [items[i].path for i in (2, 3, 4, 9)]
    mime = model.mimeData(grid.selectionModel().selectedIndexes())
    assert mime.hasFormat(MIME_TYPE)
    assert decode_paths(mime) == selected
    assert [Path(u.toLocalFile()).name for u in mime.urls()] == [Path(p).name
                                                                for p in selected]


def test_keys_ask_for_relabel_delete_and_open(qtbot, grid):
    grid.grid_model.set_images(fake_items(5))
    grid.setCurrentIndex(grid.grid_model.index(1))
    with qtbot.waitSignal(grid.number_pressed, timeout=1000) as blocker:
        qtbot.keyClick(grid, Qt.Key.Key_3)
    assert blocker.args == [3]
    with qtbot.waitSignal(grid.delete_requested, timeout=1000):
        qtbot.keyClick(grid, Qt.Key.Key_Delete)
    with qtbot.waitSignal(grid.open_requested, timeout=1000) as blocker:
        qtbot.keyClick(grid, Qt.Key.Key_Return)
    assert blocker.args == [fake_items(5)[1].path]
