"""Synthetic PCB images: defect patches for classification, whole boards with true boxes.

    from inspector.core.data.synthetic import SyntheticPCB, generate_patch_dataset

    gen = SyntheticPCB(seed=7, style="photo")   # or "scan": binarised, like DeepPCB
    patch = gen.patch("spur", size=128, index=0)  # 128x128x3 uint8 RGB, defect near the centre
    frame = gen.board(640, 480, n_defects=3)     # frame.image, frame.boxes (DefectBox)
    generate_patch_dataset(Path("datasets/demo"), per_class=60, seed=7)

The output depends only on the seed, the style, the arguments and the index. Importing this
package is cheap (numpy only); OpenCV is imported when the generator is first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from inspector.core.data.synthetic.common import (
    DEFECT_CLASSES,
    PATCH_CLASSES,
    STYLES,
    BoardFrame,
    DefectBox,
    Style,
)

if TYPE_CHECKING:
    from inspector.core.data.synthetic.dataset import generate_patch_dataset
    from inspector.core.data.synthetic.generator import SyntheticPCB

__all__ = [
    "DEFECT_CLASSES",
    "PATCH_CLASSES",
    "STYLES",
    "BoardFrame",
    "DefectBox",
    "Style",
    "SyntheticPCB",
    "generate_patch_dataset",
]


def __getattr__(name: str) -> Any:
    # The generator needs OpenCV; load it on first use, not when the class names are imported.
    if name == "SyntheticPCB":
        from inspector.core.data.synthetic.generator import SyntheticPCB

        return SyntheticPCB
    if name == "generate_patch_dataset":
        from inspector.core.data.synthetic.dataset import generate_patch_dataset

        return generate_patch_dataset
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
