"""Typed settings for every part of Inspector, read and written as TOML (DESIGN rule 8).

The GUI forms and the CLI flags edit these same objects. Unknown keys are refused so that a
typo in config.toml is reported instead of silently ignored.
"""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path
from typing import Literal, Self

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


Stage = Literal["stem", "layer1", "layer2", "layer3", "layer4"]
ResidualStage = Literal["layer1", "layer2", "layer3", "layer4"]
STAGES: tuple[str, ...] = ("stem", "layer1", "layer2", "layer3", "layer4")


class ModelConfig(_Section):
    """The network: a ResNet-50 with CBAM attention in some stages and a linear head."""

    architecture: Literal["resnet50_cbam"] = "resnet50_cbam"
    input_size: int = Field(224, ge=32, le=1024, description="Square input side in pixels")
    cbam_stages: list[ResidualStage] = Field(default_factory=lambda: ["layer3", "layer4"])
    cbam_reduction: int = Field(16, ge=1, le=256, description="Channel-attention MLP reduction")
    frozen_stages: list[Stage] = Field(
        default_factory=lambda: ["stem", "layer1", "layer2"],
        description="Stages kept fixed (with ImageNet weights only; without, all are trained)",
    )
    dropout: float = Field(0.2, ge=0.0, lt=1.0, description="Dropout before the linear head")
    pretrained: bool = Field(True, description="Start from ImageNet weights where found")
    imagenet_weights: Path | None = Field(
        None, description="ImageNet ResNet-50 weights file (IMAGENET1K_V2), if not in the cache"
    )

    @model_validator(mode="after")
    def _unique(self) -> Self:
        for name in ("cbam_stages", "frozen_stages"):
            values = getattr(self, name)
            if len(set(values)) != len(values):
                raise ValueError(f"{name} lists a stage twice")
        return self


class LossConfig(_Section):
    kind: Literal["focal", "cross_entropy"] = "focal"
    gamma: float = Field(2.0, ge=0.0, le=10.0, description="Focal Loss focusing parameter")
    alpha: Literal["none", "inverse_frequency"] | list[float] = Field(
        "none", description="Per-class weights: none, inverse_frequency, or one value per class"
    )

    @model_validator(mode="after")
    def _alpha_positive(self) -> Self:
        if isinstance(self.alpha, list) and (not self.alpha or min(self.alpha) <= 0):
            raise ValueError("alpha values must all be above 0")
        return self


class AugmentConfig(_Section):
    """Training-time augmentation. PCB defects have no orientation: flips and 90° turns are safe."""

    enabled: bool = True
    flips: bool = True
    rotate90: bool = True
    affine_p: float = Field(0.5, ge=0.0, le=1.0, description="Shift/scale/rotate probability")
    shift: float = Field(0.06, ge=0.0, le=0.5, description="Largest shift, fraction of the side")
    scale: float = Field(0.1, ge=0.0, le=0.5, description="Largest zoom in or out")
    rotate: float = Field(15.0, ge=0.0, le=180.0, description="Largest rotation in degrees")
    brightness_contrast_p: float = Field(0.5, ge=0.0, le=1.0)
    brightness: float = Field(0.2, ge=0.0, le=1.0)
    contrast: float = Field(0.2, ge=0.0, le=1.0)
    hue_saturation_p: float = Field(0.3, ge=0.0, le=1.0)
    blur_p: float = Field(0.2, ge=0.0, le=1.0)
    blur_max: int = Field(5, ge=3, le=31, description="Largest blur kernel (odd)")
    noise_p: float = Field(0.2, ge=0.0, le=1.0)
    noise_std: float = Field(0.06, ge=0.0, le=1.0, description="Largest noise std, 0-1 scale")
    jpeg_p: float = Field(0.2, ge=0.0, le=1.0)
    jpeg_quality_min: int = Field(50, ge=1, le=100)


class TrainConfig(_Section):
    epochs: int = Field(30, ge=1, le=10_000)
    batch_size: int = Field(32, ge=1, le=4096)
    lr_head: float = Field(1e-3, gt=0.0, le=1.0, description="Learning rate of CBAM and head")
    lr_backbone: float = Field(
        1e-4, gt=0.0, le=1.0, description="Learning rate of pretrained layers"
    )
    weight_decay: float = Field(1e-4, ge=0.0, le=1.0)
    warmup_epochs: float = Field(1.0, ge=0.0, le=100.0)
    patience: int = Field(6, ge=0, description="Epochs without val macro-F1 gain before stopping")
    sampler: Literal["shuffle", "weighted"] = Field(
        "shuffle", description="weighted: draw classes equally often (a remedy for imbalance)"
    )
    device: str = Field("auto", pattern=r"^(auto|cpu|cuda(:\d+)?)$")
    amp: bool = Field(True, description="Mixed precision on CUDA")
    workers: int | None = Field(None, ge=0, le=64, description="DataLoader workers (auto: None)")
    seed: int = 0
    keep_resume_state: bool = Field(
        False, description="Keep last.safetensors (model and optimizer state, about three times "
        "the model's size) after a run finishes, to extend it later with more epochs"
    )
    loss: LossConfig = LossConfig()


