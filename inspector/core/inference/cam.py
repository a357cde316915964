"""Grad-CAM from the prediction's own forward pass.

The head is linear on globally average-pooled layer4 features A (K x h x w):
    y_c = b_c + sum_k W[c, k] * mean_ij A_k[ij]
so Grad-CAM's channel weights are exact without a backward pass:
    alpha_k = mean_ij d y_c / d A_k[ij] = W[c, k] / (h * w)
    CAM_c = ReLU(sum_k alpha_k * A_k) = ReLU(sum_k W[c, k] * A_k) / (h * w)
Both backends return A with the logits, so the heat map costs one small matrix product per
frame instead of a second, backward pass (captum's LayerGradCam gives the same map; a test
checks it). captum remains the tool for other layers, targets and attribution methods.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def grad_cam(features: np.ndarray, fc_weight: np.ndarray, targets: Sequence[int]) -> np.ndarray:
    """Grad-CAM maps (N, h, w) of layer4 `features` (N, K, h, w) for one class per image."""
    features = np.asarray(features, dtype=np.float32)
    n, _, h, w = features.shape
    weights = np.asarray(fc_weight, dtype=np.float32)[np.asarray(targets, dtype=np.int64)]
    maps = np.einsum("nk,nkhw->nhw", weights, features) / float(h * w)
    return np.maximum(maps, 0.0, out=maps).reshape(n, h, w)


def normalise(cam: np.ndarray) -> np.ndarray:
    """Scale each map to [0, 1] by its maximum; an all-zero map stays zero."""
    cam = np.asarray(cam, dtype=np.float32)
    peak = cam.reshape(cam.shape[0], -1).max(axis=1) if cam.ndim == 3 else np.array([cam.max()])
    scale = np.where(peak > 1e-12, 1.0 / np.maximum(peak, 1e-12), 0.0).astype(np.float32)
    return cam * (scale.reshape(-1, 1, 1) if cam.ndim == 3 else scale[0])
