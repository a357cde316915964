"""Typed settings for every part of Inspector, read and written as TOML (DESIGN rule 8).

The GUI forms and the CLI flags edit these same objects. Unknown keys are refused so that a
typo in config.toml is reported instead of silently ignored.
"""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path
from typing import Self

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from inspector.core.atomic import atomic_write_text
from inspector.core.errors import ConfigError

log = logging.getLogger(__name__)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class SplitConfig(_Section):
    """Fractions of each class that go to train, val and test."""

    train: float = Field(0.7, ge=0.0, le=1.0)
    val: float = Field(0.15, ge=0.0, le=1.0)
    test: float = Field(0.15, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _sums_to_one(self) -> Self:
        total = self.train + self.val + self.test
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"train + val + test must be 1.0, not {total:g}")
        if self.train <= 0:
            raise ValueError("train must be above 0")
        return self

    def as_dict(self) -> dict[str, float]:
        return {"train": self.train, "val": self.val, "test": self.test}


class DatasetConfig(_Section):
    name: str = Field("main", min_length=1, description="Folder of the active dataset in datasets/")
    split: SplitConfig = SplitConfig()
    min_images_per_class: int = Field(20, ge=1, description="Fewer than this is reported")
    imbalance_warn_ratio: float = Field(
        10.0, gt=1.0, description="Largest class / smallest class above this is reported"
    )
    max_image_pixels: int = Field(
        80_000_000, ge=1, description="Images with more pixels are refused (decompression bombs)"
    )


class ImportConfig(_Section):
    """How box-annotated boards (DeepPCB, Pascal VOC) become classification patches."""

    context: float = Field(0.5, ge=0.0, le=4.0, description="Margin around a box, times its size")
    min_patch: int = Field(64, ge=8, le=4096, description="Smallest patch side in pixels")
    ok_per_image: int = Field(3, ge=0, le=100, description="Defect-free patches taken per board")
    ok_label: str = Field("ok", min_length=1)
    seed: int = 0


class InspectorConfig(_Section):
    """Everything in a workspace's config.toml."""

    version: int = Field(1, ge=1, le=1)
    dataset: DatasetConfig = DatasetConfig()
    importers: ImportConfig = ImportConfig()


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown setting (a typo?)"
        lines.append(f"  {where}: {message}")
    return "\n".join(lines)


def config_from_dict(data: dict, source: str = "settings") -> InspectorConfig:
    try:
        return InspectorConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source} has invalid settings:\n{_describe(exc)}") from None


def load_config(path: Path) -> InspectorConfig:
    """Read a config.toml; a missing file gives the defaults."""
    if not path.exists():
        return InspectorConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not a text file; fix or delete it.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}); fix or delete it.") from None
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror}.") from None
    return config_from_dict(data, str(path))


def save_config(config: InspectorConfig, path: Path) -> None:
    atomic_write_text(path, tomli_w.dumps(config.model_dump(mode="json")))
