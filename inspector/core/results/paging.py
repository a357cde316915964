"""Random access to the results table in display order, fast at a million rows, for a viewer.

A `Pager` shows the rows matching a `Filters` in display order (newest first: time DESC, id
DESC, the order of `ResultsStore.query`) as rows 0 .. total-1, read in pages of `page_size`
rows kept in a small LRU cache; the table is never read whole.

The row set is frozen when the pager (re)loads: one read transaction counts the matching rows
and notes the newest of them, the table's largest id and its oldest row. Page reads are then
bounded to that set (`time` below just after the newest row: a range on the time index, free;
and `id` at most the noted one, only while later rows with earlier times exist), so rows
written by the live loop meanwhile never shift the rows a view has on screen. `refresh()` is
the cheap way to follow the live loop: it checks `PRAGMA data_version` and the connection's
change counter (microseconds), and when something was written it counts only the new rows
(a rowid range scan), which are the newest ones and so are prepended (newest first) or
appended; a deletion (retention) or rows written out of time order reload the pager.

Fetching a page. OFFSET costs the rows it skips, so a page is read from the nearest known
position: a key (time, id) remembered at the first and last row of every page fetched so far
(keyset pagination: the next page while scrolling skips nothing), or the top, or the end
(the query runs in the other direction and the rows are reversed). The skipping runs on the
(time, rowid) index only, which covers it; the full rows of the page are then read by id.
A filter on two or three verdicts is read as a UNION ALL of one arm per verdict, which SQLite
merges in order from the (verdict, time) index, instead of a scan of the time index that
skips the other verdicts one table row at a time.

Figures at 1,000,000 rows (bench/bench_results_table.py, which prints them with references;
a 2-core machine under load, so ranges): reload (COUNT and keys) 12-22 ms unfiltered (a bare
COUNT(*) 5-34 ms in the same runs), 1-17 ms with one narrow filter, 65-120 ms for "no operator
yet" (990,000 rows), 330-520 ms for two filters that each match most rows (PASS and class ok:
one index, a table lookup per row); the next page while scrolling 2.5-8 ms (mostly decoding
the rows' JSON); row 999,000 at once 3-8 ms (read from the end; a plain OFFSET query: 55-100
ms); the worst jump, to the middle with nothing known nearby, 11-30 ms unfiltered (OFFSET:
30-65 ms), 12-32 ms for two verdicts, 180-350 ms for PASS and class ok; refresh() 0.01 ms
when nothing was written, 0.1 ms for 100 new rows; row_of() 6 ms at row 900,000, 52 ms at
row 500,000 (it counts the shorter side).

`SideReader` runs the store's own read queries (count, group_counts, the statistics, the
CSV export) on a connection of its own, so a worker thread never holds the store's reader lock
that the GUI thread's page reads wait on.
"""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import math
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from inspector.config import ResultsConfig
from inspector.core.results.record import InspectionResult
from inspector.core.results.rows import SELECT, from_row, where_clause
from inspector.core.results.schema import connect, database_error
from inspector.core.results.store import ResultsStore

PAGE_SIZE = 256
MAX_CACHED_PAGES = 64

Key = tuple[float, int]  # (time, id): a row's place in the order


@dataclass(frozen=True)
class Filters:
    """What a results view shows: time in [start, end) and, for each list, any of its values
    (None: no filter; see `rows.where_clause`)."""

    start: float | None = None
    end: float | None = None
    verdicts: tuple[str, ...] | None = None
    labels: tuple[str, ...] | None = None
    operators: tuple[str | None, ...] | None = None
    model_versions: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        for name in ("verdicts", "labels", "operators", "model_versions"):
            value = getattr(self, name)
            if value is not None:
                values = (value,) if isinstance(value, str) else tuple(value)
                object.__setattr__(self, name, values)
        for name in ("start", "end"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, float(value))

    def kwargs(self) -> dict[str, Any]:
        """The keyword arguments of ResultsStore.query / count / group_counts / export_csv."""
        return {name: getattr(self, name) for name in
                ("start", "end", "verdicts", "labels", "operators", "model_versions")}

    def replace(self, **changes: Any) -> Filters:
        return dataclasses.replace(self, **changes)

    @property
    def is_empty(self) -> bool:
        """True when no filter is set (every row matches)."""
        return all(value is None for value in self.kwargs().values())


