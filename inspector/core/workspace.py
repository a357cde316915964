"""A workspace: one folder is one inspection project.

    <workspace>/config.toml      typed settings (inspector.config)
    <workspace>/datasets/<name>/ datasets, one folder per class inside
    <workspace>/models/          trained model versions
    <workspace>/results.sqlite   live inspection results (created by the results store)
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from inspector.config import InspectorConfig, load_config, save_config
from inspector.core.atomic import atomic_write_json
from inspector.core.data.dataset import Dataset, check_class_name
from inspector.core.errors import DatasetError, WorkspaceError
from inspector.core.paths import user_config_dir

log = logging.getLogger(__name__)

CONFIG_NAME = "config.toml"
MAX_RECENT = 10


class Workspace:
    def __init__(self, root: Path, config: InspectorConfig) -> None:
        self.root = root
        self.config = config

    # -- layout
    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def datasets_dir(self) -> Path:
        return self.root / "datasets"

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    @property
    def results_path(self) -> Path:
        return self.root / "results.sqlite"

    @property
    def name(self) -> str:
        return self.root.name

    # -- life cycle
    @classmethod
    def create(cls, root: Path, config: InspectorConfig | None = None) -> Workspace:
        root = Path(root).expanduser().resolve()
        if (root / CONFIG_NAME).exists():
            raise WorkspaceError(f"{root} is already a workspace; open it instead.")
        if root.exists() and not root.is_dir():
            raise WorkspaceError(f"{root} is a file, not a folder; choose another place.")
        try:
            root.mkdir(parents=True, exist_ok=True)
            (root / "datasets").mkdir(exist_ok=True)
            (root / "models").mkdir(exist_ok=True)
            config = config or InspectorConfig()
            save_config(config, root / CONFIG_NAME)
        except OSError as exc:
            raise WorkspaceError(f"Cannot create a workspace in {root}: {exc.strerror}.") from None
        workspace = cls(root, config)
        workspace.dataset()  # the active dataset exists from the start
        log.info("created workspace %s", root)
        return workspace

    @classmethod
    def open(cls, root: Path) -> Workspace:
        root = Path(root).expanduser().resolve()
        if not root.is_dir():
            raise WorkspaceError(f"There is no folder {root}.")
        if not (root / CONFIG_NAME).is_file():
            raise WorkspaceError(
                f"{root} is not an Inspector workspace (it has no {CONFIG_NAME}). "
                "Create a workspace there, or open the folder that holds config.toml."
            )
        return cls(root, load_config(root / CONFIG_NAME))

    @classmethod
    def open_or_create(cls, root: Path) -> Workspace:
        if (Path(root) / CONFIG_NAME).is_file():
            return cls.open(root)
        return cls.create(root)

    def save_config(self) -> None:
        save_config(self.config, self.config_path)

    # -- datasets
    def dataset_names(self) -> list[str]:
        if not self.datasets_dir.is_dir():
            return []
        return sorted(p.name for p in self.datasets_dir.iterdir()
                      if p.is_dir() and not p.name.startswith("."))

    def dataset(self, name: str | None = None) -> Dataset:
        """The named dataset (default: the active one), created if it does not exist yet."""
        name = name or self.config.dataset.name
        try:
            name = check_class_name(name)  # the same rules make a safe folder name
        except DatasetError:
            raise WorkspaceError(f"'{name}' cannot be a dataset name.") from None
        return Dataset.create(self.datasets_dir / name, self.config.dataset)


class RecentWorkspaces:
    """The workspaces opened lately, newest first, kept in the user's config folder."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or user_config_dir() / "recent.json"

    def list(self) -> list[Path]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return [Path(p) for p in data.get("workspaces", []) if isinstance(p, str)]
        except (OSError, ValueError, AttributeError):
            return []

    def add(self, root: Path) -> None:
        root = Path(root).resolve()
        items = [root] + [p for p in self.list() if p != root]
        atomic_write_json(self.path, {"workspaces": [str(p) for p in items[:MAX_RECENT]]})

    def last_existing(self) -> Path | None:
        for root in self.list():
            if (root / CONFIG_NAME).is_file():
                return root
        return None
