"""Bad settings files: a ConfigError that names the setting and the problem; the file is left
as it was (never "repaired" by rewriting it)."""

from __future__ import annotations

import pytest

from corpus import generate
from inspector.config import load_config
from inspector.core.errors import ConfigError
from inspector.core.workspace import Workspace

CASES = [
    (generate.config_wrong_type, "train.epochs"),
    (generate.config_out_of_range, "train.batch_size"),
    (generate.config_unknown_key, "unknown setting"),
    (generate.config_not_toml, "toml"),
]


@pytest.mark.parametrize(("make", "words"), CASES, ids=[m.__name__ for m, _ in CASES])
def test_a_bad_config_is_named_and_left_untouched(make, words, cases):
    path = make(cases)
    before = path.read_bytes()
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert words in str(error.value).lower() or words in str(error.value), error.value
    assert str(path.name) in str(error.value) or "settings" in str(error.value).lower()
    assert path.read_bytes() == before


@pytest.mark.parametrize(("make", "words"), CASES, ids=[m.__name__ for m, _ in CASES])
def test_a_workspace_with_a_bad_config_does_not_open_and_loses_nothing(make, words, cases,
                                                                       tmp_path):
    workspace = Workspace.create(tmp_path / "ws")
    workspace.config_path.write_bytes(make(cases).read_bytes())
    before = workspace.config_path.read_bytes()
    with pytest.raises(ConfigError):
        Workspace.open(workspace.root)
    assert workspace.config_path.read_bytes() == before
