"""The Training page: the model, loss and training settings as forms; start, cancel and resume a
training; live curves, progress, a log, and the result.

The forms edit `workspace.config` in place (DESIGN rule 8); Save writes config.toml. A training
takes a copy of the settings when it starts and runs `fit()` in a TrainingWorker; models go to
`workspace.models_dir/<run name>` as the CLI's do. Cancel stops after the current batch and
leaves a resumable checkpoint (last.safetensors); Resume continues the run chosen next to it,
with its own settings (a larger epoch count on the page extends it).

pyqtgraph (the curves) is imported when the page is built, not when this module is imported.
"""

from __future__ import annotations

import html
import logging
import math
import time
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from inspector.config import InspectorConfig
from inspector.gui.widgets.config_form import ConfigForm
from inspector.gui.widgets.message_bar import MessageBar
from inspector.gui.widgets.settings_panel import SettingsPanel
from inspector.gui.workers.base import Worker, while_alive
from inspector.gui.workers.training import (
    TrainingWorker,
    WeightsCheck,
    training_worker,
    weights_check_worker,
)

if TYPE_CHECKING:
    from inspector.core.data.dataset import Dataset
    from inspector.core.training.fit import TrainProgress, TrainResult
    from inspector.core.workspace import Workspace
    from inspector.gui.widgets.curves import TrainingCurves

log = logging.getLogger(__name__)

LAST_CHECKPOINT = "last.safetensors"
LOG_LINES = 5000
WARNING_STYLE = ("#weightsBanner { background: #FFF4E5; border: 1px solid #FFB74D;"
                 " border-radius: 4px; } #weightsBanner QLabel { color: #663C00; }")

MODEL_FIELDS = ("input_size", "pretrained", "imagenet_weights", "frozen_stages", "cbam_stages",
                "cbam_reduction", "dropout")
TRAIN_FIELDS = ("epochs", "batch_size", "lr_head", "lr_backbone", "weight_decay",
                "warmup_epochs", "patience", "sampler", "device", "amp", "workers", "seed")
LABELS = {
    "input_size": "Input size (px)",
    "pretrained": "Start from ImageNet",
    "imagenet_weights": "ImageNet weights file",
    "frozen_stages": "Frozen stages",
    "cbam_stages": "CBAM stages",
    "cbam_reduction": "CBAM reduction",
    "kind": "Loss",
    "gamma": "Focal gamma",
    "alpha": "Class weights (alpha)",
    "batch_size": "Batch size",
    "lr_head": "Learning rate, head",
    "lr_backbone": "Learning rate, backbone",
    "weight_decay": "Weight decay",
    "warmup_epochs": "Warm-up epochs",
    "sampler": "Sampler",
    "device": "Device",
    "amp": "Mixed precision (CUDA)",
    "workers": "Loader workers",
}
TIPS = {
    "cbam_stages": "Residual stages that get CBAM attention (channel and spatial)",
    "epochs": "Training passes over the train split (early stop may end it sooner)",
    "batch_size": "Images per step; lower it if the GPU runs out of memory",
    "seed": "The same seed and data give the same training",
    "kind": "Focal Loss puts weight on hard, rare examples; cross-entropy is the plain loss",
    "device": "auto: the first CUDA GPU if there is one, else the CPU; or cpu, cuda, cuda:N",
}


