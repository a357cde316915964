"""Where Inspector keeps things: user folders from platformdirs, never the installation.

INSPECTOR_CONFIG_DIR and INSPECTOR_DATA_DIR override the user folders (tests, portable installs).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "Inspector"
PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def installation_dir() -> Path:
    """Where the running code lives: the bundle's folder when frozen (PyInstaller), else the
    package's. Nothing a user makes is kept here."""
    if getattr(sys, "frozen", False):
        return Path(sys.executable).resolve().parent
    return PACKAGE_ROOT


def user_config_dir() -> Path:
    override = os.environ.get("INSPECTOR_CONFIG_DIR")
    return Path(override) if override else Path(platformdirs.user_config_dir(APP_NAME, False))


def user_data_dir() -> Path:
    override = os.environ.get("INSPECTOR_DATA_DIR")
    return Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, False))


def user_log_dir() -> Path:
    return user_data_dir() / "logs"


def source_datasets_dir() -> Path | None:
    """The repository's datasets/ folder when running from a writable source checkout."""
    repo = PACKAGE_ROOT.parent
    folder = repo / "datasets"
    if (repo / "pyproject.toml").is_file() and folder.is_dir() and os.access(folder, os.W_OK):
        return folder
    return None


def default_workspaces_dir() -> Path:
    return source_datasets_dir() or user_data_dir() / "workspaces"


def demo_workspace_dir() -> Path:
    return default_workspaces_dir() / "demo"
