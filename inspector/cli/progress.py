"""A progress bar for core callbacks of the form on_progress(done, total)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def progress_bar(description: str, unit: str = "img") -> Iterator[Callable[[int, int], None]]:
    from tqdm import tqdm

    bar = tqdm(desc=description, unit=unit, file=sys.stderr, leave=False, dynamic_ncols=True,
               disable=None)  # None: off when stderr is not a terminal

    def update(done: int, total: int) -> None:
        if bar.total != total:
            bar.total = total
        bar.n = done
        bar.refresh()

    try:
        yield update
    finally:
        bar.close()
