"""`inspector paths`: where settings, workspaces and logs are, for people and for scripts."""

from __future__ import annotations

import shlex

from inspector.cli import main


def test_paths_for_people_and_for_the_uninstaller(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("INSPECTOR_CONFIG_DIR", str(tmp_path / "my config"))
    monkeypatch.setenv("INSPECTOR_DATA_DIR", str(tmp_path / "data"))
    assert main(["paths"]) == 0
    table = capsys.readouterr().out
    assert f"Settings        {tmp_path / 'my config'}" in table
    assert f"Logs            {tmp_path / 'data' / 'logs'}" in table
    assert main(["paths", "--shell"]) == 0
    pairs = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
    assert shlex.split(pairs["INSPECTOR_CONFIG_PATH"]) == [str(tmp_path / "my config")]
    assert shlex.split(pairs["INSPECTOR_LOGS_PATH"]) == [str(tmp_path / "data" / "logs")]
    assert {"INSPECTOR_INSTALLATION_PATH", "INSPECTOR_WORKSPACES_PATH",
            "INSPECTOR_DEMO_PATH"} <= set(pairs)