class Readable(Protocol):
    """A ResultsStore or a SideReader: what a Pager reads through."""

    path: Path

    def _reading(self, action: str) -> AbstractContextManager[sqlite3.Connection]: ...


@dataclass(frozen=True)
class Change:
    """What `Pager.refresh()` found: "none" (nothing written), "updated" (rows may have
    changed in place, e.g. an operator's decision: cached pages were dropped), "inserted"
    (`count` new rows at row `at`; rows already shown keep their keys) or "reloaded"."""

    kind: Literal["none", "updated", "inserted", "reloaded"]
    count: int = 0
    at: int = 0


@dataclass
class Snapshot:
    """The frozen row set of a Pager: what `Pager(..., snapshot=)` adopts, e.g. one counted by a
    worker on a SideReader (`Pager(reader, filters).snapshot`), so the GUI thread never waits
    for a COUNT."""

    total: int
    bound_id: int  # the largest id in the table when the row set was frozen
    newest: Key | None  # the newest matching row
    oldest_in_table: Key | None  # the oldest row of the whole table (retention check)
    token: tuple[int, int]  # (data_version, total_changes) when taken
    oldest: Key | None = None  # the oldest matching row


def _after(descending: bool) -> str:
    """The keyset condition: rows strictly past (time, id) = (?, ?, ?) in that direction."""
    if descending:
        return "time <= ? AND (time < ? OR id < ?)"
    return "time >= ? AND (time > ? OR id > ?)"


