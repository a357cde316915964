from __future__ import annotations

import pytest

from inspector.core.errors import WorkspaceError
from inspector.core.workspace import RecentWorkspaces, Workspace


def test_create_makes_the_layout_and_reopens(tmp_path):
    workspace = Workspace.create(tmp_path / "line 3")
    for name in ("datasets", "models", "config.toml"):
        assert (workspace.root / name).exists()
    assert workspace.dataset().root == workspace.root / "datasets" / "main"
    workspace.config.dataset.min_images_per_class = 5
    workspace.save_config()
    again = Workspace.open(tmp_path / "line 3")
    assert again.config.dataset.min_images_per_class == 5
    assert again.dataset().config.min_images_per_class == 5


def test_open_refuses_a_folder_that_is_not_a_workspace(tmp_path):
    with pytest.raises(WorkspaceError, match="not an Inspector workspace"):
        Workspace.open(tmp_path)
    with pytest.raises(WorkspaceError, match="no folder"):
        Workspace.open(tmp_path / "missing")


def test_create_refuses_an_existing_workspace(tmp_path):
    Workspace.create(tmp_path / "w")
    with pytest.raises(WorkspaceError, match="already a workspace"):
        Workspace.create(tmp_path / "w")


def test_recent_list_is_newest_first_and_skips_vanished_workspaces(tmp_path):
    recent = RecentWorkspaces(tmp_path / "recent.json")
    a = Workspace.create(tmp_path / "a").root
    b = Workspace.create(tmp_path / "b").root
    recent.add(a)
    recent.add(b)
    recent.add(a)
    assert recent.list() == [a, b]
    (a / "config.toml").unlink()
    assert recent.last_existing() == b


def test_a_damaged_recent_list_is_ignored(tmp_path):
    path = tmp_path / "recent.json"
    path.write_text("[[[")
    assert RecentWorkspaces(path).list() == []
