"""`inspector models`: list the version tree, compare, promote through the gate, roll back."""

from __future__ import annotations

import json
import shutil

import pytest

from inspector.cli import main
from inspector.core.data.synthetic import generate_patch_dataset
from inspector.core.station import audit as actions
from inspector.core.station.audit import AuditLog
from inspector.core.workspace import Workspace


@pytest.fixture(scope="module")
def workspace(trained_model, tiny_data, tmp_path_factory):
    """A workspace holding the package's trained model as v1, and v2 warm-started from it
    with a fourth class."""
    out, _ = trained_model
    workspace = Workspace.create(tmp_path_factory.mktemp("models") / "ws")
    dataset = workspace.dataset()
    shutil.copytree(tiny_data, dataset.root, dirs_exist_ok=True)
    generate_patch_dataset(dataset.root, per_class=14, seed=8, size=48, classes=("spur",))
    dataset.split()
    shutil.copytree(out, workspace.models_dir / "v1")
    workspace.config.promotion.min_support = 1
    workspace.config.model.input_size = 32
    workspace.save_config()
    code = main(["train", "--data", str(workspace.root), "--out",
                 str(workspace.models_dir / "v2"), "--epochs", "1", "--input-size", "32",
                 "--batch-size", "8", "--warm-start", "active"])
    assert code == 0
    yield workspace
    shutil.rmtree(workspace.root.parent, ignore_errors=True)


def test_list_shows_the_tree_with_the_active_version(workspace, capsys):
    assert main(["models", "--workspace", str(workspace.root), "list", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["v2"]["parent"] == "v1" and rows["v2"]["depth"] == 1
    assert rows["v1"]["active"] and not rows["v2"]["active"]  # v2 goes live by promotion
    assert main(["models", "--workspace", str(workspace.root), "list"]) == 0
    text = capsys.readouterr().out
    assert "└ v2" in text and "+ spur" in text


def test_promote_and_rollback_are_audited(workspace, capsys):
    root = str(workspace.root)
    assert main(["models", "--workspace", root, "--user", "eng", "rollback", "v1",
                 "--reason", "line trial"]) == 0
    assert "v1 is active" in capsys.readouterr().out
    code = main(["models", "--workspace", root, "--user", "eng", "compare", "v2"])
    text = capsys.readouterr().out
    assert "v2 against v1" in text and "spur" in text and "new class" in text
    assert code in (0, 1)  # a 1-epoch model may or may not pass; both are reported
    refused = code == 1
    args = ["models", "--workspace", root, "--user", "eng", "promote", "v2"]
    if refused:
        assert main(args) == 2  # refused without a reason: an error, nothing changes
        assert "write the reason" in capsys.readouterr().err
        args += ["--force-reason", "new defect class needed on the line today"]
    assert main(args) == 0
    assert "v2 is active" in capsys.readouterr().out
    with AuditLog.for_workspace(workspace.root) as audit:
        entries = audit.entries(action=actions.ACTIVE_MODEL, newest_first=False)
        assert [(e.user, e.detail["model"], e.detail["how"]) for e in entries][-2:] == [
            ("eng", "v1", "rollback"), ("eng", "v2", "promote")]
        assert audit.verify() is None


def test_export_torchscript_from_the_cli(workspace, capsys):
    assert main(["models", "--workspace", str(workspace.root), "export", "v1", "--format",
                 "torchscript"]) == 0
    assert (workspace.models_dir / "v1" / "model.torchscript.pt").is_file()
    assert (workspace.models_dir / "v1" / "model.torchscript.md").is_file()
