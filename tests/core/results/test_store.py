from __future__ import annotations

import errno
import math
import sqlite3
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from inspector.config import ResultsConfig
from inspector.core.errors import InspectorError
from inspector.core.results import ResultsError, ResultsStore, schema, snapshots

from .conftest import T0


def test_round_trip_of_a_row_and_its_probabilities(store, make_result):
    result = make_result("REVIEW", label="spur", ood_score=-7.25, truth="open",
                         probabilities={"ok": 0.25, "spur": 0.5, "open": 0.25})
    ticket = store.add(result)
    row_id = ticket.wait(5)
    assert ticket.done and not ticket.failed
    assert result.id == row_id
    got = store.get(row_id)
    assert got is not None
    for name in ("time", "source", "model_version", "verdict", "label", "confidence",
                 "probabilities", "thresholds", "ood_score", "truth"):
        assert getattr(got, name) == getattr(result, name), name
    assert list(got.probabilities) == ["ok", "spur", "open"]  # the model's class order
    assert got.frame is None and got.operator is None and got.decision is None
    assert store.get(row_id + 1) is None


def test_numpy_scalars_are_stored_as_plain_numbers(store, make_result):
    result = make_result(confidence=np.float32(0.5), time=np.float64(T0),
                         probabilities={"ok": np.float32(0.5), "short": np.float16(0.5)})
    got = store.get(store.add(result).wait(5))
    assert got.confidence == 0.5 and got.probabilities == {"ok": 0.5, "short": 0.5}
    assert type(got.confidence) is float


def test_filters_paging_and_counts(store, make_result):
    verdicts = ["PASS", "FAIL", "REVIEW", "PASS", "FAIL"] * 6
    for i, verdict in enumerate(verdicts):
        store.add(make_result(verdict, t=T0 + i, model_version=f"v{1 + i // 15}",
                              label="ok" if verdict == "PASS" else ("short", "open")[i % 2]))
    store.flush()
    assert store.count() == 30
    newest = store.query(limit=10)
    assert [r.time for r in newest] == [T0 + i for i in range(29, 19, -1)]
    page = store.query(limit=10, offset=10, newest_first=False)
    assert [r.time for r in page] == [T0 + i for i in range(10, 20)]
    assert store.count(start=T0 + 10, end=T0 + 20) == 10  # [start, end)
    assert store.count(verdicts=["FAIL"]) == 12
    assert store.count(verdicts=["FAIL", "REVIEW"]) == 18
    assert store.count(verdicts=[]) == 0
    assert {r.verdict for r in store.query(verdicts=["REVIEW"])} == {"REVIEW"}
    assert store.count(labels=["ok"]) == 12
    assert store.count(model_versions=["v2"]) == 15
    both = store.query(T0, T0 + 15, verdicts=["FAIL"], labels=["open"], newest_first=False)
    assert [r.time for r in both] == [T0 + i for i in range(15)
                                      if verdicts[i] == "FAIL" and i % 2]
    assert store.count(T0, T0 + 15, verdicts=["FAIL"], labels=["open"]) == len(both)
    assert all(r.frame is None for r in store.query(limit=1000))


def test_decisions_are_committed_and_filterable(store, make_result):
    ids = [store.add(make_result("FAIL", t=T0 + i)).wait(5) for i in range(3)]
    store.set_decision(ids[0], "anna", "confirm", at=T0 + 100)
    store.set_decision(ids[1], "ben", "override")
    got = store.get(ids[0])
    assert (got.operator, got.decision, got.decided_at) == ("anna", "confirm", T0 + 100)
    assert abs(store.get(ids[1]).decided_at - time.time()) < 60
    assert [r.id for r in store.query(operators=["anna"])] == [ids[0]]
    assert [r.id for r in store.query(operators=[None])] == [ids[2]]  # not decided yet
    assert store.count(operators=["anna", None]) == 2
    with sqlite3.connect(store.path) as other:  # committed: another connection sees it
        assert other.execute("SELECT decision FROM results WHERE id = ?",
                             (ids[1],)).fetchone() == ("override",)
    with pytest.raises(ResultsError, match="not in"):
        store.set_decision(10_000, "anna", "confirm")


