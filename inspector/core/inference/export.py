"""Export a checkpoint to ONNX: one graph giving the logits and the layer4 features.

The graph takes a normalised float32 NCHW batch named ``input`` (dynamic batch axis ``batch``,
fixed ``input_size`` x ``input_size``) and has two outputs from one forward pass: ``logits``
(N, C) and ``features`` (N, 2048, h, w), the tensor ``ResNetCBAM.forward_with_features`` returns,
so Grad-CAM computed from it and the head's weights is the same for both back ends.

The exported file is checked against the PyTorch model before it is renamed into place; the
metadata an inference session needs (classes, input size, normalisation, temperature, ...) is
written beside it as ``<file>.json`` (see :func:`.onnx_backend.sidecar_path`) together with the
file's sha256, and a short model card as ``<stem>.md``.

torch and onnx are imported inside the functions (DESIGN rule 6).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inspector.core.atomic import atomic_path, atomic_write_json, atomic_write_text
from inspector.core.errors import CheckpointError
from inspector.core.inference.onnx_backend import (
    FEATURES,
    INPUT,
    LOGITS,
    SIDECAR_FORMAT,
    SIDECAR_VERSION,
    sidecar_path,
)

if TYPE_CHECKING:
    import numpy as np
    import torch

    from inspector.core.training.checkpoint import Checkpoint

log = logging.getLogger(__name__)

DEFAULT_NAME = "model.onnx"
TOLERANCE = 1e-3
"""Largest difference allowed between ONNX Runtime and PyTorch, for the logits and the features
each: absolute for outputs up to 1 in magnitude, relative to the largest magnitude above that.

An absolute 1e-3 alone is below float32 rounding for large activations: on random inputs a
ResNet-50's layer4 features reach a few hundred, and ONNX Runtime's and PyTorch's convolutions
(different summation orders) differ there by ~1e-2, i.e. 4e-5 relative. A wrong export
differs by the order of the values themselves."""

# Checkpoint meta copied into the sidecar when present (the inference ones are required).
_REQUIRED_META = ("classes", "input_size", "normalization", "model_config", "architecture")
_OPTIONAL_META = ("thresholds", "dataset_fingerprint", "dataset", "metrics", "epoch", "pretrained")

__all__ = ["DEFAULT_NAME", "TOLERANCE", "TORCHSCRIPT_NAME", "export_onnx", "export_torchscript",
           "file_sha256", "onnx_versions"]

TORCHSCRIPT_NAME = "model.torchscript.pt"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def onnx_versions() -> dict[str, str]:
    """Library versions recorded with an exported model."""
    import onnx
    import onnxruntime

    from inspector.core.training.checkpoint import library_versions

    return {**library_versions(), "onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__}


def _wrapper(model: torch.nn.Module) -> torch.nn.Module:
    """A module whose forward is the model's forward_with_features (one pass, two outputs)."""
    from torch import nn

    class LogitsAndFeatures(nn.Module):
        def __init__(self, inner: nn.Module) -> None:
            super().__init__()
            self.model = inner

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            return self.model.forward_with_features(x)

    # eval() on the wrapper itself: the exporter restores the wrapper's own mode afterwards,
    # which would switch the inner model to training mode if the wrapper were left in it.
    return LogitsAndFeatures(model).eval()


