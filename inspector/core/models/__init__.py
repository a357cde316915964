"""The network: ResNet-50 with CBAM attention, partial freezing, ImageNet weights, losses.

Importing this package imports torch and torchvision; only training and inference code does.
"""

from inspector.core.models.cbam import CBAM, ChannelAttention, SpatialAttention
from inspector.core.models.freezing import freeze_stages, trainable_parameter_groups
from inspector.core.models.losses import (
    FocalLoss,
    build_loss,
    class_alpha,
    weighted_sample_weights,
)
from inspector.core.models.pretrained import (
    ENV_VAR,
    IMAGENET_FILE,
    IMAGENET_MEAN,
    IMAGENET_STD,
    NO_WEIGHTS_WARNING,
    WeightsSource,
    find_imagenet_weights,
    load_imagenet_weights,
    prepare_model,
)
from inspector.core.models.resnet_cbam import (
    CBAMBottleneck,
    ResNetCBAM,
    build_model,
    widen_head,
)

__all__ = [
    "CBAM",
    "ENV_VAR",
    "IMAGENET_FILE",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "NO_WEIGHTS_WARNING",
    "CBAMBottleneck",
    "ChannelAttention",
    "FocalLoss",
    "ResNetCBAM",
    "SpatialAttention",
    "WeightsSource",
    "build_loss",
    "build_model",
    "class_alpha",
    "find_imagenet_weights",
    "freeze_stages",
    "load_imagenet_weights",
    "prepare_model",
    "trainable_parameter_groups",
    "weighted_sample_weights",
    "widen_head",
]