@pytest.mark.parametrize(("save", "saved"), [
    ("fail_review", {"PASS": False, "FAIL": True, "REVIEW": True}),
    ("all", {"PASS": True, "FAIL": True, "REVIEW": True}),
    ("none", {"PASS": False, "FAIL": False, "REVIEW": False}),
])
def test_snapshots_follow_save_frames(open_store, make_result, save, saved, fixed_tz):
    store = open_store(ResultsConfig(save_frames=save, jpeg_quality=95))
    results = {v: make_result(v, frame=True) for v in ("PASS", "FAIL", "REVIEW")}
    for result in results.values():
        store.add(result)
    store.flush()
    for verdict, result in results.items():
        got = store.get(result.id)
        if not saved[verdict]:
            assert got.frame_path is None and got.overlay_path is None
            continue
        assert got.frame_path == f"2024-03-09/{result.id}-frame.jpg"
        assert got.overlay_path == f"2024-03-09/{result.id}-overlay.jpg"
        assert (store.snapshots_dir / got.frame_path).is_file()
        frame = store.read_snapshot(got.frame_path)
        overlay = store.read_snapshot(got.overlay_path)
        assert frame.shape == result.frame.shape == overlay.shape
        # RGB in, RGB out: the red frame stays red, the blue overlay blue
        for got_image, sent in ((frame, result.frame), (overlay, result.overlay)):
            means = got_image.reshape(-1, 3).mean(0)
            assert np.allclose(means, sent.reshape(-1, 3).mean(0), atol=6), means
        assert frame[..., 0].mean() > frame[..., 2].mean() + 100
        assert overlay[..., 2].mean() > overlay[..., 0].mean() + 100
    folder = store.snapshots_dir
    files = sorted(p.name for p in folder.rglob("*")) if folder.exists() else []
    assert not [name for name in files if name.endswith(".tmp")]
    assert store.stats.snapshots_written == 2 * sum(saved.values())


def test_close_is_idempotent_and_refuses_later_adds(open_store, make_result):
    store = open_store()
    tickets = [store.add(make_result(t=T0 + i)) for i in range(20)]
    store.close()  # writes what is queued first
    assert all(t.done and not t.failed for t in tickets)
    store.close()
    with pytest.raises(ResultsError, match="closed"):
        store.add(make_result())
    with pytest.raises(ResultsError, match="closed"):
        store.count()
    with ResultsStore(store.path) as again:
        assert again.count() == 20


def test_a_bad_row_fails_its_own_ticket_only(store, make_result):
    with pytest.raises(ValueError, match="verdict"):
        store.add(make_result("MAYBE"))
    good = store.add(make_result(t=T0))
    bad = store.add(make_result(t=T0 + 1, confidence=math.nan))  # NOT NULL in SQLite
    worse = store.add(make_result(t=T0 + 2, probabilities={"ok": "high"}))
    good2 = store.add(make_result(t=T0 + 3))
    assert good.wait(5) and good2.wait(5)
    for ticket in (bad, worse):
        with pytest.raises(ResultsError, match="not saved"):
            ticket.wait(5)
    assert store.count() == 2
    assert store.stats.failed == 2 and store.stats.written == 2


def test_results_error_is_an_inspector_error():
    assert issubclass(ResultsError, InspectorError)


# -- retention
def test_retention_deletes_old_rows_with_their_snapshots(open_store, make_result):
    store = open_store(ResultsConfig(keep_days=30))
    now = T0 + 100 * 86_400
    old = [make_result("FAIL", t=T0 + i, frame=True) for i in range(3)]
    young = [make_result("FAIL", t=now - 86_400 + i, frame=True) for i in range(2)]
    for result in old + young:
        store.add(result)
    store.flush()
    old_files = [store.snapshots_dir / r.frame_path for r in old]
    assert all(p.is_file() for p in old_files)
    report = store.apply_retention(now=now)
    assert report.rows_deleted == 3 and report.files_deleted == 6 and report.bytes_freed > 0
    assert store.count() == 2 and all(store.get(r.id) is None for r in old)
    assert not any(p.exists() for p in old_files)
    assert not old_files[0].parent.exists()  # the emptied day folder is gone too
    assert all((store.snapshots_dir / store.get(r.id).frame_path).is_file() for r in young)
    assert store.apply_retention(now=now).rows_deleted == 0
    store.config.keep_days = 0  # keep for ever
    assert store.apply_retention(now=now + 1e9).rows_deleted == 0


def test_retention_by_size_removes_the_oldest_files_and_keeps_rows(open_store, make_result):
    config = ResultsConfig(keep_days=0)
    store = open_store(config)
    results = [make_result("FAIL", t=T0 + i, frame=True) for i in range(5)]
    for result in results:
        store.add(result)
    store.flush()
    sizes = [sum((store.snapshots_dir / p).stat().st_size
                 for p in (r.frame_path, r.overlay_path)) for r in results]
    config.max_snapshot_gb = (sizes[-1] + sizes[-2]) / 1e9  # room for the newest two
    report = store.apply_retention()
    assert report.rows_deleted == 0 and report.snapshots_cleared == 3
    assert report.files_deleted == 6 and report.bytes_freed == sum(sizes[:3])
    assert report.snapshot_bytes == sizes[-1] + sizes[-2]
    assert store.count() == 5
    for result in results[:3]:
        got = store.get(result.id)
        assert got.frame_path is None and got.overlay_path is None
        assert not (store.snapshots_dir / result.frame_path).exists()
    for result in results[3:]:
        assert store.read_snapshot(store.get(result.id).frame_path) is not None
    config.max_snapshot_gb = 1e-6  # 1 kB: nothing fits
    assert store.apply_retention().snapshots_cleared == 2
    assert store.count() == 5 and not list(store.snapshots_dir.rglob("*.jpg"))