class TrainPage(QWidget):
    model_trained = Signal(Path)  # a training finished: the run's folder (best.safetensors in it)
    training_started = Signal(Path)  # the run's folder
    training_finished = Signal(object)  # TrainResult of a completed run
    training_stopped = Signal(object)  # TrainResult of a run stopped by Cancel (resumable)
    progress_shown = Signal(object)  # a TrainProgress is on screen
    weights_checked = Signal(object)  # WeightsCheck, or the error message (str)
    error_shown = Signal(str)
    busy_changed = Signal(bool)

    def __init__(self, workspace: Workspace | None = None, dataset: Dataset | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace: Workspace | None = None
        self.dataset: Dataset | None = None
        self.worker: TrainingWorker | None = None
        self.result: TrainResult | None = None
        self.run_dir: Path | None = None  # the run on screen (curves, log)
        self._check: Worker | None = None
        self._check_pending = False
        self._check_stale = True
        self._started_at = 0.0
        self._recent_log: deque[str] = deque(maxlen=50)
        self._build()
        self.set_workspace(workspace, dataset)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        from inspector.gui.widgets.curves import TrainingCurves  # pyqtgraph: only when built

        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.message_bar = MessageBar()
        self.weights_banner = QFrame()
        self.weights_banner.setObjectName("weightsBanner")
        self.weights_banner.setStyleSheet(WARNING_STYLE)
        self.weights_label = QLabel()
        self.weights_label.setWordWrap(True)
        self.weights_label.setTextFormat(Qt.TextFormat.PlainText)
        self.weights_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        banner_layout = QHBoxLayout(self.weights_banner)
        banner_layout.setContentsMargins(10, 6, 10, 6)
        banner_layout.addWidget(self.weights_label, 1)
        self.weights_banner.hide()

        # settings
        placeholder = InspectorConfig()
        self.model_form = ConfigForm(placeholder.model, MODEL_FIELDS, labels=LABELS)
        self.loss_form = ConfigForm(placeholder.train.loss, labels=LABELS)
        self.train_form = ConfigForm(placeholder.train, TRAIN_FIELDS, labels=LABELS,
                                     choices={"device": ["auto", "cpu", "cuda"]})
        self.forms = (self.model_form, self.loss_form, self.train_form)
        for form in self.forms:
            for name, tip in TIPS.items():
                if name in form.editors and not form.editors[name].toolTip():
                    form.editors[name].setToolTip(tip)
                    form.row_labels[name].setToolTip(tip)
            form.modified_changed.connect(lambda _m: self._update_actions())
            form.edited.connect(lambda _name: self._update_actions())
        self.model_form.edited.connect(self._on_model_edited)
        self.loss_form.edited.connect(lambda _name: self._update_loss_fields())
        settings_body = QWidget()
        body = QVBoxLayout(settings_body)
        body.setContentsMargins(0, 0, 4, 0)
        for title, form in (("Model", self.model_form), ("Loss", self.loss_form),
                            ("Training", self.train_form)):
            box = QGroupBox(title)
            box_layout = QVBoxLayout(box)
            box_layout.setContentsMargins(6, 6, 6, 6)
            box_layout.addWidget(form)
            body.addWidget(box)
        body.addStretch(1)
        settings = SettingsPanel(settings_body, self.forms, "Sa&ve", "Re&vert")
        self.settings_panel = settings
        self.save_button = settings.save_button
        self.revert_button = settings.revert_button
        self.modified_label = settings.modified_label
        self.modified_label.setToolTip("A training uses the settings on screen, saved or not")
        self.save_button.clicked.connect(self.save)
        self.revert_button.clicked.connect(self.revert)

        # run controls
        self.start_button = QPushButton("&Start training")
        self.start_button.setToolTip("Train a new model with these settings (Ctrl+Enter)")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("&Cancel")
        self.cancel_button.setToolTip("Stop after the current batch; the run can be resumed")
        self.cancel_button.clicked.connect(self.cancel)
        self.resume_button = QPushButton("Res&ume")
        self.resume_button.setToolTip("Continue the chosen run from its last checkpoint")
        self.resume_button.clicked.connect(self.resume)
        self.runs_combo = QComboBox()
        self.runs_combo.setMinimumWidth(140)
        self.runs_combo.setToolTip("Runs of this workspace that have a resumable checkpoint")
        runs_label = QLabel("R&un")
        runs_label.setBuddy(self.runs_combo)
        # Retraining after a new defect class: the old classes keep what they learned.
        self.warm_check = QCheckBox("&Warm start from the active model")
        self._has_active_model = False
        self.warm_check.setToolTip(
            "Start from the active model's weights instead of the backbone alone: its classes "
            "keep their learned outputs, a class the dataset has gained gets a fresh one. "
            "Reaches the old accuracy in fewer epochs.")
        controls = QHBoxLayout()
        controls.addWidget(self.start_button)
        controls.addWidget(self.warm_check)
        controls.addWidget(self.cancel_button)
        controls.addSpacing(20)
        controls.addWidget(runs_label)
        controls.addWidget(self.runs_combo, 1)
        controls.addWidget(self.resume_button)

        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("Not started")
        self.progress_bar.setTextVisible(True)
        self.speed_label = QLabel()
        self.speed_label.setMinimumWidth(200)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress_bar, 1)
        progress_row.addWidget(self.speed_label)

        self.curves: TrainingCurves = TrainingCurves()
        self.log_view = QPlainTextEdit()
        self.log_view.setReadOnly(True)
        self.log_view.setMaximumBlockCount(LOG_LINES)
        self.log_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.log_view.setPlaceholderText("The run's messages and warnings appear here.")
        log_box = QGroupBox("Log")
        log_layout = QVBoxLayout(log_box)
        log_layout.setContentsMargins(4, 4, 4, 4)
        log_layout.addWidget(self.log_view)
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.result_label.setTextFormat(Qt.TextFormat.RichText)
        self.result_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        result_scroll = QScrollArea()
        result_scroll.setWidget(self.result_label)
        result_scroll.setWidgetResizable(True)
        result_scroll.setFrameShape(QFrame.Shape.NoFrame)
        result_box = QGroupBox("Result")
        result_layout = QVBoxLayout(result_box)
        result_layout.setContentsMargins(4, 4, 4, 4)
        result_layout.addWidget(result_scroll)
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(log_box)
        bottom.addWidget(result_box)
        bottom.setStretchFactor(0, 1)
        bottom.setStretchFactor(1, 1)
        bottom.setChildrenCollapsible(False)
        bottom.setSizes([460, 400])
        right_split = QSplitter(Qt.Orientation.Vertical)
        right_split.addWidget(self.curves)
        right_split.addWidget(bottom)
        # the log and result panels take the height that banners and messages come and go
        # with: a resized plot is regenerated (70-100 ms of event loop on a busy 2-core CPU)
        right_split.setStretchFactor(0, 0)
        right_split.setStretchFactor(1, 1)
        right_split.setSizes([420, 200])
        right_split.setChildrenCollapsible(False)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addLayout(controls)
        right_layout.addLayout(progress_row)
        right_layout.addWidget(self.status_label)
        right_layout.addWidget(right_split, 1)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(settings)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([420, 860])

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.weights_banner)
        layout.addWidget(self.message_bar)
        layout.addWidget(splitter, 1)

        for keys, slot in (((QKeySequence.StandardKey.Save,), self.save),
                           (("Ctrl+Return", "Ctrl+Enter"), self.start)):
            for key in keys:
                shortcut = QShortcut(QKeySequence(key), self)
                shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                shortcut.activated.connect(slot)

    # ------------------------------------------------------------------ workspace
    def set_workspace(self, workspace: Workspace | None, dataset: Dataset | None) -> None:
        if workspace is not self.workspace and self.busy and self.worker is not None:
            self.worker.cancel()  # it leaves a resumable checkpoint in the old workspace
            self.message_bar.show_info("The training of the previous workspace was stopped; "
                                       "open it again to resume.")
        self.workspace = workspace
        self.dataset = dataset
        config = workspace.config if workspace is not None else InspectorConfig()
        self.model_form.set_model(config.model)
        self.loss_form.set_model(config.train.loss)
        self.train_form.set_model(config.train)
        self._update_loss_fields()
        if workspace is None:
            self.title.setText("<b>No workspace open.</b> Open or create one from the File menu.")
        else:
            where = dataset.root.name if dataset is not None else "no dataset"
            self.title.setText(f"Training in workspace <b>{html.escape(workspace.name)}</b>"
                               f"&nbsp;&nbsp;<span style='color:#757575'>dataset "
                               f"{html.escape(where)}; models go to "
                               f"{html.escape(str(workspace.models_dir))}</span>")
        self.weights_banner.hide()
        self._check_stale = True
        if workspace is not None and self.isVisible():
            self.check_weights()
        self.refresh_runs()
        self.refresh_warm_start()
        self._update_actions()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        if self._check_stale and self.workspace is not None:
            self.check_weights()  # the first look at the page, not the window's start-up

    @property
    def busy(self) -> bool:
        return self.worker is not None

    def _update_actions(self) -> None:
        ready = self.workspace is not None and self.dataset is not None
        for form in self.forms:
            form.set_editable(self.workspace is not None and not self.busy)
        self._update_loss_fields()
        modified = any(form.is_modified for form in self.forms)
        self.modified_label.setVisible(modified)
        self.save_button.setEnabled(self.workspace is not None and modified)
        self.revert_button.setEnabled(self.workspace is not None and modified and not self.busy)
        self.start_button.setEnabled(ready and not self.busy)
        self.cancel_button.setEnabled(self.busy)
        self.resume_button.setEnabled(ready and not self.busy and self.runs_combo.count() > 0)
        self.runs_combo.setEnabled(not self.busy)
        self.warm_check.setEnabled(self._has_active_model and not self.busy)

    def _update_loss_fields(self) -> None:
        focal = self.loss_form.model.kind == "focal"  # type: ignore[attr-defined]
        self.loss_form.editors["gamma"].setEnabled(focal and self.workspace is not None
                                                   and not self.busy)

    # ------------------------------------------------------------------ settings
    def save(self) -> None:
        if self.workspace is None:
            return
        if (problem := self.settings_panel.write(self.workspace)) is not None:
            self.show_error(problem)
            return
        self.message_bar.show_info(f"Saved to {self.workspace.config_path}.")
        self._update_actions()

    def revert(self) -> None:
        if self.workspace is None or not any(form.is_modified for form in self.forms):
            return
        answer = QMessageBox.question(
            self, "Revert", "Discard the unsaved training settings and go back to the saved "
            "ones?", QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        if answer == QMessageBox.StandardButton.Yes:
            for form in self.forms:
                form.revert()
            self._check_stale = True
            self.check_weights()
            self._update_actions()

    def _on_model_edited(self, name: str) -> None:
        if name in ("pretrained", "imagenet_weights", ""):
            self._check_stale = True
            self.check_weights()

    # ------------------------------------------------------------------ ImageNet weights
    def check_weights(self) -> None:
        """Find out before a start whether training will begin from ImageNet weights."""
        if self.workspace is None:
            return
        if self._check is not None:
            self._check_pending = True
            return
        self._check_stale = False
        self._check_pending = False
        worker = weights_check_worker(self.workspace.config.model)
        self._check = worker
        worker.finished.connect(while_alive(self, self._show_weights_check))
        worker.failed.connect(while_alive(self, self._show_weights_error))
        worker.done.connect(while_alive(self, self._weights_check_done))
        worker.start()

    def _show_weights_check(self, check: WeightsCheck) -> None:
        if check.warning:
            self.show_weights_warning(check.warning)
        else:
            self.weights_banner.hide()
            if not check.pretrained:
                self.status_label.setText("ImageNet weights are off: every layer is trained "
                                          "from random weights.")
            elif check.source:
                self.status_label.setText(f"Training starts from ImageNet weights: "
                                          f"{check.source}")
        self.weights_checked.emit(check)

    def _show_weights_error(self, message: str) -> None:
        self.show_weights_warning(message)
        self.weights_checked.emit(message)

    def _weights_check_done(self) -> None:
        self._check = None
        if self._check_pending:
            self.check_weights()

    def show_weights_warning(self, text: str) -> None:
        self.weights_label.setText(f"⚠  {text}")
        self.weights_banner.show()

    # ------------------------------------------------------------------ runs
    def refresh_runs(self, select: Path | None = None) -> None:
        """The runs with a resumable checkpoint, newest first."""
        current = select or (Path(self.runs_combo.currentData())
                             if self.runs_combo.currentData() else None)
        self.runs_combo.clear()
        if self.workspace is None or not self.workspace.models_dir.is_dir():
            self._update_actions()
            return
        runs = [p for p in self.workspace.models_dir.iterdir()
                if (p / LAST_CHECKPOINT).is_file()]
        runs.sort(key=lambda p: (p / LAST_CHECKPOINT).stat().st_mtime, reverse=True)
        for run in runs:
            finished = (run / "evaluation.json").is_file()
            self.runs_combo.addItem(f"{run.name}{'' if not finished else '  (finished)'}",
                                    str(run))
        if current is not None:
            index = self.runs_combo.findData(str(current))
            if index >= 0:
                self.runs_combo.setCurrentIndex(index)
        self._update_actions()

    def selected_run(self) -> Path | None:
        data = self.runs_combo.currentData()
        return Path(data) if data else None

    # ------------------------------------------------------------------ training
    def start(self) -> None:
        """Train a new model with the settings on screen."""
        if self.busy or self.workspace is None:
            return
        if self.dataset is None:
            self.show_error("Open a workspace with a dataset first.")
            return
        if any(form.has_errors for form in self.forms):
            self.show_error("Fix the settings marked in red first; they are not applied.")
            return
        warm = self._warm_start_model() if self.warm_check.isChecked() else None
        if self.warm_check.isChecked() and warm is None:
            self.show_error("There is no active model to warm-start from: train one first, "
                            "or clear Warm start.")
            return
        out = self._new_run_dir()
        if warm is not None:
            self._log(f"Warm start from the active model {warm.name}")
        self._run(training_worker(self.workspace.config, self.dataset, out, warm_start=warm),
                  out, resume=False)

    def _warm_start_model(self) -> Path | None:
        from inspector.core.model_catalog import active_model

        assert self.workspace is not None
        model = active_model(self.workspace)
        return model.folder if model is not None else None

    def refresh_warm_start(self) -> None:
        """Name the active model beside the option (after a promotion or a new workspace)."""
        model = self._warm_start_model() if self.workspace is not None else None
        self.warm_check.setText(f"&Warm start from {model.name}" if model is not None
                                else "&Warm start from the active model")
        self._has_active_model = model is not None
        if model is None:
            self.warm_check.setChecked(False)
        self.warm_check.setEnabled(model is not None and not self.busy)

    def resume(self) -> None:
        """Continue the run chosen in the list from its last checkpoint."""
        run = self.selected_run()
        if self.busy or self.workspace is None or run is None:
            return
        if self.dataset is None:
            self.show_error("Open a workspace with a dataset first.")
            return
        self._run(training_worker(self.workspace.config, self.dataset, run, resume=True), run,
                  resume=True)

    def cancel(self) -> None:
        if self.worker is not None and not self.worker.is_cancelled:
            self.worker.cancel()
            self.cancel_button.setEnabled(False)
            self.status_label.setText("Stopping after the current batch and saving a "
                                      "checkpoint…")
            self._log("Cancel requested: stopping after the current batch.")

    def _new_run_dir(self) -> Path:
        assert self.workspace is not None
        base = time.strftime("model-%Y%m%d-%H%M%S")  # as `inspector train` names them
        out, n = self.workspace.models_dir / base, 2
        while out.exists():
            out, n = self.workspace.models_dir / f"{base}-{n}", n + 1
        return out

    def _run(self, worker: TrainingWorker, out: Path, resume: bool) -> None:
        self.message_bar.dismiss()
        if not (resume and out == self.run_dir):  # a resumed run on screen keeps its curves
            self.curves.clear()
            self.log_view.clear()
            self._recent_log.clear()
        self.run_dir = out
        self.result = None
        self.result_label.setText(f"Training into {html.escape(str(out))}…")
        self.progress_bar.setRange(0, 0)  # busy until the first batch
        self.progress_bar.setFormat("Preparing…")
        self.speed_label.clear()
        self._log(("Resuming " if resume else "Starting ") + str(out))
        self.worker = worker
        self._started_at = time.monotonic()

        def mine(handler: Any) -> Any:
            def call(*args: Any) -> None:
                if worker is self.worker:
                    handler(*args)
            return while_alive(self, call)

        worker.train_progress.connect(mine(self._on_progress))
        worker.log_message.connect(mine(lambda text: self._log(text, warning=True)))
        worker.weights_warning.connect(mine(self.show_weights_warning))
        worker.finished.connect(mine(self._on_finished))
        worker.cancelled.connect(mine(self._on_cancelled))
        worker.failed.connect(mine(self._on_failed))
        worker.done.connect(while_alive(self, lambda: self._on_done(worker)))
        self._update_actions()
        self.busy_changed.emit(True)
        worker.start()
        self.training_started.emit(out)

    def _on_progress(self, p: TrainProgress) -> None:
        if p.epochs:
            self.curves.set_epochs(p.epochs)
        if p.stage == "batch":
            total = max(1, p.batches * p.epochs)
            done = (p.epoch - 1) * p.batches + p.batch
            self.progress_bar.setRange(0, total)
            self.progress_bar.setValue(min(done, total))
            self.progress_bar.setFormat(f"Epoch {p.epoch}/{p.epochs} · batch {p.batch}/"
                                        f"{p.batches} · {100 * done // total}%")
            self.speed_label.setText(f"loss {p.loss:.4f} · {_rate(p.images_per_s)} · "
                                     f"ETA {_duration(p.eta_s)}")
            self.curves.add_step(p.epoch - 1 + p.batch / max(1, p.batches), p.loss, p.lr)
        elif p.stage == "epoch":
            self.curves.add_epoch(p.epoch, loss=p.loss, accuracy=p.accuracy,
                                  val_loss=p.val_loss, val_accuracy=p.val_accuracy,
                                  val_macro_f1=p.val_macro_f1, lr=p.lr)
            self._log(f"Epoch {p.epoch}/{p.epochs}: loss {p.loss:.4f}, accuracy "
                      f"{p.accuracy:.3f}; val loss {p.val_loss:.4f}, val accuracy "
                      f"{p.val_accuracy:.3f}, val macro-F1 {p.val_macro_f1:.4f}"
                      f"{' (best)' if '(best)' in p.message else ''}; "
                      f"{_rate(p.images_per_s)}")
        elif p.message:
            self._log(p.message)
            self.status_label.setText(p.message if len(p.message) < 160
                                      else p.message[:157] + "…")
        self.progress_shown.emit(p)

    def _on_finished(self, result: TrainResult) -> None:
        self._show_result(result)
        self.message_bar.show_info(f"Training finished: the model is in {result.out_dir}.")
        self.training_finished.emit(result)
        self.model_trained.emit(Path(result.out_dir))
        self.refresh_warm_start()  # a first model becomes the active one

    def _on_cancelled(self, result: TrainResult | None) -> None:
        if result is not None and not result.stopped:  # cancelled while it was finishing
            self._on_finished(result)
            return
        self.result = result
        self.curves.draw_soon()
        self.progress_bar.setFormat(self.progress_bar.format().split(" · ")[0] + " · stopped")
        where = self.run_dir.name if self.run_dir else "the run"
        self.status_label.setText(f"Stopped. Resume continues {where} from its checkpoint.")
        self.result_label.setText(f"<b>Stopped</b> after {result.epochs_run if result else 0} "
                                  f"complete epoch(s). Press <b>Resume</b> to continue "
                                  f"{html.escape(where)}.")
        self.message_bar.show_info(f"Training stopped; Resume continues {where}.")
        self.training_stopped.emit(result)

    def _on_failed(self, message: str) -> None:
        self._log(message, warning=True)
        self.result_label.setText("<b>The training failed.</b> See the message above.")
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("Failed")
        self.show_error(message)

    def _on_done(self, worker: TrainingWorker) -> None:
        if worker is not self.worker:
            return
        self.worker = None
        self.curves.draw_soon()
        self.refresh_runs(select=self.run_dir)
        self._update_actions()
        self.busy_changed.emit(False)

    def _show_result(self, result: TrainResult) -> None:
        self.result = result
        self.curves.set_history(result.history)
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(1)
        self.progress_bar.setFormat(f"Done: {result.epochs_run} epoch(s)")
        self.speed_label.setText(f"{result.seconds / 60:.1f} min on {result.device}")
        self.status_label.setText("Training finished.")
        lines = [f"<b>Model saved</b> in {html.escape(str(result.out_dir))}"
                 f" <span style='color:#757575'>({html.escape(result.best_path.name)})</span>",
                 f"Best epoch <b>{result.best_epoch}</b> of {result.epochs_run}"
                 + (" (early stop)" if result.early_stopped else "")
                 + f" · val macro-F1 <b>{_number(result.best_val_macro_f1)}</b>"]
        best = next((row for row in result.history if row.get("epoch") == result.best_epoch),
                    None)
        if best is not None:
            lines.append(f"Validation: accuracy {_number(best.get('val_accuracy'))}, "
                         f"loss {_number(best.get('val_loss'))}")
        if result.test:
            metrics = result.test.get("metrics", {})
            lines.append(f"Test: accuracy <b>{_number(metrics.get('accuracy'))}</b>, "
                         f"macro-F1 <b>{_number(metrics.get('macro_f1'))}</b> on "
                         f"{result.test.get('n_images', '?')} images")
        else:
            lines.append("Test: not evaluated (the test split is empty)")
        lines.append(f"Device {html.escape(result.device)} · {result.seconds / 60:.1f} min · "
                     f"temperature {result.temperature:.2f}")
        lines.append("Weights: " + (html.escape(result.pretrained) if result.pretrained
                                    else "random initialisation (no ImageNet weights)"))
        for warning in result.warnings:
            lines.append(f"<span style='color:#B26A00'>⚠ {html.escape(warning)}</span>")
        self.result_label.setText("<br>".join(lines))
        self._log(f"Finished: best epoch {result.best_epoch}, val macro-F1 "
                  f"{_number(result.best_val_macro_f1)}; model in {result.out_dir}")

    # ------------------------------------------------------------------ messages
    def _log(self, text: str, warning: bool = False) -> None:
        if text in self._recent_log:  # the core both logs and reports some messages
            return
        self._recent_log.append(text)
        stamp = time.strftime("%H:%M:%S")
        self.log_view.appendPlainText(f"{stamp}  {'WARNING: ' if warning else ''}{text}")

    def log_text(self) -> str:
        return self.log_view.toPlainText()

    def show_error(self, message: str) -> None:
        self.message_bar.show_error(message)
        self.error_shown.emit(message)


def _number(value: Any) -> str:
    if isinstance(value, int | float) and math.isfinite(value):
        return f"{value:.4f}"
    return "–"


def _rate(images_per_s: float) -> str:
    return f"{images_per_s:.1f} img/s" if math.isfinite(images_per_s) else "– img/s"


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds) or seconds < 0:
        return "–"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
