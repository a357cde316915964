"""`inspector paths`: where this installation keeps settings, workspaces and logs.

    inspector paths            a table for people
    inspector paths --shell    NAME='path' lines for scripts (the uninstaller's --purge reads it)

Everything a user makes lives in these folders, never in the installation, so an upgrade keeps
it and an uninstall leaves it unless asked (INSPECTOR_CONFIG_DIR and INSPECTOR_DATA_DIR move
them, for a portable install or a test).
"""

from __future__ import annotations

import argparse
import shlex


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "paths", help="where settings, workspaces and logs are kept",
        description="Print the folders Inspector uses. Results and models live inside each "
        "workspace (results.sqlite, models/), wherever the workspace was created.")
    parser.add_argument("--shell", action="store_true",
                        help="print NAME='path' lines that a shell script can eval")
    parser.set_defaults(func=run)


def folders() -> dict[str, str]:
    from inspector.core.paths import (
        default_workspaces_dir,
        demo_workspace_dir,
        installation_dir,
        user_config_dir,
        user_data_dir,
        user_log_dir,
    )

    return {
        "installation": str(installation_dir()),
        "config": str(user_config_dir()),
        "data": str(user_data_dir()),
        "logs": str(user_log_dir()),
        "workspaces": str(default_workspaces_dir()),
        "demo": str(demo_workspace_dir()),
    }


def run(args: argparse.Namespace) -> int:
    paths = folders()
    if args.shell:
        for name, path in paths.items():
            print(f"INSPECTOR_{name.upper()}_PATH={shlex.quote(path)}")
        return 0
    labels = {"installation": "Installation", "config": "Settings", "data": "User data",
              "logs": "Logs", "workspaces": "New workspaces", "demo": "Demo workspace"}
    width = max(len(label) for label in labels.values())
    for name, path in paths.items():
        print(f"{labels[name]:<{width}}  {path}")
    print("\nAn upgrade replaces only the installation; uninstalling leaves the rest unless "
          "asked (--purge). Each workspace keeps its own results.sqlite, models and datasets.")
    return 0
