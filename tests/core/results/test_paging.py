"""The Pager (random access to the results in display order) and the SideReader."""

from __future__ import annotations

import csv
import random
import threading
from pathlib import Path

import pytest

from inspector.core.results import ResultsError, ResultsStore, export_csv, stats
from inspector.core.results.paging import Filters, Pager, SideReader, StoppedError

from .conftest import T0

VERDICT_CYCLE = ("PASS", "PASS", "FAIL", "PASS", "REVIEW", "PASS", "FAIL")


def fill(store: ResultsStore, make_result, n: int, t0: float = T0, first: int = 0) -> None:
    """n rows; every 5th shares its time with the one before (the id breaks the tie)."""
    for k in range(first, first + n):
        verdict = VERDICT_CYCLE[k % len(VERDICT_CYCLE)]
        when = t0 + (k - 1 if k % 5 == 0 and k else k) * 10.0
        store.add(make_result(
            verdict, t=when, label="ok" if verdict == "PASS" else ("short", "open")[k % 2],
            operator=("anna", "ben", None)[k % 3], model_version=f"v{1 + k % 2}"))
    store.flush()


def expected_ids(store: ResultsStore, filters: Filters, newest_first: bool = True) -> list[int]:
    return [r.id for r in store.query(**filters.kwargs(), limit=10**9,
                                      newest_first=newest_first)]


FILTERS = [
    Filters(),
    Filters(verdicts=("FAIL", "REVIEW")),  # merged arms
    Filters(verdicts=("PASS", "FAIL", "REVIEW")),
    Filters(verdicts=("FAIL",)),
    Filters(labels=("short",), operators=(None,)),
    Filters(operators=("anna",), model_versions=("v2",)),
    Filters(start=T0 + 1000, end=T0 + 4000, verdicts=("PASS", "REVIEW")),
    Filters(verdicts=()),
]


@pytest.mark.parametrize("newest_first", [True, False])
@pytest.mark.parametrize("filters", FILTERS, ids=range(len(FILTERS)))
def test_rows_in_any_order_match_query(store, make_result, filters, newest_first):
    fill(store, make_result, 600)
    want = expected_ids(store, filters, newest_first)
    pager = Pager(store, filters, newest_first=newest_first, page_size=16, max_pages=3)
    assert pager.total == len(want) == store.count(**filters.kwargs())
    order = list(range(len(want)))
    random.Random(len(want)).shuffle(order)
    got = {i: pager.row(i).id for i in order}
    assert [got[i] for i in range(len(want))] == want
    assert pager.row(len(want)) is None and pager.row(-1) is None
    assert len(pager.cached_pages()) <= 3


def test_scrolling_reads_on_from_the_last_key_and_the_end_from_the_end(store, make_result):
    fill(store, make_result, 1000)
    pager = Pager(store, page_size=32)
    for number in range(5):
        pager.page(number)
        assert pager.last_skip == 0
    pager.row(999)  # the last page: read backwards from the end
    assert pager.last_skip == 0
    pager.row(970)  # the page before it: back from the known first row of the last page
    assert pager.last_skip == 0
    pager.row(500)  # nothing known near: the shorter way, from row 159 or from row 928
    assert pager.last_skip == min(480 - 160, 928 - 512)
    pager.row(530)  # the next page after the one just read
    assert pager.last_skip == 0
    assert [r.id for r in pager.page(15)] == expected_ids(store, Filters())[480:512]


def test_new_rows_do_not_shift_the_rows_until_refresh_prepends_them(store, make_result):
    fill(store, make_result, 300)
    filters = Filters(verdicts=("FAIL", "REVIEW"))
    pager = Pager(store, filters, page_size=16, max_pages=2)
    before = expected_ids(store, filters)
    assert pager.row(0).id == before[0]
    fill(store, make_result, 40, first=300)  # newer rows, some FAIL/REVIEW
    assert pager.changed()
    # pages read now (the cache holds two) are still those of the frozen set
    assert [pager.row(i).id for i in range(len(before))] == before
    change = pager.refresh()
    after = expected_ids(store, filters)
    added = len(after) - len(before)
    assert added > 0 and change.kind == "inserted" and (change.count, change.at) == (added, 0)
    assert pager.total == len(after)
    assert [pager.row(i).id for i in range(len(after))] == after
    assert pager.refresh().kind == "none" and not pager.changed()


