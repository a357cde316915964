"""Names that come from files (a workspace's config, a model version asked for by name) can never
make Inspector write outside the workspace. Archives and class names have their own cases in
tests/corpus and tests/core/data."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector.core.errors import CheckpointError, WorkspaceError
from inspector.core.registry import Registry
from inspector.core.workspace import Workspace


@pytest.mark.parametrize("name", ["../../outside", "/tmp/outside", "..", "a/../../b"])
def test_a_dataset_name_from_the_config_cannot_leave_the_workspace(tmp_path: Path, name: str):
    workspace = Workspace.create(tmp_path / "ws")
    (tmp_path / "ws" / "config.toml").write_text(f'[dataset]\nname = "{name}"\n')
    workspace = Workspace.open(tmp_path / "ws")
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(WorkspaceError, match="cannot be a dataset name"):
        workspace.dataset()
    assert sorted(tmp_path.rglob("*")) == before


@pytest.mark.parametrize("name", ["../../ws2/models/v1", "/etc", ".."])
def test_a_model_version_named_with_a_path_is_only_looked_up_by_its_name(tmp_path: Path,
                                                                         name: str):
    workspace = Workspace.create(tmp_path / "ws")
    with pytest.raises(CheckpointError, match="no model version"):
        Registry(workspace).get(name)
