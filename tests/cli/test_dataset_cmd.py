from __future__ import annotations

import json

from helpers import SALT

from inspector.cli import main
from inspector.core.data.dataset import Dataset
from inspector.core.workspace import Workspace


def test_check_reports_every_bad_file_and_finishes(salted_dataset, capsys):
    code = main(["dataset", "check", str(salted_dataset), "--all"])
    out = capsys.readouterr().out
    assert code == 1  # errors found: scripts can tell
    for name in SALT:
        assert name.split("/")[-1] in out, name
    assert "label conflict" in out
    assert "too few images" in out


def test_check_json_is_machine_readable(salted_dataset, capsys):
    main(["dataset", "check", str(salted_dataset), "--json"])
    data = json.loads(capsys.readouterr().out)
    kinds = {issue["kind"] for issue in data["issues"]}
    assert {"empty", "not_image", "truncated", "too_large", "duplicate"} <= kinds


def test_check_on_a_clean_dataset_exits_zero(tmp_path, class_tree, capsys):
    root = class_tree({"a": 20, "b": 20}, root=tmp_path / "clean")
    assert main(["dataset", "check", str(root)]) == 0
    assert "No problems found" in capsys.readouterr().out


def test_missing_path_is_a_clear_error_not_a_traceback(tmp_path, capsys):
    assert main(["dataset", "check", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err
    assert "Traceback" not in err


def test_split_then_stats(tmp_path, class_tree, capsys):
    root = class_tree({"ok": 20, "short": 20}, root=tmp_path / "ds")
    assert main(["dataset", "split", str(root)]) == 0
    assert "40 images assigned" in capsys.readouterr().out
    assert main(["dataset", "stats", str(root)]) == 0
    out = capsys.readouterr().out
    assert "ok" in out
    assert "unassigned" not in out
    assert Dataset(root).manifest() is not None


def test_split_fractions_are_validated(tmp_path, class_tree, capsys):
    root = class_tree({"ok": 5}, root=tmp_path / "ds")
    assert main(["dataset", "split", str(root), "--train", "0.9"]) == 2
    assert "must be 1.0" in capsys.readouterr().err


def test_import_folder_into_a_workspace(tmp_path, class_tree, capsys):
    src = class_tree({"ok": 4, "spur": 2}, root=tmp_path / "src")
    workspace = Workspace.create(tmp_path / "ws")
    assert main(["dataset", "import", "--format", "folder", str(src), str(workspace.root)]) == 0
    dataset = workspace.dataset()
    assert dataset.classes() == ["ok", "spur"]
    assert len(dataset.image_files()) == 6


def test_synth_makes_every_class(tmp_path, capsys):
    dest = tmp_path / "synth"
    assert main(["dataset", "synth", str(dest), "--per-class", "3", "--seed", "5"]) == 0
    dataset = Dataset(dest)
    assert len(dataset.classes()) == 8
    assert all(len(dataset.image_files(c)) == 3 for c in dataset.classes())
    assert "Generated 24 patches" in capsys.readouterr().out