def _reference_outputs(module: torch.nn.Module, x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's (logits, features) for `x`: what the exported graph must reproduce."""
    import torch

    with torch.no_grad():
        logits, features = module(x)
    return logits.float().numpy(), features.float().numpy()


def _check(onnx_file: Path, module: torch.nn.Module, input_size: int,
           check_batch: int) -> tuple[dict[str, float], tuple[int, int]]:
    """Run the exported file in ONNX Runtime next to PyTorch; raise CheckpointError on a mismatch.

    Checked on a batch of `check_batch` random inputs and on a batch of one (the dynamic batch
    axis), with the session options inference uses (full graph optimisation). Returns the
    largest differences found and the features' (h, w).
    """
    import numpy as np
    import onnxruntime as ort
    import torch

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        session = ort.InferenceSession(str(onnx_file), options,
                                       providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types
        raise CheckpointError(
            f"ONNX Runtime cannot load the exported model ({exc}). Nothing was written."
        ) from None
    generator = torch.Generator().manual_seed(0)
    worst = {"logits_max_abs_diff": 0.0, "features_max_abs_diff": 0.0,
             "logits_scale": 0.0, "features_scale": 0.0}
    for n in dict.fromkeys((max(1, check_batch), 1)):
        x = torch.randn(n, 3, input_size, input_size, generator=generator)
        ref_logits, ref_features = _reference_outputs(module, x)
        logits, features = session.run([LOGITS, FEATURES], {INPUT: x.numpy()})
        if logits.shape != ref_logits.shape or features.shape != ref_features.shape:
            raise CheckpointError(
                f"The exported ONNX model gives outputs of shapes {logits.shape} and "
                f"{features.shape} for a batch of {n}; PyTorch gives {ref_logits.shape} and "
                f"{ref_features.shape}. Nothing was written."
            )
        d_logits = float(np.max(np.abs(logits - ref_logits)))
        d_features = float(np.max(np.abs(features - ref_features)))
        s_logits = float(np.max(np.abs(ref_logits)))
        s_features = float(np.max(np.abs(ref_features)))
        log.debug("ONNX check, batch of %d: logits %.2e (of %.3g), features %.2e (of %.3g)",
                  n, d_logits, s_logits, d_features, s_features)
        for key, value in (("logits_max_abs_diff", d_logits), ("features_max_abs_diff", d_features),
                           ("logits_scale", s_logits), ("features_scale", s_features)):
            worst[key] = max(worst[key], value)
        allowed_logits = TOLERANCE * max(1.0, s_logits)
        allowed_features = TOLERANCE * max(1.0, s_features)
        # `not <` so that NaN counts as a mismatch.
        if not (d_logits < allowed_logits and d_features < allowed_features):
            raise CheckpointError(
                f"The exported ONNX model does not reproduce the PyTorch model on a batch of {n}: "
                f"the logits differ by up to {d_logits:.3g} (allowed {allowed_logits:.3g}) and "
                f"the features by up to {d_features:.3g} (allowed {allowed_features:.3g}). "
                "Nothing was written; report this with the versions of torch, onnx and "
                "onnxruntime."
            )
    return worst, (int(features.shape[2]), int(features.shape[3]))


def _sidecar(checkpoint: Checkpoint, onnx_file: Path, onnx_sha: str, opset: int,
             check: dict[str, float], feature_shape: tuple[int, int]) -> dict[str, Any]:
    meta = checkpoint.meta
    info: dict[str, Any] = {
        "format": SIDECAR_FORMAT,
        "format_version": SIDECAR_VERSION,
        "onnx_file": onnx_file.name,
        "onnx_sha256": onnx_sha,
        "precision": "fp32",
        "source_checkpoint": checkpoint.path.name if checkpoint.path else None,
        "source_sha256": file_sha256(checkpoint.path) if checkpoint.path else None,
        "source_created": meta.get("created"),
        "exported": datetime.now(UTC).isoformat(timespec="seconds"),
        "opset": opset,
        "input": {"name": INPUT, "shape": ["batch", 3, checkpoint.input_size,
                                           checkpoint.input_size], "dtype": "float32",
                  "normalised": True},
        "outputs": {LOGITS: ["batch", len(checkpoint.classes)],
                    FEATURES: ["batch", 2048, *feature_shape]},
        "temperature": float(meta.get("temperature", 1.0)),
        "check": {**check, "tolerance": TOLERANCE, "tolerance_kind": "relative above 1"},
        "versions": onnx_versions(),
        "training_versions": meta.get("versions"),
    }
    for key in _REQUIRED_META:
        info[key] = meta[key]
    for key in _OPTIONAL_META:
        if key in meta:
            info[key] = meta[key]
    return info


def _model_card(info: dict[str, Any]) -> str:
    size = info["input_size"]
    dataset = info.get("dataset") or "an unrecorded dataset"
    file = info.get("onnx_file") or info.get("torchscript_file")
    how = (f"ONNX opset {info['opset']}" if "opset" in info
           else f"TorchScript (torch {info['versions'].get('torch', '?')})")
    lines = [
        f"# Model card: {file}",
        "",
        f"Exported {info['exported']} from `{info['source_checkpoint']}` "
        f"(sha256 `{info['source_sha256']}`), {how}.",
        "",
        "## What it does",
        "",
        f"Classifies {size} x {size} pixel RGB patches into {len(info['classes'])} classes:",
        "",
        *[f"- `{name}`" for name in info["classes"]],
        "",
        f"Input: a float32 batch N x 3 x {size} x {size}, normalised with mean "
        f"{info['normalization']['mean']} and std {info['normalization']['std']} (on 0..1 "
        "pixel values). Outputs: `logits` (N x classes) and `features` (the layer4 map used for "
        f"the heat map). Probabilities are softmax(logits / {info['temperature']:.4g}) "
        "(calibrated temperature).",
        "",
        "## Training data",
        "",
        f"- Dataset: {dataset}",
        f"- Fingerprint: `{info.get('dataset_fingerprint', 'not recorded')}`",
        "",
        "## Metrics",
        "",
    ]
    metrics = info.get("metrics") or {}
    shown = {k: v for k, v in metrics.items() if k != "history"}
    if shown:
        lines += _metric_lines(shown)
    else:
        lines.append("None recorded in the checkpoint.")
    if info.get("thresholds"):
        lines += ["", f"Decision thresholds: {info['thresholds']}"]
    lines += [
        "",
        "## Limits",
        "",
        f"- Classifies patches of {size} x {size} pixels (larger images are scaled so that their "
        "longest side fits, then padded); it does not locate defects in a whole board by itself.",
        f"- Trained on {dataset}; images from other boards, cameras or lighting may need "
        "retraining or at least a new evaluation.",
        "- Classes outside the list above are forced into one of them.",
        "",
    ]
    return "\n".join(lines)


def _metric_lines(metrics: dict[str, Any], indent: str = "") -> list[str]:
    lines = []
    for key, value in metrics.items():
        if isinstance(value, dict):
            lines.append(f"{indent}- {key}:")
            lines += _metric_lines(value, indent + "  ")
        elif isinstance(value, float):
            lines.append(f"{indent}- {key}: {value:.4f}")
        else:
            lines.append(f"{indent}- {key}: {value}")
    return lines


def export_onnx(checkpoint_path: Path, out_path: Path | None = None, opset: int = 17,
                check_batch: int = 2) -> Path:
    """Export a checkpoint (file or model folder) to ONNX, check it, and return its path.

    Default `out_path`: ``model.onnx`` in the checkpoint's folder. The file is written to a
    temporary name in the same folder and renamed into place only once ONNX Runtime reproduces
    PyTorch within `TOLERANCE` (see there); on a mismatch CheckpointError is raised and nothing
    is left behind. Then ``<file>.json`` (inference metadata) and ``<stem>.md`` (model card) are
    written, atomically.
    """
    import torch

    from inspector.core.training.checkpoint import build_model_from_checkpoint, load_checkpoint

    checkpoint = load_checkpoint(Path(checkpoint_path))
    assert checkpoint.path is not None
    missing = [k for k in _REQUIRED_META if k not in checkpoint.meta]
    if missing:
        raise CheckpointError(f"{checkpoint.path} lacks {', '.join(missing)}: it cannot be "
                              "exported. Retrain it with this version of Inspector.")
    out = Path(out_path) if out_path is not None else checkpoint.path.parent / DEFAULT_NAME
    module = _wrapper(build_model_from_checkpoint(checkpoint))
    size = checkpoint.input_size
    log.info("exporting %s to %s (opset %d, %d px)", checkpoint.path, out, opset, size)

    created = [p for p in (out.parent, *out.parent.parents) if not p.exists()]
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        example = torch.zeros(max(1, check_batch), 3, size, size)
        try:
            with warnings.catch_warnings(), torch.no_grad():
                # The TorchScript-based exporter is deprecated (it still works, and needs
                # only `onnx`); its warnings say so at every call.
                warnings.simplefilter("ignore", DeprecationWarning)
                warnings.simplefilter("ignore", torch.jit.TracerWarning)
                torch.onnx.export(
                    module, (example,), str(tmp), dynamo=False, opset_version=opset,
                    input_names=[INPUT], output_names=[LOGITS, FEATURES],
                    dynamic_axes={INPUT: {0: "batch"}, LOGITS: {0: "batch"},
                                  FEATURES: {0: "batch"}},
                    do_constant_folding=True,
                )
        except OSError as exc:
            reason = "the disk is full" if exc.errno == 28 else (exc.strerror or str(exc))
            raise CheckpointError(f"Could not write {out}: {reason}.") from None
        except Exception as exc:  # the exporter raises many kinds; the user needs the message
            raise CheckpointError(
                f"{checkpoint.path} could not be exported to ONNX (opset {opset}): {exc}"
            ) from None
        check, feature_shape = _check(tmp, module, size, check_batch)
        onnx_sha = file_sha256(tmp)
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        tmp.replace(out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        for folder in created:  # innermost first: leave no folder this call made
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    log.info("ONNX model checked (logits within %.1e, features within %.1e) and written: %s",
             check["logits_max_abs_diff"], check["features_max_abs_diff"], out)

    info = _sidecar(checkpoint, out, onnx_sha, opset, check, feature_shape)
    try:
        atomic_write_json(sidecar_path(out), info)
        atomic_write_text(out.with_suffix(".md"), _model_card(info))
    except OSError as exc:
        reason = "the disk is full" if exc.errno == 28 else (exc.strerror or str(exc))
        with contextlib.suppress(OSError):
            out.unlink()
        raise CheckpointError(f"Could not write the metadata of {out}: {reason}.") from None
    return out


def export_torchscript(checkpoint_path: Path, out_path: Path | None = None,
                       check_batch: int = 2) -> Path:
    """Export a checkpoint to TorchScript (traced; outputs logits and layer4 features, any
    batch size), check the saved file against PyTorch on the same inputs, then write it with a
    JSON sidecar and a model card. Nothing is left behind on a mismatch (CheckpointError).

    Inspector itself never loads TorchScript files (they carry code); this is for other
    programs (C++ with libtorch, a line controller's own runtime).
    """
    import numpy as np
    import torch

    from inspector.core.training.checkpoint import (
        build_model_from_checkpoint,
        library_versions,
        load_checkpoint,
    )

    checkpoint = load_checkpoint(Path(checkpoint_path))
    assert checkpoint.path is not None
    out = (Path(out_path) if out_path is not None
           else checkpoint.path.parent / TORCHSCRIPT_NAME)
    module = _wrapper(build_model_from_checkpoint(checkpoint))
    size = checkpoint.input_size
    generator = torch.Generator().manual_seed(0)
    checks = [torch.randn(n, 3, size, size, generator=generator)
              for n in dict.fromkeys((max(1, check_batch), 1))]
    worst = {"logits_max_abs_diff": 0.0, "features_max_abs_diff": 0.0}
    with atomic_path(out) as tmp:
        try:
            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter("ignore", torch.jit.TracerWarning)
                # torch 2.14 calls TorchScript deprecated (torch.export is its successor) but
                # it is still what libtorch programs load; the warning would repeat per call
                warnings.simplefilter("ignore", FutureWarning)
                traced = torch.jit.trace(module, checks[0], check_trace=False)
                traced.save(str(tmp))
                loaded = torch.jit.load(str(tmp), map_location="cpu")
        except OSError as exc:
            reason = "the disk is full" if exc.errno == 28 else (exc.strerror or str(exc))
            raise CheckpointError(f"Could not write {out}: {reason}.") from None
        except Exception as exc:  # tracing raises many kinds
            raise CheckpointError(f"{checkpoint.path} could not be exported to TorchScript: "
                                  f"{exc}") from None
        for x in checks:
            ref_logits, ref_features = _reference_outputs(module, x)
            with torch.no_grad():
                logits, features = (t.numpy() for t in loaded(x))
            if logits.shape != ref_logits.shape or features.shape != ref_features.shape:
                raise CheckpointError(f"The TorchScript model gives shapes {logits.shape}, "
                                      f"{features.shape} for a batch of {len(x)}; PyTorch gives "
                                      f"{ref_logits.shape}, {ref_features.shape}.")
            d_logits = float(np.max(np.abs(logits - ref_logits)))
            d_features = float(np.max(np.abs(features - ref_features)))
            worst["logits_max_abs_diff"] = max(worst["logits_max_abs_diff"], d_logits)
            worst["features_max_abs_diff"] = max(worst["features_max_abs_diff"], d_features)
            if not (d_logits < TOLERANCE * max(1.0, float(np.abs(ref_logits).max()))
                    and d_features < TOLERANCE * max(1.0, float(np.abs(ref_features).max()))):
                raise CheckpointError(f"The TorchScript model does not reproduce PyTorch on a "
                                      f"batch of {len(x)} (logits differ by {d_logits:.3g}, "
                                      f"features by {d_features:.3g}). Nothing was written.")
        sha = file_sha256(tmp)
    meta = checkpoint.meta
    info: dict[str, Any] = {
        "format": "inspector-torchscript", "format_version": 1,
        "torchscript_file": out.name, "torchscript_sha256": sha,
        "source_checkpoint": checkpoint.path.name, "source_sha256": file_sha256(checkpoint.path),
        "exported": datetime.now(UTC).isoformat(timespec="seconds"),
        "outputs": ["logits", "features"], "temperature": float(meta.get("temperature", 1.0)),
        "check": {**worst, "tolerance": TOLERANCE}, "versions": library_versions(),
    }
    for key in _REQUIRED_META:
        info[key] = meta[key]
    for key in _OPTIONAL_META:
        if key in meta:
            info[key] = meta[key]
    try:
        atomic_write_json(out.with_suffix(".json"), info)
        atomic_write_text(out.with_suffix(".md"), _model_card(info))
    except OSError as exc:
        with contextlib.suppress(OSError):
            out.unlink()
        raise CheckpointError(f"Could not write the metadata of {out}: "
                              f"{exc.strerror or exc}.") from None
    log.info("TorchScript model checked (logits within %.1e) and written: %s",
             worst["logits_max_abs_diff"], out)
    return out
