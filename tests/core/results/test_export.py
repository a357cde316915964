from __future__ import annotations

import csv
from datetime import datetime

import pytest

from inspector.core.results import ResultsError, export_csv
from inspector.core.results.export import guard

from .conftest import T0


def read(path):
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_export_columns_times_and_decisions(store, make_result, tmp_path, fixed_tz):
    first = store.add(make_result("PASS", t=T0 + 0.25, ood_score=-8.5,
                                  probabilities={"ok": 0.75, "short": 0.25})).wait(5)
    second = store.add(make_result("FAIL", t=T0 + 60, frame=True, truth="short",
                                   probabilities={"ok": 0.25, "short": 0.5,
                                                  "mouse_bite": 0.25})).wait(5)
    store.set_decision(second, "Jürgen", "override", at=T0 + 120)
    path = tmp_path / "out" / "results.csv"
    assert export_csv(store, path) == 2
    rows = read(path)
    header = list(rows[0])
    assert header[:4] == ["id", "time", "source", "model_version"]
    assert [h for h in header if h.startswith("p_")] == ["p_ok", "p_short", "p_mouse_bite"]
    assert {"operator", "decision", "decided_at", "frame_path", "thresholds"} <= set(header)
    one, two = rows  # oldest first
    assert int(one["id"]) == first and int(two["id"]) == second
    assert one["time"] == "2024-03-09T16:00:00.250+00:00"
    assert datetime.fromisoformat(two["time"]).timestamp() == T0 + 60
    assert one["ood_score"] == "-8.5"  # numbers are never "guarded"
    assert (one["p_ok"], one["p_short"], one["p_mouse_bite"]) == ("0.75", "0.25", "")
    assert two["p_mouse_bite"] == "0.25"
    assert (two["operator"], two["decision"]) == ("Jürgen", "override")
    assert datetime.fromisoformat(two["decided_at"]).timestamp() == T0 + 120
    assert two["frame_path"].endswith(f"{second}-frame.jpg") and one["frame_path"] == ""
    assert two["truth"] == "short" and one["truth"] == ""
    assert not [p for p in path.parent.iterdir() if p.name != "results.csv"]  # no temp left


def test_export_filters(store, make_result, tmp_path):
    for i, verdict in enumerate(["PASS", "FAIL", "REVIEW", "FAIL"]):
        store.add(make_result(verdict, t=T0 + i))
    store.flush()
    path = tmp_path / "fails.csv"
    assert export_csv(store, path, verdicts=["FAIL"], newest_first=True) == 2
    assert [r["time"] for r in read(path)] == sorted((r["time"] for r in read(path)),
                                                     reverse=True)
    assert export_csv(store, path, start=T0 + 10) == 0
    assert list(read(path)) == [] and path.read_text(encoding="utf-8").startswith("id,time,")


def test_formula_injection_is_guarded(store, make_result, tmp_path):
    row_id = store.add(make_result("FAIL", label="=HYPERLINK(\"http://x\")",
                                   source="@SUM(A1)", model_version="-2+3",
                                   probabilities={"+cmd": 1.0})).wait(5)
    store.set_decision(row_id, "=cmd|' /C calc'!A0", "+override")
    path = tmp_path / "guard.csv"
    export_csv(store, path)
    row = read(path)[0]
    assert row["label"] == "'=HYPERLINK(\"http://x\")"
    assert row["source"] == "'@SUM(A1)"
    assert row["model_version"] == "'-2+3"
    assert row["operator"] == "'=cmd|' /C calc'!A0"
    assert row["decision"] == "'+override"
    assert "p_+cmd" in row  # a header that starts with p_ is safe as it is
    assert guard("\tx") == "'\tx" and guard("plain") == "plain" and guard(-1.5) == -1.5


def test_a_failed_export_leaves_the_old_file(store, make_result, tmp_path, monkeypatch):
    store.add(make_result()).wait(5)
    path = tmp_path / "results.csv"
    path.write_text("old export\n", encoding="utf-8")

    def broken(*args, **kwargs):
        yield store.get(1)
        raise ResultsError("the disk went away")

    monkeypatch.setattr(store, "iter_results", broken)
    with pytest.raises(ResultsError, match="went away"):
        export_csv(store, path)
    assert path.read_text(encoding="utf-8") == "old export\n"
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []
