"""ImageNet weights for the ResNet-50 backbone: where to find them, how to load them safely.

Nothing is downloaded. The file is torchvision's IMAGENET1K_V2 ResNet-50 checkpoint, found (in
this order) at the path named in the config (``model.imagenet_weights``), at the path in the
environment variable ``INSPECTOR_IMAGENET_WEIGHTS``, in torchvision's own download cache, or
bundled with the packaged application (installer/build.py copies them in where the build machine
has them, so that an offline workstation still trains with transfer learning).
A ``.pth`` file is checked against the sha256 prefix torchvision publishes for it and read with
``torch.load(weights_only=True)`` (the restricted unpickler: tensors and plain containers only,
never arbitrary objects). A ``.safetensors`` file with the same keys is accepted as well.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch

from inspector.config import ModelConfig
from inspector.core.errors import CheckpointError
from inspector.core.models.freezing import freeze_stages
from inspector.core.models.resnet_cbam import ResNetCBAM, build_model
from inspector.core.paths import PACKAGE_ROOT

log = logging.getLogger(__name__)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
IMAGENET_FILE = "resnet50-11ad3fa6.pth"
# torchvision names its files <name>-<first 8 hex digits of the file's sha256>.pth.
IMAGENET_SHA256_PREFIX = "11ad3fa6"
ENV_VAR = "INSPECTOR_IMAGENET_WEIGHTS"
# Inside the package, so that it is found in a PyInstaller bundle (and in a source checkout).
BUNDLED_PATH = PACKAGE_ROOT / "weights" / IMAGENET_FILE

NO_WEIGHTS_WARNING = (
    "No ImageNet weights were found, so the model is trained from random weights: every layer "
    "will be trained and accuracy will need more images and more epochs. To start from ImageNet "
    f"instead, get torchvision's ResNet-50 IMAGENET1K_V2 file ({IMAGENET_FILE}) and either set "
    f"model.imagenet_weights in the workspace settings, set the environment variable {ENV_VAR} "
    "to its path, or put it in torchvision's cache "
    f"(~/.cache/torch/hub/checkpoints/{IMAGENET_FILE}, or $TORCH_HOME/hub/checkpoints/)."
)


@dataclass(frozen=True)
class WeightsSource:
    path: Path
    origin: str  # "config" | "environment" | "torchvision cache" | "bundled"


def _named_file(path: Path, origin: str, how: str) -> WeightsSource:
    path = path.expanduser()
    if not path.exists():
        raise CheckpointError(
            f"The ImageNet weights file named by {how} does not exist: {path}. "
            "Fix the path, or remove the setting to train without ImageNet weights."
        )
    if not path.is_file():
        raise CheckpointError(f"The ImageNet weights path named by {how} is not a file: {path}.")
    return WeightsSource(path, origin)


def torchvision_cache_path() -> Path:
    """Where torchvision keeps the file once downloaded: <torch hub dir>/checkpoints/<file>."""
    return Path(torch.hub.get_dir()) / "checkpoints" / IMAGENET_FILE


def find_imagenet_weights(config_path: Path | None = None) -> WeightsSource | None:
    """The weights file to use, or None when there is none.

    Order: ``config_path`` (from ``model.imagenet_weights``), the environment variable,
    torchvision's cache, then the copy bundled with the packaged application. A file named by
    the config or the environment that is missing raises :class:`CheckpointError`: the user
    asked for it, so silently training without it would hide the mistake.
    """
    if config_path is not None:
        return _named_file(Path(config_path), "config", "the setting model.imagenet_weights")
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return _named_file(Path(env), "environment", f"the environment variable {ENV_VAR}")
    cached = torchvision_cache_path()
    if cached.is_file():
        return WeightsSource(cached, "torchvision cache")
    if BUNDLED_PATH.is_file():
        return WeightsSource(BUNDLED_PATH, "bundled")
    return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _read_state_dict(path: Path) -> Mapping[str, torch.Tensor]:
    if path.suffix.lower() == ".safetensors":
        from safetensors.torch import load_file

        # safetensors holds raw tensors only: nothing to unpickle. Its hash differs from the .pth
        # file's (another format), so the keys and shapes are what is checked.
        log.info("reading ImageNet weights from safetensors %s (keys and shapes checked)", path)
        try:
            return load_file(str(path), device="cpu")
        except Exception as exc:
            raise CheckpointError(f"{path} is not a readable safetensors file ({exc}).") from None

    actual = _sha256(path)
    if not actual.startswith(IMAGENET_SHA256_PREFIX):
        raise CheckpointError(
            f"{path} is not the IMAGENET1K_V2 file torchvision publishes as {IMAGENET_FILE} "
            f"(sha256 {actual[:16]}..., expected {IMAGENET_SHA256_PREFIX}...). It may be damaged, "
            "incomplete, or other weights."
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"{path} cannot be read as a weights file ({exc}).") from None
    if not isinstance(state, Mapping) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise CheckpointError(f"{path} does not hold a plain table of weights.")
    return state


def load_imagenet_weights(model: ResNetCBAM, source: WeightsSource) -> None:
    """Load the ImageNet backbone into ``model`` (the head ``fc.*`` is dropped; CBAM keeps its
    identity initialisation). Raises :class:`CheckpointError` for a wrong, corrupt or mismatched
    file; the model is left unchanged then."""
    path = source.path
    state = {k: v for k, v in _read_state_dict(path).items() if not k.startswith("fc.")}
    own = model.state_dict()
    unexpected = sorted(k for k in state if k not in own)
    wrong_shape = sorted(k for k in state if k in own and state[k].shape != own[k].shape)
    # Old torchvision files carry no BatchNorm num_batches_tracked; torch fills those in.
    missing = sorted(
        k for k in own
        if k not in state and not k.startswith("fc.") and ".cbam." not in k
        and not k.endswith("num_batches_tracked")
    )
    if unexpected or wrong_shape or missing:
        details = "; ".join(
            f"{label}: {', '.join(keys[:3])}{' ...' if len(keys) > 3 else ''}"
            for label, keys in (
                ("unexpected", unexpected), ("wrong shape", wrong_shape), ("missing", missing)
            )
            if keys
        )
        raise CheckpointError(
            f"{path} does not hold ResNet-50 weights that fit this model ({details})."
        )
    result = model.load_state_dict(state, strict=False)
    leftover = [
        k for k in result.missing_keys
        if not (k.startswith("fc.") or ".cbam." in k or k.endswith("num_batches_tracked"))
    ]
    if leftover or result.unexpected_keys:  # checked above; kept as a guard
        keys = leftover or result.unexpected_keys
        raise CheckpointError(f"{path} did not load completely ({keys[:3]})")
    log.info("ImageNet weights loaded from %s (%s)", path, source.origin)


def prepare_model(
    config: ModelConfig, num_classes: int
) -> tuple[ResNetCBAM, WeightsSource | None, list[str]]:
    """Build the model, load ImageNet weights when asked for and found, freeze.

    ``config.frozen_stages`` are frozen only when ImageNet weights were loaded: freezing random
    layers would only cripple the model, so without weights every layer is trained.
    Returns (model, the weights source or None, warnings for the user).
    """
    model = build_model(config, num_classes)
    warnings: list[str] = []
    source = None
    if config.pretrained:
        source = find_imagenet_weights(config.imagenet_weights)
        if source is None:
            log.warning(NO_WEIGHTS_WARNING)
            warnings.append(NO_WEIGHTS_WARNING)
        else:
            load_imagenet_weights(model, source)
    else:
        log.info("pretrained weights not asked for: training every layer from random weights")
    if source is not None:
        freeze_stages(model, config.frozen_stages)
    elif config.frozen_stages:
        log.info("no ImageNet weights: frozen_stages %s ignored, every layer is trained",
                 list(config.frozen_stages))
    return model, source, warnings