class SourceConfig(_Section):
    """Where live frames come from: a camera index, a video file, a folder of images, an
    rtsp:// or http(s):// URL, or "virtual" (generated boards with known defects)."""

    spec: str = Field("virtual", min_length=1)
    width: int | None = Field(None, ge=16, le=16384)
    height: int | None = Field(None, ge=16, le=16384)
    fps: float | None = Field(None, gt=0.0, le=1000.0)
    exposure: float | None = Field(None, description="Driver units; only where the driver allows")
    loop: bool = Field(False, description="Start a video or folder again at its end")
    reconnect_initial_s: float = Field(0.5, gt=0.0, le=60.0)
    reconnect_max_s: float = Field(10.0, gt=0.0, le=600.0)
    reconnect_attempts: int = Field(0, ge=0, description="0: keep trying for ever")
    open_timeout_s: float = Field(10.0, gt=0.0, le=300.0)


class VerdictConfig(_Section):
    """PASS when the good class wins with at least its threshold, FAIL when a defect class
    does, REVIEW otherwise or when the frame looks unlike the training data."""

    good_class: str = "ok"
    default_threshold: float = Field(0.6, ge=0.0, le=1.0)
    thresholds: dict[str, float] = Field(default_factory=dict, description="Per class")
    ood_method: Literal["energy", "max_logit", "none"] = "energy"
    ood_threshold: float | None = Field(
        None, description="Scores above it mean out-of-distribution (fitted at training)"
    )


class ResultsConfig(_Section):
    save_frames: Literal["fail_review", "all", "none"] = "fail_review"
    jpeg_quality: int = Field(90, ge=10, le=100)
    keep_days: int = Field(90, ge=0, description="0: keep results for ever")
    max_snapshot_gb: float = Field(20.0, gt=0.0, description="Oldest snapshots go first")
    shifts: dict[str, str] = Field(
        default_factory=lambda: {"early": "06:00", "late": "14:00", "night": "22:00"},
        description="Shift name -> start time (HH:MM), for yield by shift",
    )


class LiveConfig(_Section):
    source: SourceConfig = SourceConfig()
    verdict: VerdictConfig = VerdictConfig()
    results: ResultsConfig = ResultsConfig()
    backend: Literal["torch", "onnx", "onnx-int8"] = "torch"
    roi: tuple[int, int, int, int] | None = Field(None, description="x, y, width, height")
    tiling: bool = Field(False, description="Classify a grid of patches over the frame")
    tile_overlap: float = Field(0.25, ge=0.0, lt=0.9)
    cam_alpha: float = Field(0.45, ge=0.0, le=1.0, description="Heat-map opacity")


class StationConfig(_Section):
    """The inspection station: who may do what. A workspace with an engineer PIN is a station:
    it starts in operator mode, and engineer mode needs the PIN."""

    start_role: Literal["auto", "operator", "engineer"] = Field(
        "auto", description="auto: operator when an engineer PIN is set, else engineer")
    lock_after_minutes: float = Field(
        5.0, ge=0.0, le=480.0, description="Engineer mode locks after this idle time (0: never)")
    max_pin_attempts: int = Field(5, ge=1, le=100, description="Wrong PINs before a pause")
    lockout_seconds: float = Field(30.0, ge=0.0, le=3600.0)


class PromotionConfig(_Section):
    """The promotion gate: a new model is compared with the active one before it goes live."""

    margin: float = Field(0.02, ge=0.0, le=1.0,
                          description="Refuse a drop in any class's recall or precision beyond it")
    min_support: int = Field(5, ge=1, description="Classes with fewer test images only warn")
    max_changed: int = Field(200, ge=0, description="Changed images kept in the report")


class InspectorConfig(_Section):
    """Everything in a workspace's config.toml."""

    version: int = Field(1, ge=1, le=1)
    dataset: DatasetConfig = DatasetConfig()
    importers: ImportConfig = ImportConfig()
    model: ModelConfig = ModelConfig()
    augment: AugmentConfig = AugmentConfig()
    train: TrainConfig = TrainConfig()
    live: LiveConfig = LiveConfig()
    station: StationConfig = StationConfig()
    promotion: PromotionConfig = PromotionConfig()


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
    atomic_write_text(path, tomli_w.dumps(config.model_dump(mode="json", exclude_none=True)))
