"""Plain-text summaries of core reports for the terminal."""

from __future__ import annotations

import math

from inspector.core.data.split import SPLITS
from inspector.core.data.stats import UNASSIGNED, DatasetStats
from inspector.core.data.validation import ValidationReport


def print_validation(report: ValidationReport, limit: int | None = 20) -> None:
    total = sum(report.counts.values())
    print(f"Checked {report.images_checked} images in {len(report.counts)} classes "
          f"({total} usable) in {report.root}")
    if report.stopped:
        print("Stopped before the end: the report is partial.")
    if not report.issues:
        print("No problems found.")
        return
    print(f"{len(report.errors)} errors, {len(report.warnings)} warnings:")
    for kind, issues in report.by_kind().items():
        print(f"\n  {kind.value} ({len(issues)}):")
        shown = issues if limit is None else issues[:limit]
        for issue in shown:
            print(f"    - {issue.message}")
        if len(shown) < len(issues):
            print(f"    ... and {len(issues) - len(shown)} more (--all shows every one)")


def print_stats(stats: DatasetStats) -> None:
    columns = [*SPLITS]
    if stats.split_totals[UNASSIGNED]:
        columns.append(UNASSIGNED)
    width = max([len("class"), *(len(c) for c in stats.classes)]) + 2
    header = "class".ljust(width) + "".join(c.rjust(11) for c in [*columns, "total"])
    print(header)
    print("-" * len(header))
    for label in stats.classes:
        row = stats.counts[label]
        cells = [row[c] for c in columns] + [stats.class_totals[label]]
        print(label.ljust(width) + "".join(str(v).rjust(11) for v in cells))
    print("-" * len(header))
    totals = stats.split_totals
    print("all".ljust(width) + "".join(str(v).rjust(11)
                                      for v in [*(totals[c] for c in columns), stats.total]))
    ratio = stats.imbalance_ratio
    ratio_text = "n/a (an empty class)" if math.isinf(ratio) else f"{ratio:.2f}:1"
    s = stats.sizes
    print(f"\nimages: {stats.total}, {stats.total_bytes / 1e6:.1f} MB; imbalance {ratio_text}")
    if stats.total:
        common = ", ".join(f"{w}x{h} ({n})" for (w, h), n in s.common)
        print(f"sizes: width {s.min_width}-{s.max_width} (median {s.median_width:g}), "
              f"height {s.min_height}-{s.max_height} (median {s.median_height:g}); "
              f"most common {common}")
    if stats.unreadable:
        print(f"{stats.unreadable} unreadable files are not counted: "
              "run `inspector dataset check`.")
