"""The operation journal of a dataset: crash recovery and undo for file moves.

An operation is a list of (source, destination) moves, relative to the dataset root. Its record
is written "pending" before the first move and "done" after the last, each write atomic. A
process killed in between leaves a pending record, and `recover()` rolls it forward: moves
already made are recognised (source gone, destination present) and the rest are made.
Undo is itself an operation: the reverse moves, journalled the same way.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from inspector.core.atomic import atomic_write_json
from inspector.core.errors import DatasetError

log = logging.getLogger(__name__)

Move = tuple[str, str]


@dataclass(frozen=True)
class Operation:
    seq: int
    kind: str
    description: str
    moves: tuple[Move, ...]
    state: str  # pending | done | failed
    time: float
    undone: bool = False
    undoes: int | None = None


class Journal:
    def __init__(self, root: Path, folder: Path) -> None:
        self.root = root
        self.folder = folder

    def _path(self, seq: int) -> Path:
        return self.folder / f"{seq:08d}.json"

    def _files(self) -> list[Path]:
        return sorted(self.folder.glob("*.json")) if self.folder.is_dir() else []

    def next_seq(self) -> int:
        files = self._files()
        return int(files[-1].stem) + 1 if files else 1

    def _read(self, path: Path) -> Operation | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return Operation(int(data["seq"]), data["kind"], data["description"],
                             tuple((str(s), str(d)) for s, d in data["moves"]), data["state"],
                             float(data["time"]), bool(data.get("undone", False)),
                             data.get("undoes"))
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("skipping a damaged journal record %s", path)
            return None

    def history(self) -> list[Operation]:
        return [op for op in map(self._read, self._files()) if op is not None]

    def _write(self, op: Operation) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        record = {"seq": op.seq, "kind": op.kind, "description": op.description,
                  "moves": [list(m) for m in op.moves], "state": op.state, "time": op.time,
                  "undone": op.undone, "undoes": op.undoes}
        atomic_write_json(self._path(op.seq), record)

    def record(self, kind: str, description: str, moves: Sequence[Move],
               seq: int | None = None) -> Operation:
        """Record an operation already carried out (e.g. copies), so that undo can revert it.

        Its moves are the ones undo makes.
        """
        op = Operation(seq or self.next_seq(), kind, description, tuple(moves), "done",
                       time.time())
        self._write(op)
        return op

    def run(self, kind: str, description: str, moves: Sequence[Move], seq: int | None = None,
            undoes: int | None = None) -> Operation:
        """Journal, move, mark done. Undo of it makes the reverse moves."""
        op = Operation(seq or self.next_seq(), kind, description, tuple(moves), "pending",
                       time.time(), undoes=undoes)
        self._write(op)
        self._apply(op.moves)
        done = Operation(op.seq, kind, description, op.moves, "done", op.time, undoes=undoes)
        self._write(done)
        return done

    def _apply(self, moves: Sequence[Move]) -> None:
        for src_rel, dst_rel in moves:
            src, dst = self.root / src_rel, self.root / dst_rel
            if not src.exists() and not src.is_symlink():
                if dst.exists():
                    continue  # made before a crash: rolling forward
                raise DatasetError(f"{src} has disappeared; the operation cannot finish.")
            if dst.exists():
                raise DatasetError(f"{dst} already exists; nothing was overwritten.")
            dst.parent.mkdir(parents=True, exist_ok=True)
            src.replace(dst)

    def _mark_undone(self, seq: int) -> None:
        op = self._read(self._path(seq))
        if op is not None:
            self._write(Operation(op.seq, op.kind, op.description, op.moves, op.state, op.time,
                                  True, op.undoes))

    def recover(self) -> int:
        """Finish operations a killed process left pending; returns how many were pending."""
        pending = [op for op in self.history() if op.state == "pending"]
        for op in pending:
            log.warning("finishing the interrupted operation: %s", op.description)
            state = "done"
            try:
                self._apply(op.moves)
            except DatasetError as exc:
                log.error("could not finish '%s': %s", op.description, exc)
                state = "failed"
            self._write(Operation(op.seq, op.kind, op.description, op.moves, state, op.time,
                                  op.undone, op.undoes))
            if state == "done" and op.undoes is not None:
                self._mark_undone(op.undoes)
        return len(pending)

    def undo(self) -> Operation | None:
        """Revert the latest operation not yet undone; returns it, or None if there is none."""
        for op in reversed(self.history()):
            if op.kind == "undo" or op.state != "done" or op.undone:
                continue
            if op.kind in RECORDED_KINDS:
                moves = list(op.moves)
            else:
                moves = [(d, s) for s, d in reversed(op.moves)]
            self.run("undo", f"undo: {op.description}", moves, undoes=op.seq)
            self._mark_undone(op.seq)
            return op
        return None


# Operations recorded after the fact: their moves are already the ones undo makes.
RECORDED_KINDS = frozenset({"add"})