def test_new_rows_are_appended_when_oldest_first(store, make_result):
    fill(store, make_result, 100)
    pager = Pager(store, newest_first=False, page_size=16)
    pager.row(99)
    fill(store, make_result, 10, first=100)
    change = pager.refresh()
    assert (change.kind, change.count, change.at) == ("inserted", 10, 100)
    assert [pager.row(i).id for i in range(110)] == expected_ids(store, Filters(), False)


def test_rows_written_out_of_time_order_are_kept_out_until_a_reload(store, make_result):
    fill(store, make_result, 200)
    pager = Pager(store, page_size=16, max_pages=1)
    before = expected_ids(store, Filters())
    store.add(make_result("FAIL", t=T0 + 555.0))  # a late row, in the middle by time
    store.flush()
    assert [pager.row(i).id for i in range(200)] == before  # the id guard keeps it out
    assert pager.row_of(max(before) + 1) is None
    assert pager.refresh().kind == "reloaded"
    assert [pager.row(i).id for i in range(201)] == expected_ids(store, Filters())


def test_new_rows_outside_the_filters_only_drop_the_cache(store, make_result):
    fill(store, make_result, 100)
    pager = Pager(store, Filters(verdicts=("REVIEW",)))
    total = pager.total
    store.add(make_result("PASS", t=T0 + 10_000))
    store.flush()
    assert pager.refresh().kind == "updated"
    assert pager.total == total


def test_an_operator_decision_shows_after_refresh(store, make_result):
    fill(store, make_result, 50)
    pager = Pager(store)
    row = pager.row(3)
    assert row is not None and row.decision is None
    store.set_decision(row.id, "chen", "override", at=T0 + 99_999)
    assert pager.row(3).decision is None  # cached
    assert pager.refresh().kind == "updated"
    fresh = pager.row(3)
    assert (fresh.id, fresh.operator, fresh.decision) == (row.id, "chen", "override")


def test_retention_reloads(open_store, make_result):
    from inspector.config import ResultsConfig

    store = open_store(ResultsConfig(keep_days=1))
    fill(store, make_result, 100)  # T0 .. T0 + 990 s
    store.add(make_result("PASS", t=T0 + 3 * 86_400))
    store.flush()
    pager = Pager(store)
    assert pager.total == 101
    report = store.apply_retention(now=T0 + 3 * 86_400 + 10)
    assert report.rows_deleted == 100
    assert pager.refresh().kind == "reloaded"
    assert pager.total == 1 and pager.row(0).time == T0 + 3 * 86_400


