"""Inference speed: PyTorch eager fp32 vs ONNX Runtime fp32 vs ONNX Runtime INT8, batch 1.

One run measures, at 224 x 224 and batch 1 on the CPU, ms per frame and frames/s of:

- torch eager fp32 ``forward_with_features`` (the reference: eval, no_grad,
  ``torch.set_num_threads(os.cpu_count())``),
- ONNX Runtime fp32 (the model from ``export_onnx``) with the settings ``OnnxModel`` uses, and
  the alternatives tried (graph optimisation level, intra-op threads, parallel execution mode,
  IO binding),
- ONNX Runtime INT8 (the model from ``quantize_int8``) and the alternatives tried (QOperator
  instead of QDQ, per-tensor weights, full-range weights).

Targets: ONNX fp32 >= 1.7x torch eager; INT8 >= 2.5x ONNX fp32.

The model is a random-weight ResNet-50 + CBAM with 8 classes whose BatchNorm statistics are set
from synthetic PCB patches (so activations have trained-like ranges for calibration); speed does
not depend on the weights' values. Calibration uses synthetic patches too.

    python bench/bench_onnx.py [--size 224] [--rounds 4] [--seconds 0.6] [--calibration 32]
                               [--no-variants]
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import functools
import io
import logging
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from inspector.config import ModelConfig
from inspector.core.data.synthetic import SyntheticPCB
from inspector.core.data.synthetic.generator import PATCH_CLASSES
from inspector.core.inference.export import export_onnx
from inspector.core.inference.onnx_backend import FEATURES, INPUT, LOGITS, OnnxModel
from inspector.core.inference.quantize import quantize_int8
from inspector.core.models import IMAGENET_MEAN, IMAGENET_STD, build_model
from inspector.core.training.checkpoint import new_meta, save_checkpoint

TARGET_ONNX = 1.7
TARGET_INT8 = 2.5
CLASSES = [f"class{i}" for i in range(8)]
TORCH = "torch eager fp32 (reference)"
ONNX = "ORT fp32 (OnnxModel: ENABLE_ALL, sequential, all cores)"
INT8 = "ORT INT8 (quantize_int8: QDQ, per-channel, reduce_range)"
TORCH_1 = "torch eager fp32, 1 thread"
ONNX_1 = "ORT fp32, 1 intra-op thread"
INT8_1 = "ORT INT8, 1 intra-op thread"


def measure(steps: dict[str, Callable[[], object]], rounds: int, seconds: float,
            warmup: int = 2) -> dict[str, float]:
    """Median milliseconds per call of every step, measured interleaved: `rounds` rounds, in each
    of which every step runs for about `seconds` (at least twice). Interleaving spreads the
    disturbance of other processes on a shared machine over all steps alike."""
    times: dict[str, list[float]] = {name: [] for name in steps}
    for step in steps.values():
        for _ in range(warmup):
            step()
    for _ in range(rounds):
        for name, step in steps.items():
            end = time.perf_counter() + seconds
            runs = 0
            while runs < 2 or time.perf_counter() < end:
                tick = time.perf_counter()
                step()
                times[name].append(time.perf_counter() - tick)
                runs += 1
    return {name: statistics.median(t) * 1000.0 for name, t in times.items()}


def patches(size: int, n: int, first: int = 0) -> np.ndarray:
    """`n` synthetic patches, normalised float32 NCHW (the evaluation's preprocessing)."""
    generator = SyntheticPCB(seed=0)
    images = np.stack([generator.patch(PATCH_CLASSES[i % len(PATCH_CLASSES)], size, i)
                       for i in range(first, first + n)]).transpose(0, 3, 1, 2)
    mean = np.asarray(IMAGENET_MEAN, np.float32).reshape(1, 3, 1, 1) * 255.0
    std = np.asarray(IMAGENET_STD, np.float32).reshape(1, 3, 1, 1) * 255.0
    return np.ascontiguousarray((images.astype(np.float32) - mean) / std, np.float32)


def make_checkpoint(folder: Path, size: int) -> tuple[Path, torch.nn.Module]:
    torch.manual_seed(0)
    config = ModelConfig(input_size=size, pretrained=False)
    model = build_model(config, len(CLASSES))
    with torch.no_grad():  # CBAM gates away from their identity start, as after training
        for name, param in model.named_parameters():
            if "cbam" in name and ("fc2" in name or "spatial" in name):
                param.normal_(0.0, 0.02)
    # BatchNorm statistics from data (cumulative average over a few batches).
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.reset_running_stats()
            module.momentum = None
    model.train()
    with torch.no_grad():
        for first in range(0, 32, 8):
            model(torch.from_numpy(patches(size, 8, 1000 + first)))
    model.eval()
    path = folder / "best.safetensors"
    meta = new_meta(architecture="resnet50_cbam", classes=CLASSES, input_size=size,
                    normalization={"mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD)},
                    model_config=config.model_dump(mode="json"), temperature=1.0,
                    dataset="random weights (benchmark)")
    save_checkpoint(path, meta, model.state_dict())
    return path, model


def ort_session(path: Path, level: str = "all", threads: int | None = None,
                parallel: bool = False):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = {
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
        "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "none": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    }[level]
    options.intra_op_num_threads = threads or (os.cpu_count() or 1)
    options.execution_mode = (ort.ExecutionMode.ORT_PARALLEL if parallel
                              else ort.ExecutionMode.ORT_SEQUENTIAL)
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def session_step(session, x: np.ndarray) -> Callable[[], object]:
    return lambda: session.run([LOGITS, FEATURES], {INPUT: x})


def iobinding_step(session, x: np.ndarray) -> Callable[[], object]:
    import onnxruntime as ort

    binding = session.io_binding()
    binding.bind_ortvalue_input(INPUT, ort.OrtValue.ortvalue_from_numpy(x))
    binding.bind_output(LOGITS)
    binding.bind_output(FEATURES)

    def step() -> object:
        session.run_with_iobinding(binding)
        return binding.get_outputs()

    return step


def int8_variants(fp32_path: Path, out_dir: Path, calibration: list[np.ndarray],
                  ) -> dict[str, Path]:
    """The alternatives to quantize_int8's settings, quantised with the same calibration ranges
    (collected once, then read from a cache)."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from inspector.core.inference.quantize import _head_nodes, _Reader

    pre = out_dir / "pre.onnx"
    quant_pre_process(str(fp32_path), str(pre))
    cache = out_dir / "calibration.json"
    heavy = ["Conv", "Add", "Relu", "MaxPool", "GlobalAveragePool"]
    u8, s8 = QuantType.QUInt8, QuantType.QInt8
    variants = [  # name, format, per-channel, reduce_range, op types, activations, weights
        ("INT8 QOperator, per-channel, reduce_range", QuantFormat.QOperator, True, True, None,
         u8, s8),
        ("INT8 QDQ, per-tensor, reduce_range", QuantFormat.QDQ, False, True, None, u8, s8),
        ("INT8 QDQ, per-channel, full range", QuantFormat.QDQ, True, False, None, u8, s8),
        ("INT8 QDQ, per-channel, reduce_range, CBAM in fp32", QuantFormat.QDQ, True, True, heavy,
         u8, s8),
        ("INT8 QDQ, per-channel, S8 activations (S8S8)", QuantFormat.QDQ, True, False, None,
         s8, s8),
        ("INT8 QDQ, per-channel, U8 weights (U8U8)", QuantFormat.QDQ, True, False, None, u8, u8),
    ]
    paths = {}
    for i, (name, fmt, per_channel, reduce_range, op_types, act, weight) in enumerate(variants):
        out = out_dir / f"variant-{i}.onnx"
        tick = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # it prints the cached ranges' types
            quantize_static(
                str(pre), str(out), _Reader(calibration, None), quant_format=fmt,
                per_channel=per_channel, reduce_range=reduce_range,
                activation_type=act, weight_type=weight,
                calibrate_method=CalibrationMethod.MinMax, op_types_to_quantize=op_types,
                nodes_to_exclude=_head_nodes(pre), extra_options={"CalibStridedMinMax": 1},
                calibration_cache_path=str(cache),
            )
        print(f"quantised '{name}' in {time.perf_counter() - tick:.0f} s", flush=True)
        paths[name] = out
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds")
    parser.add_argument("--seconds", type=float, default=0.5,
                        help="time per step and round")
    parser.add_argument("--calibration", type=int, default=32, help="calibration images")
    parser.add_argument("--no-variants", action="store_true",
                        help="measure the chosen settings only")
    args = parser.parse_args()
    # onnxruntime.quantization logs through the root logger, with multi-line protobuf dumps for
    # the shape tensors it leaves in float: harmless, and not what this prints.
    logging.basicConfig(level=logging.ERROR)
    import onnxruntime as ort

    cores = os.cpu_count() or 1
    torch.set_num_threads(cores)
    print(f"torch {torch.__version__}, onnxruntime {ort.__version__}, {cores} cores, "
          f"load average {os.getloadavg()[0]:.1f}, input {args.size}x{args.size}, batch 1",
          flush=True)
    started = time.perf_counter()
    variants = not args.no_variants
    with tempfile.TemporaryDirectory(prefix="bench-onnx-") as tmp_name:
        tmp = Path(tmp_name)
        checkpoint, model = make_checkpoint(tmp, args.size)
        tick = time.perf_counter()
        fp32_path = export_onnx(checkpoint, tmp / "model.onnx")
        print(f"exported and checked in {time.perf_counter() - tick:.1f} s", flush=True)
        x = patches(args.size, 1, 5000)
        xt = torch.from_numpy(x)

        calibration = [patches(args.size, min(8, args.calibration - i), i)
                       for i in range(0, args.calibration, 8)]
        tick = time.perf_counter()
        # A random-weight network amplifies quantisation noise through its 16 blocks far more
        # than a trained one (a DeepPCB model: features correlation 0.985), so the heat-map
        # check is reported here, not enforced: this measures speed.
        report = quantize_int8(fp32_path, calibration, min_correlation=0.0)
        print(f"quantised in {time.perf_counter() - tick:.0f} s: top-1 agreement with fp32 "
              f"{report.agreement:.3f}, features correlation {report.features_correlation:.3f} "
              f"on {report.check_images} calibration images (random weights)", flush=True)
        int8_variant_paths = int8_variants(fp32_path, tmp, calibration) if variants else {}

        onnx_fp32 = OnnxModel(fp32_path)
        onnx_int8 = OnnxModel(Path(report.path))
        no_grad = torch.no_grad()
        no_grad.__enter__()
        def torch_one_thread() -> object:
            torch.set_num_threads(1)
            try:
                return model.forward_with_features(xt)
            finally:
                torch.set_num_threads(cores)

        steps: dict[str, Callable[[], object]] = {
            TORCH: lambda: model.forward_with_features(xt),
            ONNX: lambda: onnx_fp32.run(x),
            INT8: lambda: onnx_int8.run(x),
            TORCH_1: torch_one_thread,
            ONNX_1: OnnxModel(fp32_path, threads=1).run,
            INT8_1: OnnxModel(Path(report.path), threads=1).run,
        }
        steps[ONNX_1] = functools.partial(steps[ONNX_1], x)
        steps[INT8_1] = functools.partial(steps[INT8_1], x)
        if variants:
            model_cl = copy.deepcopy(model).to(memory_format=torch.channels_last)
            xcl = xt.contiguous(memory_format=torch.channels_last)
            steps["torch eager fp32, channels_last"] = lambda: model_cl.forward_with_features(xcl)
            for name, kwargs in [
                ("ORT fp32, ENABLE_EXTENDED", {"level": "extended"}),
                ("ORT fp32, ENABLE_BASIC", {"level": "basic"}),
                ("ORT fp32, optimisation disabled", {"level": "none"}),
                ("ORT fp32, parallel execution mode", {"parallel": True}),
            ]:
                steps[name] = session_step(ort_session(fp32_path, **kwargs), x)
            steps["ORT fp32, IO binding"] = iobinding_step(ort_session(fp32_path), x)
            steps["ORT INT8, IO binding"] = iobinding_step(ort_session(Path(report.path)), x)
            for name, path in int8_variant_paths.items():
                steps[name] = session_step(ort_session(path), x)
        print(f"timing {len(steps)} configurations, {args.rounds} interleaved rounds", flush=True)
        ms = measure(steps, args.rounds, args.seconds)
        no_grad.__exit__(None, None, None)

    print()
    print(f"{'batch 1, ' + str(args.size) + ' px':56s} {'ms/frame':>9s} {'frames/s':>9s}")
    for name, value in ms.items():
        print(f"{name:56s} {value:9.2f} {1000.0 / value:9.2f}")
    for label, (t, o, i) in {f"all {cores} cores": (TORCH, ONNX, INT8),
                             "1 thread each": (TORCH_1, ONNX_1, INT8_1)}.items():
        onnx_ratio = ms[t] / ms[o]
        int8_ratio = ms[o] / ms[i]
        print()
        print(f"{label}:")
        print(f"  ORT fp32 vs torch eager: {onnx_ratio:5.2f}x (target >= {TARGET_ONNX}x: "
              f"{'met' if onnx_ratio >= TARGET_ONNX else 'NOT met'})")
        print(f"  ORT INT8 vs ORT fp32:    {int8_ratio:5.2f}x (target >= {TARGET_INT8}x: "
              f"{'met' if int8_ratio >= TARGET_INT8 else 'NOT met'})")
        print(f"  ORT INT8 vs torch eager: {ms[t] / ms[i]:5.2f}x")
    if "torch eager fp32, channels_last" in ms:
        print(f"ORT fp32 vs torch eager channels_last (all cores): "
              f"{ms['torch eager fp32, channels_last'] / ms[ONNX]:.2f}x")
    print(f"load average at the end {os.getloadavg()[0]:.1f} on {cores} cores; "
          f"whole run {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
