"""Fixtures of the results store tests: results made to order, a store in tmp_path, a fixed
time zone."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from inspector.config import ResultsConfig
from inspector.core.results import InspectionResult, ResultsStore

ResultMaker = Callable[..., InspectionResult]
T0 = 1_710_000_000.0  # 2024-03-09 16:00 UTC


def color_image(rgb: tuple[int, int, int], size: tuple[int, int] = (48, 64)) -> np.ndarray:
    """An RGB uint8 image of one colour (height, width) with a little texture."""
    image = np.empty((*size, 3), np.uint8)
    image[...] = rgb
    image[::8, :, :] //= 2
    return image


@pytest.fixture
def make_result() -> ResultMaker:
    """make_result(verdict="FAIL", t=T0, label=..., frame=True, **fields)"""

    def make(verdict: str = "FAIL", t: float = T0, label: str | None = None,
             frame: bool = False, **fields: object) -> InspectionResult:
        label = label or ("ok" if verdict == "PASS" else "short")
        other = "short" if label == "ok" else "ok"
        values: dict[str, object] = {
            "time": t, "source": "virtual", "model_version": "v1", "verdict": verdict,
            "label": label, "confidence": 0.875,
            "probabilities": {label: 0.875, other: 0.125},
            "thresholds": {"ok": 0.6, "short": 0.5},
        }
        if frame:
            values["frame"] = color_image((220, 30, 10))
            values["overlay"] = color_image((10, 30, 220))
        values.update(fields)
        return InspectionResult(**values)  # type: ignore[arg-type]

    return make


@pytest.fixture
def open_store(tmp_path: Path) -> Iterator[Callable[..., ResultsStore]]:
    """open_store(config=None, **kwargs): a store at tmp_path/results.sqlite, closed after."""
    stores: list[ResultsStore] = []

    def make(config: ResultsConfig | None = None, **kwargs: object) -> ResultsStore:
        store = ResultsStore(tmp_path / "results.sqlite", config, **kwargs)  # type: ignore[arg-type]
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.close()


@pytest.fixture
def store(open_store: Callable[..., ResultsStore]) -> ResultsStore:
    return open_store()


@pytest.fixture
def fixed_tz(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """The process time zone is UTC (TZ + tzset) until the test ends; fixed_tz(name) changes it."""

    def set_tz(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    set_tz("UTC")
    yield set_tz
    monkeypatch.undo()
    time.tzset()