class Pager:
    """Rows 0 .. total-1 of the results matching `filters`, in display order.

    Every read may raise ResultsError (the store closed, the database unreadable)."""

    def __init__(self, source: Readable, filters: Filters | None = None, *,
                 newest_first: bool = True, page_size: int = PAGE_SIZE,
                 max_pages: int = MAX_CACHED_PAGES, snapshot: Snapshot | None = None) -> None:
        if page_size < 1 or max_pages < 1:
            raise ValueError("page_size and max_pages must be at least 1")
        self.source = source
        self.filters = filters or Filters()
        self.newest_first = newest_first
        self.page_size = page_size
        self.max_pages = max_pages
        self._pages: OrderedDict[int, list[InspectionResult]] = OrderedDict()
        self._anchor_rows: list[int] = []  # sorted
        self._anchor_keys: dict[int, Key] = {}
        self._guard_for: tuple[int, bool] | None = None  # (max id seen, guard needed)
        self.stale = False  # a page came back short: rows were deleted, reload
        self.pages_fetched = 0
        self.last_skip = 0  # rows the last page fetch skipped with OFFSET (bench, tests)
        self._snap = Snapshot(0, 0, None, None, (-1, -1))
        if snapshot is None:
            self.reload()
        else:
            self.adopt(snapshot)

    # ------------------------------------------------------------------ state
    @property
    def total(self) -> int:
        return self._snap.total

    @property
    def bound_id(self) -> int:
        return self._snap.bound_id

    @property
    def snapshot(self) -> Snapshot:
        return dataclasses.replace(self._snap)

    def set_filters(self, filters: Filters, snapshot: Snapshot | None = None) -> None:
        """Show `filters`' rows: counted here, or `snapshot`'s (counted for these filters)."""
        self.filters = filters
        if snapshot is None:
            self.reload()
        else:
            self.adopt(snapshot)

    def adopt(self, snapshot: Snapshot) -> None:
        """Take a row set frozen elsewhere (same database, same filters, maybe another
        connection); the next refresh() looks for what was written since it was taken."""
        self._snap = dataclasses.replace(snapshot, token=(-1, -1))
        self._forget()

    def clear_cache(self) -> None:
        self._pages.clear()

    def reload(self) -> None:
        """Freeze the matching rows anew (one consistent read), forget pages and anchors."""
        token = self._token()
        with self._transaction() as conn:
            where, params = self._conditions(self.filters.verdicts, freeze=False)
            total = int(conn.execute(f"SELECT COUNT(*) FROM results{where}",
                                     params).fetchone()[0])
            newest = self._ordered_keys(conn, None, True, 0, 1, freeze=False)
            oldest = self._ordered_keys(conn, None, False, 0, 1, freeze=False)
            snap = Snapshot(total, self._max_id(conn),
                            newest[0] if newest else None, self._oldest_in_table(conn), token,
                            oldest[0] if oldest else None)
        self._snap = snap
        self._forget()

    def _forget(self) -> None:
        self._pages.clear()
        self._anchor_rows.clear()
        self._anchor_keys.clear()
        self._guard_for = None
        self.stale = False

    # ------------------------------------------------------------------ reading rows
    def row(self, index: int) -> InspectionResult | None:
        """The row at `index` in display order (None outside 0 .. total-1)."""
        if not 0 <= index < self._snap.total:
            return None
        number, offset = divmod(index, self.page_size)
        page = self.page(number)
        return page[offset] if offset < len(page) else None

    def page(self, number: int) -> list[InspectionResult]:
        """Page `number` (rows number*page_size ...), from the cache or the database."""
        page = self._pages.get(number)
        if page is not None:
            self._pages.move_to_end(number)
            return page
        page = self._fetch(number)
        self._pages[number] = page
        while len(self._pages) > self.max_pages:
            self._pages.popitem(last=False)
        return page

    def cached_pages(self) -> list[int]:
        return list(self._pages)

    def row_of(self, id: int) -> int | None:
        """The row index of result `id`, None when it is not among the rows shown."""
        with self._transaction() as conn:
            guard = self._guard(conn)
            where, params = self._conditions(self.filters.verdicts, guard=guard)
            conds = where + (" AND " if where else " WHERE ") + "id = ?"
            found = conn.execute(f"SELECT time, id FROM results{conds}",
                                 [*params, int(id)]).fetchone()
            if found is None:
                return None
            key: Key = (float(found[0]), int(found[1]))
            # count the rows on its shorter side (as far as the times tell): newer or older
            newest, oldest = self._snap.newest, self._snap.oldest
            count_older = (newest is not None and oldest is not None
                           and key[0] - oldest[0] < newest[0] - key[0])
            where, params = self._conditions(self.filters.verdicts, guard=guard, cursor=key,
                                             descending=count_older)
            past = int(conn.execute(f"SELECT COUNT(*) FROM results{where}",
                                    params).fetchone()[0])
            newer = self._snap.total - 1 - past if count_older else past
            rank = newer if self.newest_first else self._snap.total - 1 - newer
        self._remember(rank, key)
        return rank

    # ------------------------------------------------------------------ following the writer
    def changed(self) -> bool:
        """Whether anything was written to the database since the last (re)load or refresh."""
        return self._token() != self._snap.token

    def refresh(self) -> Change:
        """Take in what was written since the last look; cheap when nothing was."""
        token = self._token()
        snap = self._snap
        if token == snap.token:
            return Change("none")
        with self._transaction() as conn:
            max_id = self._max_id(conn)
            oldest = self._oldest_in_table(conn)
            if oldest != snap.oldest_in_table:
                deleted = True
            else:
                deleted = False
                where, params = self._conditions(self.filters.verdicts, freeze=False)
                conds = where + (" AND " if where else " WHERE ") + "id > ? AND id <= ?"
                bounds = [*params, snap.bound_id, max_id]
                count, first_time = conn.execute(
                    f"SELECT COUNT(*), MIN(time) FROM results NOT INDEXED{conds}",
                    bounds).fetchone()
                newest = conn.execute(
                    f"SELECT time, id FROM results NOT INDEXED{conds} "
                    "ORDER BY time DESC, id DESC LIMIT 1", bounds).fetchone()
        if deleted:
            self.reload()
            return Change("reloaded")
        count = int(count)
        if count and snap.newest is not None and float(first_time) < snap.newest[0]:
            self.reload()  # rows written out of time order: they belong among the old ones
            return Change("reloaded")
        self._pages.clear()
        at = 0
        if count:
            at = 0 if self.newest_first else snap.total
            if self.newest_first:
                self._anchor_keys = {row + count: key for row, key in self._anchor_keys.items()}
                self._anchor_rows = [row + count for row in self._anchor_rows]
            snap.total += count
            snap.newest = (float(newest[0]), int(newest[1]))
        snap.bound_id = max_id  # the other new rows do not match the filters
        snap.token = token
        self._guard_for = None
        if count:
            return Change("inserted", count, at)
        return Change("updated")

    # ------------------------------------------------------------------ internals
    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One consistent read (the store's lock held, a read transaction open)."""
        with self.source._reading("read") as conn:
            conn.execute("BEGIN")
            yield conn
            conn.execute("COMMIT")

    def _token(self) -> tuple[int, int]:
        with self.source._reading("read") as conn:
            version = int(conn.execute("PRAGMA data_version").fetchone()[0])
            return version, int(conn.total_changes)

    @staticmethod
    def _max_id(conn: sqlite3.Connection) -> int:
        return int(conn.execute("SELECT MAX(id) FROM results").fetchone()[0] or 0)

    @staticmethod
    def _oldest_in_table(conn: sqlite3.Connection) -> Key | None:
        row = conn.execute("SELECT time, id FROM results ORDER BY time, id LIMIT 1").fetchone()
        return None if row is None else (float(row[0]), int(row[1]))

    def _guard(self, conn: sqlite3.Connection) -> bool:
        """Whether reads need `id <= bound` besides the time bound: only while rows newer
        than the snapshot have times inside it (written out of order, or none matched)."""
        max_id = self._max_id(conn)
        if max_id <= self._snap.bound_id:
            return False
        if self._guard_for is not None and self._guard_for[0] == max_id:
            return self._guard_for[1]
        newest = self._snap.newest
        if newest is None:
            needed = True
        else:
            first = conn.execute("SELECT MIN(time) FROM results NOT INDEXED WHERE id > ?",
                                 (self._snap.bound_id,)).fetchone()[0]
            needed = first is not None and float(first) <= newest[0]
        self._guard_for = (max_id, needed)
        return needed

    def _conditions(self, verdicts: Sequence[str] | None, *, freeze: bool = True,
                    guard: bool = False, cursor: Key | None = None,
                    descending: bool = True, inside: bool = False) -> tuple[str, list[Any]]:
        """The WHERE clause of the filters (with `verdicts` in place of theirs), bounded to
        the frozen row set when `freeze`, and to the rows strictly past `cursor` (in the
        `descending` time order or not) when given.

        Past a cursor, the time bound on its side is dropped: the cursor's is tighter, and
        SQLite ranges the index on one bound a side, not necessarily the tighter one (it
        scanned from the end instead: 30 ms at a million rows). With `inside` (a scan that
        stops within the row set: LIMIT + OFFSET never past its far end), the far side's
        bound goes too: the rows it excludes all lie past that end, and checking it on every
        row skipped doubles the cost of an OFFSET (19 ms instead of 9.5 for 500,000 rows)."""
        f = self.filters
        start, end = f.start, f.end
        if freeze and self._snap.newest is not None:
            limit = math.nextafter(self._snap.newest[0], math.inf)
            end = limit if end is None else min(end, limit)
        if inside:
            if descending:
                start = None
            else:
                end = None
        if cursor is not None:
            if descending:
                end = None
            else:
                start = None
        where, params = where_clause(start, end, verdicts, f.labels, f.operators,
                                     f.model_versions)
        if freeze and (guard or self._snap.newest is None):
            where += (" AND " if where else " WHERE ") + "+id <= ?"
            params.append(self._snap.bound_id)
        if cursor is not None:
            where += (" AND " if where else " WHERE ") + _after(descending)
            params += [cursor[0], cursor[0], cursor[1]]
        return where, params

    def _ordered_keys(self, conn: sqlite3.Connection, cursor: Key | None, descending: bool,
                      skip: int, limit: int, *, freeze: bool = True, guard: bool = False,
                      inside: bool = False) -> list[Key]:
        """Keys of the matching rows past `cursor` (all when None) in time order, descending
        or not, after skipping `skip`; several verdicts: one merged arm per verdict. `inside`:
        the caller knows skip + limit rows past the cursor are all in the row set."""
        verdicts = self.filters.verdicts
        arms: list[Sequence[str] | None] = (
            [[v] for v in verdicts] if verdicts is not None and len(verdicts) > 1
            else [verdicts])
        sqls: list[str] = []
        params: list[Any] = []
        for arm in arms:
            where, arm_params = self._conditions(arm, freeze=freeze, guard=guard,
                                                 cursor=cursor, descending=descending,
                                                 inside=inside)
            sqls.append(f"SELECT time, id FROM results{where}")
            params += arm_params
        order = "DESC" if descending else "ASC"
        sql = f"{' UNION ALL '.join(sqls)} ORDER BY time {order}, id {order} LIMIT ? OFFSET ?"
        rows = conn.execute(sql, [*params, int(limit), int(skip)]).fetchall()
        return [(float(t), int(i)) for t, i in rows]

    def _plan(self, first: int, count: int) -> tuple[int, Key | None, bool]:
        """(rows to skip, start key or None, forward in display order) of the cheapest read
        of rows first .. first+count-1."""
        total = self._snap.total
        best = min((first, None, True), (total - first - count, None, False),
                   key=lambda plan: plan[0])
        rows = self._anchor_rows
        i = bisect.bisect_left(rows, first)
        if i > 0:  # a known row above: read on from it
            above = rows[i - 1]
            if first - above - 1 < best[0]:
                best = (first - above - 1, self._anchor_keys[above], True)
        j = bisect.bisect_left(rows, first + count)
        if j < len(rows):  # a known row below: read back from it
            below = rows[j]
            if below - first - count < best[0]:
                best = (below - first - count, self._anchor_keys[below], False)
        return best

    def _remember(self, row: int, key: Key) -> None:
        if row not in self._anchor_keys:
            bisect.insort(self._anchor_rows, row)
        self._anchor_keys[row] = key

    def _fetch(self, number: int) -> list[InspectionResult]:
        first = number * self.page_size
        count = min(self.page_size, self._snap.total - first)
        if count <= 0 or first < 0:
            return []
        skip, cursor, forward = self._plan(first, count)
        descending = self.newest_first == forward
        with self._transaction() as conn:
            guard = self._guard(conn)
            keys = self._ordered_keys(conn, cursor, descending, skip, count, guard=guard,
                                      inside=True)
            if not forward:
                keys.reverse()
            ids = [key[1] for key in keys]
            found: dict[int, InspectionResult] = {}
            if ids:
                sql = f"{SELECT} WHERE id IN ({', '.join('?' * len(ids))})"
                for row in conn.execute(sql, ids):
                    result = from_row(row)
                    found[int(result.id)] = result  # type: ignore[arg-type]
        self.pages_fetched += 1
        self.last_skip = skip
        page = [found[i] for i in ids if i in found]
        if len(page) != count:
            self.stale = True  # rows went (retention) since the snapshot: reload soon
        if len(keys) == count:
            self._remember(first, keys[0])
            self._remember(first + count - 1, keys[-1])
        return page


class StoppedError(Exception):
    """A SideReader's iteration was stopped through its stop event."""


class SideReader:
    """The read queries of a ResultsStore on a connection of its own (a context manager).

    For a worker thread: `count`, `group_counts`, the statistics (`stats.yield_by_hour` and
    friends take it in place of the store) and `export.export_csv` run here without holding
    the store's reader lock, which the GUI thread's page reads share. The methods are the
    store's own (same SQL, same results: tests/core/results/test_paging.py checks it).
    `iter_results` reports `progress(rows, total)` and raises StoppedError once `stop_event`
    is set.
    Open it in the thread that uses it."""

    _reading = ResultsStore._reading
    get = ResultsStore.get
    query = ResultsStore.query
    count = ResultsStore.count
    group_counts = ResultsStore.group_counts
    time_span = ResultsStore.time_span
    verdict_counts = ResultsStore.verdict_counts
    probability_classes = ResultsStore.probability_classes

    def __init__(self, store: ResultsStore, *,
                 progress: Callable[[int, int], None] | None = None,
                 stop_event: threading.Event | None = None, total: int = 0,
                 progress_every: int = 500) -> None:
        self.path = store.path
        self.config: ResultsConfig = store.config
        self.snapshots_dir = store.snapshots_dir
        self.busy_timeout = store.busy_timeout
        self.progress = progress
        self.stop_event = stop_event
        self.total = total
        self.progress_every = max(1, progress_every)
        self._read_lock = threading.RLock()
        self._closed = False
        try:
            self._reader = connect(self.path, busy_timeout=self.busy_timeout)
        except sqlite3.Error as exc:
            raise database_error(self.path, "open", exc) from None

    def __enter__(self) -> SideReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        with self._read_lock:
            if not self._closed:
                self._closed = True
                self._reader.close()

    def iter_results(self, *args: Any, **kwargs: Any) -> Iterator[InspectionResult]:
        every, done = self.progress_every, 0
        for result in ResultsStore.iter_results(self, *args, **kwargs):  # type: ignore[arg-type]
            if self.stop_event is not None and self.stop_event.is_set():
                raise StoppedError
            yield result
            done += 1
            if self.progress is not None and done % every == 0:
                self.progress(done, max(self.total, done))
        if self.progress is not None:
            self.progress(done, max(self.total, done))