# -- files that are not ours
def test_a_foreign_sqlite_file_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "results.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (name TEXT)")
        conn.execute("INSERT INTO customers VALUES ('x')")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(ResultsError) as caught:
        ResultsStore(path)
    message = str(caught.value)
    assert str(path) in message and "not an Inspector results database" in message
    assert "move it away" in message and "customers" in message
    assert path.read_bytes() == before
    assert not Path(f"{path}-wal").exists()


def test_a_damaged_file_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "results.sqlite"
    path.write_bytes(b"this is not a database, just text\n" * 200)
    before = path.read_bytes()
    with pytest.raises(ResultsError, match="damaged") as caught:
        ResultsStore(path)
    assert str(path) in str(caught.value) and "move it away" in str(caught.value)
    assert path.read_bytes() == before


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "results.sqlite"
    ResultsStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(ResultsError, match="newer version of Inspector"):
        ResultsStore(path)


def test_migrations_run_on_open(tmp_path, monkeypatch, make_result):
    path = tmp_path / "results.sqlite"
    with ResultsStore(path) as store:
        store.add(make_result()).wait(5)

    def add_line(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE results ADD COLUMN line TEXT")

    monkeypatch.setattr(schema, "SCHEMA_VERSION", 2)
    monkeypatch.setitem(schema.MIGRATIONS, 1, add_line)
    with ResultsStore(path) as store:
        assert store.count() == 1
        store.add(make_result()).wait(5)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (2,)
        assert "line" in [row[1] for row in conn.execute("PRAGMA table_info(results)")]
        assert [r[0] for r in conn.execute("SELECT version FROM schema_version")] == [1, 2]
    conn.close()
    with ResultsStore(path) as store:  # idempotent
        assert store.count() == 2


def test_wal_mode_and_synchronous(tmp_path, make_result):
    with ResultsStore(tmp_path / "a.sqlite") as store:
        assert store._reader.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert store._reader.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
    with ResultsStore(tmp_path / "b.sqlite", durable=True) as store:
        assert store._reader.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
        start = time.perf_counter()
        tickets = [store.add(make_result("FAIL", t=T0 + i, frame=True)) for i in range(3)]
        assert all(t.wait(5) for t in tickets)
        assert time.perf_counter() - start < 2  # a batch waits batch_seconds for company
        assert store.stats.batches < 3 and store.read_snapshot(
            store.get(tickets[0].wait()).frame_path) is not None


# -- the live loop is never blocked; failures are reported, not raised
def test_add_returns_at_once_while_the_writer_is_slow(open_store, make_result, monkeypatch):
    encode = snapshots.encode_jpeg

    def slow_encode(image: np.ndarray, quality: int) -> bytes:
        time.sleep(0.01)
        return encode(image, quality)

    monkeypatch.setattr(snapshots, "encode_jpeg", slow_encode)
    store = open_store(ResultsConfig(save_frames="all"))
    results = [make_result("FAIL", t=T0 + i, frame=True) for i in range(40)]
    latencies = []
    for result in results:
        start = time.perf_counter()
        store.add(result)
        latencies.append(time.perf_counter() - start)
    behind = store.stats.queued
    assert behind > 20  # the writer needs 20 ms an item; the loop did not wait for it
    assert sorted(latencies)[len(latencies) // 2] < 0.002
    assert max(latencies) < 0.05  # a scheduler hiccup at worst, never 10 ms a frame
    store.flush(timeout=30)
    assert store.count() == 40 and store.stats.images_dropped == 0


def test_a_full_queue_drops_the_oldest_images_not_the_rows(open_store, make_result,
                                                           monkeypatch):
    busy, gate = threading.Event(), threading.Event()
    encode = snapshots.encode_jpeg

    def blocked_encode(image: np.ndarray, quality: int) -> bytes:
        busy.set()
        gate.wait(10)
        return encode(image, quality)

    monkeypatch.setattr(snapshots, "encode_jpeg", blocked_encode)
    store = open_store(ResultsConfig(save_frames="all"), max_queued_images=5)
    results = [make_result("FAIL", t=T0 + i, frame=True) for i in range(30)]
    tickets = [store.add(results[0])]
    assert busy.wait(5)  # the writer holds the first item
    tickets += [store.add(r) for r in results[1:]]
    gate.set()
    store.flush(timeout=30)
    assert all(t.wait(1) for t in tickets)
    stats = store.stats
    assert store.count() == 30 and stats.failed == 0
    # the first item was with the writer already; of the other 29 only the newest 5 kept theirs
    assert stats.images_dropped == 24
    kept = [r.id for r in results if store.get(r.id).frame_path]
    assert kept == [r.id for r in results[:1] + results[-5:]]


def test_disk_full_keeps_the_row_and_says_why(open_store, make_result, monkeypatch,
                                              fixed_tz):
    def full(path: Path, data: bytes, *, durable: bool = False) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(snapshots, "write_file", full)
    store = open_store()
    row_id = store.add(make_result("FAIL", frame=True)).wait(5)
    got = store.get(row_id)
    assert got is not None and got.frame_path is None and got.overlay_path is None
    stats = store.stats
    assert stats.written == 1 and stats.snapshot_errors == 2 and stats.failed == 0
    assert "disk full" in stats.last_error
    assert str(store.snapshots_dir / "2024-03-09") in stats.last_error


def test_an_unwritable_snapshot_folder_keeps_the_row(tmp_path, make_result):
    blocker = tmp_path / "snapshots"
    blocker.write_text("a file where the folder should be")
    with ResultsStore(tmp_path / "results.sqlite", snapshots_dir=blocker) as store:
        row_id = store.add(make_result("FAIL", frame=True)).wait(5)
        assert store.get(row_id).frame_path is None
        assert str(blocker) in store.stats.last_error
        assert store.stats.snapshot_errors == 2


def test_a_database_that_cannot_be_written_fails_the_tickets(open_store, make_result):
    store = open_store(busy_timeout=0.2)
    store.add(make_result(t=T0)).wait(5)
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    try:
        ticket = store.add(make_result(t=T0 + 1))
        with pytest.raises(ResultsError, match="locked") as caught:
            ticket.wait(10)
        assert str(store.path) in str(caught.value)
        assert store.stats.failed == 1 and "locked" in store.stats.last_error
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert store.add(make_result(t=T0 + 2)).wait(5)  # and it recovers
    assert store.count() == 2


def test_ticket_wait_times_out(open_store, make_result, monkeypatch):
    gate = threading.Event()
    encode = snapshots.encode_jpeg
    monkeypatch.setattr(snapshots, "encode_jpeg",
                        lambda image, quality: gate.wait(10) and encode(image, quality))
    store = open_store()
    ticket = store.add(make_result("FAIL", frame=True))
    with pytest.raises(TimeoutError):
        ticket.wait(0.05)
    assert not ticket.done
    with pytest.raises(ResultsError, match="not caught up"):
        store.flush(timeout=0.05)
    gate.set()
    assert ticket.wait(5) > 0


# -- scale
def _bulk_rows(n: int) -> list[tuple]:
    rng = np.random.default_rng(0)
    verdicts = rng.choice(["PASS", "FAIL", "REVIEW"], n, p=[0.9, 0.07, 0.03])
    labels = ["ok", "short", "open", "spur"]
    return [(T0 + i, "cam", f"v{1 + i * 2 // n}", str(v), labels[i % 4] if v != "PASS" else "ok",
             0.9, '{"ok": 0.9, "short": 0.1}', '{"ok": 0.6}', None, None,
             "anna" if i % 100 == 0 else None) for i, v in enumerate(verdicts)]


def test_queries_use_the_indexes_at_scale(store):
    n = 50_000
    with sqlite3.connect(store.path, isolation_level=None) as conn:
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO results (time, source, model_version, verdict, label, "
                         "confidence, probabilities, thresholds, ood_score, truth, operator) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", _bulk_rows(n))
        conn.execute("COMMIT")
    conn.close()
    calls = {
        "newest page": lambda: store.query(limit=100),
        "failures page": lambda: store.query(verdicts=["FAIL", "REVIEW"], limit=100),
        "operator page": lambda: store.query(operators=["anna"], limit=100),
        "window page": lambda: store.query(T0 + 50_000, T0 + 60_000, limit=100),
        "count all": store.count,
        "count failures": lambda: store.count(verdicts=["FAIL"]),
        "count label": lambda: store.count(labels=["spur"]),
        "count model": lambda: store.count(model_versions=["v2"]),
        "count window": lambda: store.count(T0 + 50_000, T0 + 60_000),
    }
    for name, call in calls.items():
        call()
        start = time.perf_counter()
        call()
        elapsed = time.perf_counter() - start
        assert elapsed < 0.25, f"{name} took {elapsed * 1e3:.0f} ms at {n} rows"
    assert store.count(model_versions=["v2"]) == n // 2
    plan = " ".join(row[3] for row in store._reader.execute(
        "EXPLAIN QUERY PLAN SELECT COUNT(*) FROM results WHERE verdict IN ('FAIL') "
        "AND time >= 0"))
    assert "INDEX results_verdict" in plan
