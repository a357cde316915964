"""ONNX Runtime back end: an exported model file in, (logits, layer4 features) out.

An exported model is two files: the ONNX graph (``model.onnx``, or ``model.int8.onnx`` once
quantised) and its metadata ``<file>.json`` beside it (:func:`sidecar_path`), which records the
classes, input size, normalisation and temperature, and the sha256 of the ONNX file it
describes. :class:`OnnxModel` refuses a file whose bytes do not match that checksum, so a
damaged file, or a metadata file of another model, is caught when it is loaded.

The weights of the linear head (``fc_weight``, ``fc_bias``), which the Grad-CAM needs, are read
from the graph itself: the node that produces ``logits``.

onnx and onnxruntime are imported inside the functions (DESIGN rule 6).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from inspector.core.errors import CheckpointError

if TYPE_CHECKING:
    import onnx

log = logging.getLogger(__name__)

INPUT = "input"
LOGITS = "logits"
FEATURES = "features"
SIDECAR_FORMAT = "inspector-onnx"
SIDECAR_VERSION = 1

__all__ = ["FEATURES", "INPUT", "LOGITS", "OnnxModel", "read_sidecar", "sidecar_path"]


def sidecar_path(onnx_path: Path) -> Path:
    """The metadata file of an ONNX model: ``model.onnx`` -> ``model.onnx.json``."""
    onnx_path = Path(onnx_path)
    return onnx_path.with_name(onnx_path.name + ".json")


def read_sidecar(onnx_path: Path) -> dict[str, Any]:
    """The metadata beside an ONNX file, validated; CheckpointError if missing or damaged."""
    path = sidecar_path(onnx_path)
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckpointError(
            f"{onnx_path} has no metadata file ({path.name}) beside it, so its classes and "
            "preprocessing are unknown. Export the model again (inspector export)."
        ) from None
    except OSError as exc:
        raise CheckpointError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path} is damaged ({exc}). Export the model again.") from None
    problem = _sidecar_problem(info)
    if problem:
        raise CheckpointError(f"{path} is not usable model metadata: {problem}. "
                              "Export the model again.")
    if info["format_version"] > SIDECAR_VERSION:
        raise CheckpointError(
            f"{path} was written by a newer Inspector (format {info['format_version']}); this "
            f"one reads up to format {SIDECAR_VERSION}. Update Inspector to use it."
        )
    return info


def _sidecar_problem(info: Any) -> str | None:
    if not isinstance(info, dict) or info.get("format") != SIDECAR_FORMAT:
        return "it is not an Inspector ONNX metadata file"
    if not isinstance(info.get("format_version"), int):
        return "no format version"
    classes = info.get("classes")
    if (not isinstance(classes, list) or len(classes) < 2
            or not all(isinstance(c, str) for c in classes)):
        return "the class list is missing or has fewer than two classes"
    size = info.get("input_size")
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        return "the input size is missing"
    norm = info.get("normalization")
    if not isinstance(norm, dict) or not all(
        isinstance(norm.get(k), list) and len(norm[k]) == 3
        and all(isinstance(v, int | float) for v in norm[k]) for k in ("mean", "std")
    ) or not all(v > 0 for v in norm["std"]):
        return "the normalisation is missing"
    temperature = info.get("temperature", 1.0)
    if isinstance(temperature, bool) or not isinstance(temperature, int | float) or not (
        temperature > 0
    ):
        return "the temperature is not a positive number"
    if not isinstance(info.get("onnx_sha256"), str):
        return "the checksum of the model file is missing"
    return None


def _providers() -> list[str]:
    import onnxruntime as ort

    available = ort.get_available_providers()
    return [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]


class OnnxModel:
    """An exported model in an ONNX Runtime session.

    ``run(batch)`` takes a normalised float32 NCHW batch (as the evaluation preprocesses it)
    and returns ``(logits (N, C), features (N, 2048, h, w))``. `threads` sets the intra-op
    threads (default: every core). The CUDA execution provider is used when onnxruntime has it.
    """

    def __init__(self, onnx_path: Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        self.path = Path(onnx_path)
        self.info = read_sidecar(self.path)
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            raise CheckpointError(f"The model file {self.path} does not exist.") from None
        except OSError as exc:
            raise CheckpointError(f"Cannot read {self.path}: {exc.strerror or exc}.") from None
        if hashlib.sha256(data).hexdigest() != self.info["onnx_sha256"]:
            raise CheckpointError(
                f"{self.path} does not match its metadata {sidecar_path(self.path).name}: the "
                "model file was changed or damaged, or the metadata belongs to another model. "
                "Export the model again."
            )
        self.classes: list[str] = list(self.info["classes"])
        self.input_size: int = int(self.info["input_size"])
        self.normalization: dict[str, list[float]] = {
            "mean": [float(v) for v in self.info["normalization"]["mean"]],
            "std": [float(v) for v in self.info["normalization"]["std"]],
        }
        self.temperature: float = float(self.info.get("temperature", 1.0))
        self.precision: str = str(self.info.get("precision", "fp32"))
        self.threads = threads if threads is not None else (os.cpu_count() or 1)

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: ORT warns about harmless things
        try:
            self.session = ort.InferenceSession(data, options, providers=_providers())
        except Exception as exc:  # onnxruntime's own exception types
            raise CheckpointError(f"ONNX Runtime cannot load {self.path}: {exc}") from None
        self.providers: list[str] = self.session.get_providers()
        self._check_signature()
        self.fc_weight, self.fc_bias = _head_weights(_load_proto(data, self.path))
        if self.fc_weight.shape != (len(self.classes), self.feature_shape[0]):
            raise CheckpointError(f"{self.path}: the head's weights have the shape "
                                  f"{self.fc_weight.shape}, not (classes, channels).")
        log.info("loaded %s (%s, %s, %d threads)", self.path, self.precision,
                 ", ".join(self.providers), self.threads)

    def _check_signature(self) -> None:
        inputs = self.session.get_inputs()
        outputs = {o.name: o.shape for o in self.session.get_outputs()}
        size = self.input_size
        if (len(inputs) != 1 or inputs[0].name != INPUT
                or list(inputs[0].shape[1:]) != [3, size, size]):
            raise CheckpointError(
                f"{self.path} does not take a N x 3 x {size} x {size} batch named {INPUT!r} as "
                "its metadata says. Export the model again."
            )
        if (set(outputs) != {LOGITS, FEATURES} or list(outputs[LOGITS][1:]) != [len(self.classes)]
                or len(outputs[FEATURES]) != 4
                or not all(isinstance(d, int) for d in outputs[FEATURES][1:])):
            raise CheckpointError(
                f"{self.path} does not give the outputs {LOGITS!r} ({len(self.classes)} classes) "
                f"and {FEATURES!r}. Export the model again."
            )
        self.feature_shape: tuple[int, int, int] = tuple(outputs[FEATURES][1:])  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"OnnxModel({str(self.path)!r}, {self.precision}, classes={self.classes})"

    def run(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Normalised float32 NCHW batch -> (logits (N, C), features (N, 2048, h, w))."""
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        size = self.input_size
        if batch.ndim != 4 or batch.shape[1:] != (3, size, size):
            raise ValueError(f"expected a N x 3 x {size} x {size} batch, got {batch.shape}")
        if len(batch) == 0:
            return (np.zeros((0, len(self.classes)), np.float32),
                    np.zeros((0, *self.feature_shape), np.float32))
        logits, features = self.session.run([LOGITS, FEATURES], {INPUT: batch})
        return logits, features