@pytest.mark.parametrize("newest_first", [True, False])
def test_row_of_gives_the_display_row(store, make_result, newest_first):
    fill(store, make_result, 400)
    filters = Filters(verdicts=("PASS", "REVIEW"), model_versions=("v1",))
    want = expected_ids(store, filters, newest_first)
    pager = Pager(store, filters, page_size=32, newest_first=newest_first)
    for row in (0, 1, 77, len(want) // 2, len(want) - 30, len(want) - 1):  # both halves
        assert pager.row_of(want[row]) == row
        assert pager.row(row).id == want[row]
    failing = store.query(verdicts=["FAIL"], limit=1)[0].id
    assert pager.row_of(failing) is None
    assert pager.row_of(10**9) is None


def test_an_empty_store_and_its_first_rows(store, make_result):
    pager = Pager(store)
    assert pager.total == 0 and pager.row(0) is None and pager.page(0) == []
    assert pager.refresh().kind == "none"
    fill(store, make_result, 20)
    assert pager.row(0) is None  # frozen: still empty
    assert pager.refresh().kind in ("inserted", "reloaded")
    assert [pager.row(i).id for i in range(20)] == expected_ids(store, Filters())


def test_a_closed_store_raises_a_results_error(store, make_result):
    fill(store, make_result, 10)
    pager = Pager(store)
    store.close()
    with pytest.raises(ResultsError):
        pager.row(0)


def test_filters_normalise_to_tuples_and_give_the_store_arguments():
    filters = Filters(start=1, verdicts=["FAIL"], labels="short", operators=[None, "anna"])
    assert filters.verdicts == ("FAIL",) and filters.labels == ("short",)
    assert filters.kwargs() == {"start": 1.0, "end": None, "verdicts": ("FAIL",),
                                "labels": ("short",), "operators": (None, "anna"),
                                "model_versions": None}
    assert Filters().is_empty and not filters.is_empty
    assert filters.replace(start=None).start is None
    assert hash(filters) == hash(Filters(start=1.0, verdicts=("FAIL",), labels=("short",),
                                         operators=(None, "anna")))


def test_side_reader_answers_like_the_store(store, make_result, fixed_tz):
    fill(store, make_result, 300)
    kwargs = {"start": T0 + 100, "end": T0 + 2500, "operators": [None]}
    with SideReader(store) as reader:
        assert reader.count(**kwargs) == store.count(**kwargs)
        assert reader.group_counts("label", **kwargs) == store.group_counts("label", **kwargs)
        assert reader.time_span() == store.time_span()
        assert [r.id for r in reader.query(**kwargs)] == [r.id for r in store.query(**kwargs)]
        assert reader.probability_classes() == store.probability_classes()
        assert (stats.yield_by_hour(reader, T0, T0 + 3000)  # type: ignore[arg-type]
                == stats.yield_by_hour(store, T0, T0 + 3000))
        shifts = store.config.shifts
        assert (stats.yield_by_shift(reader, T0 - 86_400, T0 + 86_400, shifts)  # type: ignore
                == stats.yield_by_shift(store, T0 - 86_400, T0 + 86_400, shifts))
        assert [r.id for r in reader.iter_results()] == [r.id for r in store.iter_results()]
    with pytest.raises(ResultsError, match="closed"):
        reader.count()


def test_side_reader_export_reports_progress_and_stops(store, make_result, tmp_path: Path):
    fill(store, make_result, 120)
    seen: list[tuple[int, int]] = []
    with SideReader(store, progress=lambda d, t: seen.append((d, t)), total=120,
                    progress_every=50) as reader:
        assert export_csv(reader, tmp_path / "all.csv") == 120  # type: ignore[arg-type]
    assert seen == [(50, 120), (100, 120), (120, 120)]
    with (tmp_path / "all.csv").open(encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == 120
    stop = threading.Event()
    stop.set()
    with SideReader(store, stop_event=stop) as reader, pytest.raises(StoppedError):
        export_csv(reader, tmp_path / "stopped.csv")  # type: ignore[arg-type]
    assert not (tmp_path / "stopped.csv").exists()
    assert not list(tmp_path.glob(".stopped.csv.*"))


def test_a_snapshot_counted_on_a_side_reader_is_adopted(store, make_result):
    fill(store, make_result, 200)
    filters = Filters(verdicts=("PASS", "FAIL"), operators=("anna", None))
    with SideReader(store) as reader:
        snapshot = Pager(reader, filters).snapshot
    assert snapshot.total == store.count(**filters.kwargs())
    before = expected_ids(store, filters)
    fill(store, make_result, 30, first=200)  # written between the count and its adoption
    pager = Pager(store, filters, page_size=16, snapshot=snapshot)
    assert pager.total == len(before)
    assert [pager.row(i).id for i in range(len(before))] == before
    change = pager.refresh()
    after = expected_ids(store, filters)
    assert (change.kind, change.count) == ("inserted", len(after) - len(before))
    assert [pager.row(i).id for i in range(len(after))] == after
    pager.set_filters(Filters(verdicts=("REVIEW",)), Pager(store, Filters(
        verdicts=("REVIEW",))).snapshot)
    assert [pager.row(i).id for i in range(pager.total)] == expected_ids(
        store, Filters(verdicts=("REVIEW",)))
