from __future__ import annotations

import pytest

from inspector.config import InspectorConfig, load_config, save_config
from inspector.core.errors import ConfigError


def test_round_trip_keeps_every_value(tmp_path):
    config = InspectorConfig()
    config.dataset.min_images_per_class = 7
    config.importers.context = 1.25
    save_config(config, tmp_path / "config.toml")
    assert load_config(tmp_path / "config.toml") == config


def test_missing_file_gives_defaults(tmp_path):
    assert load_config(tmp_path / "none.toml") == InspectorConfig()


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[dataset\nname = 1", "not valid TOML"),
        ('[dataset]\nmin_images_per_class = "many"', "dataset.min_images_per_class"),
        ("[dataset.split]\ntrain = 0.9\nval = 0.2\ntest = 0.1", "must be 1.0"),
        ("[dataset]\nmin_imags_per_class = 3", "unknown setting"),
        ("[importers]\ncontext = -1", "importers.context"),
    ],
)
def test_bad_files_give_a_message_naming_the_setting(tmp_path, text, match):
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=match) as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_binary_file_is_refused(tmp_path):
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="not a text file"):
        load_config(path)