def _load_proto(data: bytes, path: Path) -> onnx.ModelProto:
    import onnx

    try:
        return onnx.load_model_from_string(data)
    except Exception as exc:  # protobuf's DecodeError and others
        raise CheckpointError(f"{path} is not a readable ONNX file ({exc}).") from None


def _head_weights(model: onnx.ModelProto) -> tuple[np.ndarray, np.ndarray]:
    """(weight (C, F), bias (C,)) of the linear layer that produces the logits.

    Works on the exported graph (Gemm) and on a quantised one (the weight may come through a
    DequantizeLinear, the output through a QuantizeLinear/DequantizeLinear pair).
    """
    from onnx import numpy_helper

    graph = model.graph
    initializers = {t.name: t for t in graph.initializer}
    producers = {out: node for node in graph.node for out in node.output}

    def constant(name: str) -> np.ndarray:
        if name in initializers:
            return numpy_helper.to_array(initializers[name]).astype(np.float32)
        node = producers.get(name)
        if node is not None and node.op_type == "Constant":
            return numpy_helper.to_array(node.attribute[0].t).astype(np.float32)
        if node is not None and node.op_type == "DequantizeLinear":
            x = constant(node.input[0])
            scale = constant(node.input[1])
            zero = constant(node.input[2]) if len(node.input) > 2 and node.input[2] else 0.0
            axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
            if np.ndim(scale) == 1 and x.ndim > 1:
                shape = [1] * x.ndim
                shape[axis] = -1
                scale = scale.reshape(shape)
                zero = np.reshape(zero, shape) if np.ndim(zero) == 1 else zero
            return ((x - zero) * scale).astype(np.float32)
        raise CheckpointError(f"the head's weight {name!r} is not a constant of the graph")

    node = producers.get(LOGITS)
    while node is not None and node.op_type in ("DequantizeLinear", "QuantizeLinear", "Identity"):
        node = producers.get(node.input[0])
    if node is None:
        raise CheckpointError("the ONNX graph has no node producing the logits")
    attrs = {a.name: a for a in node.attribute}
    if node.op_type == "Gemm":
        if attrs.get("transA") is not None and attrs["transA"].i:
            raise CheckpointError("the ONNX head (Gemm with transA) is not a plain linear layer")
        weight = constant(node.input[1])
        if not (attrs.get("transB") is not None and attrs["transB"].i):
            weight = weight.T
        alpha = attrs["alpha"].f if "alpha" in attrs else 1.0
        beta = attrs["beta"].f if "beta" in attrs else 1.0
        bias = (constant(node.input[2]) * beta if len(node.input) > 2 and node.input[2]
                else np.zeros(weight.shape[0], np.float32))
        return np.ascontiguousarray(weight * alpha, np.float32), bias.reshape(-1)
    if node.op_type == "Add":
        names = list(node.input)
        matmul = next((producers[n] for n in names
                       if n in producers and producers[n].op_type == "MatMul"), None)
        if matmul is not None:
            bias_name = next(n for n in names if n != matmul.output[0])
            weight = constant(matmul.input[1]).T
            return np.ascontiguousarray(weight, np.float32), constant(bias_name).reshape(-1)
    raise CheckpointError(f"the ONNX head ({node.op_type}) is not a linear layer Inspector reads")
