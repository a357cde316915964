"""The Live page: what the operator watches all shift.

The camera's picture with the Grad-CAM heat map, the verdict in letters readable from a metre
away, class, confidence and FPS, the shift's counters and yield, the last 20 results, and the
operator's decision on a result: Confirm (Enter) or the right class (keys 1-9). Engineers also
get the threshold sliders and draw the region of interest with the mouse; in operator mode
those are hidden and refused.

The page holds no inspection logic. The run is built by core.inference.session (as the CLI
builds it) and runs in a LiveWorker thread; the page only paints the newest result when the
worker says one is waiting, so a slow paint skips frames instead of queueing them. Decisions go
through core.station.record_decision in a worker, and the page says so only once they are
committed: a decision acknowledged on screen survives the application being killed.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QFont,
    QFontMetrics,
    QKeySequence,
    QShortcut,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from inspector.core.station import audit as actions
from inspector.gui.session import StationSession
from inspector.gui.widgets.live_view import LiveView, wrap_array
from inspector.gui.widgets.message_bar import MessageBar
from inspector.gui.widgets.result_strip import CAPACITY, ResultStrip
from inspector.gui.widgets.verdict_banner import COLOURS, VerdictBanner
from inspector.gui.workers.base import Worker, while_alive
from inspector.gui.workers.live import (
    LiveStarted,
    LiveWorker,
    StationStore,
    decision_worker,
    model_info_worker,
    result_id_worker,
)

if TYPE_CHECKING:
    from inspector.core.data.dataset import Dataset
    from inspector.core.inference.live import LiveResult, LiveSummary
    from inspector.core.inference.session import LiveModel, ShiftCounts
    from inspector.core.station.decisions import DecisionOutcome
    from inspector.core.workspace import Workspace

log = logging.getLogger(__name__)

ROI_ACTION = "roi"  # audit action of a region-of-interest change
FPS_WINDOW_S = 2.0  # the displayed FPS counts the frames painted in this window
FIGURES_INTERVAL_MS = 200  # class, confidence, FPS and counters are refreshed this often
THRESHOLD_SAVE_DELAY_MS = 600  # a slider drag is saved and audited once it rests
MAX_CLASS_KEYS = 9
STATE_TEXT = {"connecting": "Connecting…", "connected": "Connected",
              "reconnecting": "Reconnecting…", "failed": "Failed", "ended": "Ended",
              "stopped": "Stopped"}
STATE_COLOURS = {"connected": "#00796B", "reconnecting": "#B26A00", "connecting": "#B26A00",
                 "failed": "#C62828"}

# source picker entries: (label, kind, value)
VIRTUAL, CAMERA, VIDEO, FOLDER, URL = "virtual", "camera", "video", "folder", "url"
SOURCES: tuple[tuple[str, str, Any], ...] = (
    ("Virtual camera: boards", VIRTUAL, "board"),
    ("Virtual camera: single patches", VIRTUAL, "patch"),
    *((f"Camera {i}", CAMERA, i) for i in range(4)),
    ("Video file…", VIDEO, None),
    ("Folder of images…", FOLDER, None),
    ("Network stream (URL)", URL, None),
)


@dataclass
class _Life:
    """What must be released when the page goes, kept apart from the widget (whose Python
    attributes may be gone by then): the running worker and the workspace's store."""

    worker: LiveWorker | None = None
    stores: StationStore | None = None

    def end(self, *_args: object) -> None:
        if self.worker is not None:
            self.worker.cancel()
        if self.stores is not None:
            self.stores.close_when_idle()


def _percent(value: float) -> str:
    return f"{value * 100:.0f} %"


class LivePage(QWidget):
    """Build it, `set_session(session)`, `set_workspace(workspace, dataset)`; Start."""

    result_shown = Signal(object)  # the LiveResult now on screen
    decision_recorded = Signal(object)  # DecisionOutcome, once committed
    error_shown = Signal(str)
    source_state_changed = Signal(str)  # connecting/connected/reconnecting/failed/ended/stopped
    strip_clicked = Signal(int)  # key of the strip entry selected
    show_result_requested = Signal(int)  # a stored result's id, to open on the Results page
    live_started = Signal(object)  # LiveStarted: the model is loaded, frames are coming
    live_stopped = Signal(object)  # LiveSummary, or None when the run failed
    model_changed = Signal(object)  # LiveModel of the active model, or None

    def __init__(self, workspace: Workspace | None = None, dataset: Dataset | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace: Workspace | None = None
        self.dataset: Dataset | None = None
        self.session = StationSession(self)
        self.model: LiveModel | None = None
        self.classes: list[str] = []
        self.thresholds: dict[str, float] = {}
        self.fitted_thresholds: dict[str, float] = {}
        self.device = "auto"
        self.current: LiveResult | None = None
        self.current_key: int | None = None
        self.selected_key: int | None = None
        self.counts: ShiftCounts | None = None
        self.started_info: LiveStarted | None = None
        self._life = _Life()
        self._results: OrderedDict[int, LiveResult] = OrderedDict()
        self._next_key = 1
        self._decided: dict[int, str] = {}
        self._shown_times: deque[float] = deque()
        self._model_job: Worker | None = None
        self._pending_thresholds: dict[str, tuple[float, float]] = {}  # class: (old, new)
        self._sliders: dict[str, QSlider] = {}
        self._slider_values: dict[str, QLabel] = {}
        self._class_buttons: list[QPushButton] = []
        self._class_shortcuts: list[QShortcut] = []
        self._setting_sliders = False
        self._paths = {VIDEO: "", FOLDER: "", URL: ""}
        self._virtual_spec = "virtual"
        self._starting_spec = ""  # the picker's source of the run being started
        self._last_state = ""
        self._build()
        self.session.role_changed.connect(self._role_changed)
        self.session.user_changed.connect(self._user_changed)
        self.destroyed.connect(self._life.end)
        self._apply_role()
        self.set_workspace(workspace, dataset)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.message_bar = MessageBar()

        # source row
        self.source_combo = QComboBox()
        for label, kind, value in SOURCES:
            self.source_combo.addItem(label, (kind, value))
        self.source_combo.setToolTip("Where the frames come from")
        self.source_combo.activated.connect(self._source_chosen)
        self.source_combo.currentIndexChanged.connect(lambda _i: self._update_source_widgets())
        self.target_edit = QLineEdit()
        self.target_edit.setPlaceholderText("rtsp://… or http(s)://…")
        self.target_edit.textEdited.connect(self._target_edited)
        self.browse_button = QPushButton("Browse…")
        self.browse_button.clicked.connect(self._browse)
        self.start_button = QPushButton("▶ Start")
        self.start_button.setToolTip("Start live inspection (F5)")
        self.start_button.clicked.connect(lambda _checked=False: self.start())
        self.stop_button = QPushButton("■ Stop")
        self.stop_button.setToolTip("Stop live inspection (Shift+F5)")
        self.stop_button.clicked.connect(self.stop)
        for button in (self.start_button, self.stop_button):
            button.setMinimumHeight(32)
            button.setMinimumWidth(96)
        self.state_label = QLabel("Not running")
        self.state_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.state_label.setMinimumWidth(200)
        source_label = QLabel("&Source:")
        source_label.setBuddy(self.source_combo)
        source_row = QHBoxLayout()
        source_row.addWidget(source_label)
        source_row.addWidget(self.source_combo)
        source_row.addWidget(self.target_edit, 1)
        source_row.addWidget(self.browse_button)
        source_row.addWidget(self.start_button)
        source_row.addWidget(self.stop_button)
        source_row.addSpacing(8)
        source_row.addWidget(self.state_label, 1)

        # the picture
        self.view = LiveView()
        self.view.roi_drawn.connect(lambda x, y, w, h: self.set_roi((x, y, w, h)))

        # right column: verdict, figures, counters, decision, engineer settings
        self.banner = VerdictBanner()
        self.class_label = QLabel("Class: –")
        self.confidence_label = QLabel("Confidence: –")
        self.fps_label = QLabel("FPS: –")
        self.fps_label.setToolTip("Frames painted on this screen per second · frames the "
                                  "engine inspects per second (latency of one frame)")
        self.reason_label = QLabel()
        figures_font = QFont(self.font())
        figures_font.setPointSizeF(figures_font.pointSizeF() * 1.35)
        for label in (self.class_label, self.confidence_label):
            label.setFont(figures_font)
        figures = QVBoxLayout()
        figures.setSpacing(2)
        for label in (self.class_label, self.confidence_label, self.fps_label,
                      self.reason_label):
            # changing text never resizes anything: no relayout at the camera's rate
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            label.setFixedHeight(label.sizeHint().height())
            figures.addWidget(label)

        self.counters_box = QGroupBox("Shift")
        grid = QGridLayout(self.counters_box)
        grid.setContentsMargins(8, 4, 8, 6)
        grid.setVerticalSpacing(0)
        self.count_labels: dict[str, QLabel] = {}
        count_font = QFont(self.font())
        count_font.setPointSizeF(count_font.pointSizeF() * 1.8)
        count_font.setBold(True)
        for column, (key, title) in enumerate((("PASS", "PASS"), ("FAIL", "FAIL"),
                                               ("REVIEW", "REVIEW"), ("yield", "Yield"))):
            caption = QLabel(title)
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            value = QLabel("0" if key != "yield" else "–")
            value.setFont(count_font)
            value.setAlignment(Qt.AlignmentFlag.AlignCenter)
            if key in COLOURS:
                value.setStyleSheet(f"color: {COLOURS[key].darker(115).name()};")
            grid.addWidget(caption, 0, column)
            grid.addWidget(value, 1, column)
            self.count_labels[key] = value

        self.decision_box = QGroupBox("Operator decision")
        self.operator_edit = QLineEdit()
        self.operator_edit.setPlaceholderText("Your name")
        self.operator_edit.editingFinished.connect(self._name_edited)
        self.operator_edit.returnPressed.connect(self.view.setFocus)
        self.target_label = QLabel("Nothing to decide on yet.")
        self.target_label.setWordWrap(True)
        self.target_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.target_label.setFixedHeight(2 * QFontMetrics(self.target_label.font()).lineSpacing()
                                         + 4)
        self.confirm_button = QPushButton("Confirm the model  (Enter)")
        self.confirm_button.setToolTip("The model is right: record its class")
        self.confirm_button.setMinimumHeight(34)
        self.confirm_button.clicked.connect(lambda: self.decide(None))
        self.class_grid = QGridLayout()
        self.class_grid.setSpacing(4)
        self.ack_label = QLabel()
        self.ack_label.setWordWrap(True)
        self.ack_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        name_row = QHBoxLayout()
        name_label = QLabel("&Operator:")
        name_label.setBuddy(self.operator_edit)
        name_row.addWidget(name_label)
        name_row.addWidget(self.operator_edit, 1)
        override_label = QLabel("Or the right class:")
        decision = QVBoxLayout(self.decision_box)
        decision.setSpacing(4)
        decision.addLayout(name_row)
        decision.addWidget(self.target_label)
        decision.addWidget(self.confirm_button)
        decision.addWidget(override_label)
        decision.addLayout(self.class_grid)
        decision.addWidget(self.ack_label)

        self.engineer_box = QGroupBox("Engineer: thresholds and region of interest")
        self.threshold_grid = QGridLayout()
        self.threshold_grid.setVerticalSpacing(2)
        self.threshold_grid.setHorizontalSpacing(8)
        self.reset_thresholds_button = QPushButton("Model's thresholds")
        self.reset_thresholds_button.setToolTip("Forget the thresholds set here and use those "
                                                "fitted when the model was trained")
        self.reset_thresholds_button.clicked.connect(self.reset_thresholds)
        self.draw_roi_button = QPushButton("Draw region")
        self.draw_roi_button.setCheckable(True)
        self.draw_roi_button.setToolTip("Then drag a rectangle on the picture: only that part "
                                        "of each frame is inspected")
        self.draw_roi_button.toggled.connect(self._draw_roi_toggled)
        self.clear_roi_button = QPushButton("Whole frame")
        self.clear_roi_button.setToolTip("Inspect the whole frame again")
        self.clear_roi_button.clicked.connect(lambda: self.set_roi(None))
        self.roi_label = QLabel()
        roi_row = QHBoxLayout()
        roi_row.addWidget(self.roi_label, 1)
        roi_row.addWidget(self.draw_roi_button)
        roi_row.addWidget(self.clear_roi_button)
        roi_row.addWidget(self.reset_thresholds_button)
        engineer = QVBoxLayout(self.engineer_box)
        engineer.setSpacing(4)
        engineer.setContentsMargins(8, 4, 8, 6)
        engineer.addLayout(self.threshold_grid)
        engineer.addLayout(roi_row)
        self._threshold_timer = QTimer(self)
        self._threshold_timer.setSingleShot(True)
        self._threshold_timer.setInterval(THRESHOLD_SAVE_DELAY_MS)
        self._threshold_timer.timeout.connect(self._commit_thresholds)
        self._figures_timer = QTimer(self)
        self._figures_timer.setInterval(FIGURES_INTERVAL_MS)
        self._figures_timer.timeout.connect(self._update_figures)

        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 4, 0)
        side_layout.addWidget(self.banner)
        side_layout.addLayout(figures)
        side_layout.addWidget(self.counters_box)
        side_layout.addWidget(self.decision_box)
        side_layout.addStretch(1)
        self.side_scroll = QScrollArea()
        self.side_scroll.setWidget(side)
        self.side_scroll.setWidgetResizable(True)
        self.side_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.side_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.side_scroll.setFixedWidth(360)
        self.side_scroll.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)

        picture = QVBoxLayout()
        picture.addWidget(self.view, 1)
        picture.addWidget(self.engineer_box)
        main = QHBoxLayout()
        main.addLayout(picture, 1)
        main.addWidget(self.side_scroll)

        self.strip = ResultStrip(CAPACITY)
        self.strip.clicked.connect(self._strip_clicked)
        self.strip.activated.connect(self.open_result)
        strip_title = QLabel(f"Last {CAPACITY} results, newest first: click one to decide on "
                             "it (Esc: back to the newest), double-click to open it in Results")
        strip_title.setStyleSheet("color: palette(placeholder-text);")

        layout = QVBoxLayout(self)
        layout.addWidget(self.message_bar)
        layout.addLayout(source_row)
        layout.addLayout(main, 1)
        layout.addWidget(strip_title)
        layout.addWidget(self.strip)

        context = Qt.ShortcutContext.WidgetWithChildrenShortcut
        for keys, slot in ((Qt.Key.Key_Return, self._enter_pressed),
                           (Qt.Key.Key_Enter, self._enter_pressed),
                           (Qt.Key.Key_Escape, lambda: self.select_result(None)),
                           (Qt.Key.Key_F5, lambda _checked=False: self.start()),
                           (QKeySequence("Shift+F5"), self.stop)):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(context)
            shortcut.activated.connect(slot)
        for number in range(1, MAX_CLASS_KEYS + 1):
            shortcut = QShortcut(QKeySequence(str(number)), self)
            shortcut.setContext(context)
            shortcut.activated.connect(lambda n=number: self._class_key(n))
            self._class_shortcuts.append(shortcut)

        self._update_source_widgets()
        self._update_actions()

    # ------------------------------------------------------------------ workspace and session
    def set_session(self, session: StationSession) -> None:
        """The window's station session: the role (operator / engineer), the user, the audit
        log. The page follows its role changes."""
        if session is self.session:
            return
        old = self.session
        for signal, slot in ((old.role_changed, self._role_changed),
                             (old.user_changed, self._user_changed)):
            with contextlib.suppress(RuntimeError, TypeError):
                signal.disconnect(slot)
        self.session = session
        session.role_changed.connect(self._role_changed)
        session.user_changed.connect(self._user_changed)
        self._user_changed(session.user)
        self._apply_role()

    def set_workspace(self, workspace: Workspace | None, dataset: Dataset | None) -> None:
        self.dataset = dataset
        if workspace is not None and workspace is self.workspace:
            self.refresh_model()  # the active model may have changed; the run goes on
            return
        self._retire()
        self.workspace = workspace
        self.model = None
        self.classes, self.thresholds, self.fitted_thresholds = [], {}, {}
        self.current = self.current_key = self.selected_key = None
        self.counts = None
        self.started_info = None
        self._results.clear()
        self._decided.clear()
        self.strip.clear()
        self.view.clear()
        self.banner.set_idle()
        self.message_bar.dismiss()
        self.ack_label.clear()
        self._set_counts(None)
        self._rebuild_classes()
        if workspace is None:
            self.view.set_placeholder("Open a workspace to inspect.")
        else:
            self._life.stores = StationStore(workspace)
            live = workspace.config.live
            self.set_source(live.source.spec)
            self.view.set_roi(live.roi)
            self.view.set_placeholder("Press Start to inspect.")
            self.refresh_model()
        self._show_roi()
        self._set_state_text("Not running", "")
        self._update_actions()

    def _retire(self) -> None:
        """Stop the run and close the store of the workspace being left (once unused)."""
        self._commit_thresholds()
        self._figures_timer.stop()
        life = self._life
        if life.worker is not None:
            life.worker.cancel()
            life.worker = None
        if life.stores is not None:
            life.stores.close_when_idle()
            life.stores = None

    def shutdown(self) -> None:
        """Stop the run, wait for it (a few seconds at most) and close the results store."""
        worker = self._life.worker
        self._retire()
        if worker is not None:
            worker.wait(5000)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        focus = self.focusWidget()
        if focus is None or not focus.hasFocus():
            self.view.setFocus()  # Enter and the class keys work at once

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.shutdown()
        super().closeEvent(event)

    @property
    def stores(self) -> StationStore | None:
        return self._life.stores

    @property
    def worker(self) -> LiveWorker | None:
        return self._life.worker

    @property
    def running(self) -> bool:
        worker = self._life.worker
        return worker is not None and worker.is_running

    # ------------------------------------------------------------------ the model
    def refresh_model(self) -> None:
        """Read the active model's classes and thresholds again (after training or a change
        of the active model); quick, from the checkpoint's header."""
        workspace = self.workspace
        if workspace is None:
            return
        if self._model_job is not None:
            self._model_job.cancel()
        job = model_info_worker(workspace)
        self._model_job = job

        def loaded(model: LiveModel) -> None:
            if job is self._model_job and workspace is self.workspace:
                self._model_loaded(model)

        def failed(message: str) -> None:
            if job is self._model_job and workspace is self.workspace:
                self.model = None
                if not self.running:
                    self._rebuild_classes()
                self.view.set_placeholder(message)
                self.model_changed.emit(None)

        job.finished.connect(while_alive(self, loaded))
        job.failed.connect(while_alive(self, failed))
        job.start()

    def _model_loaded(self, model: LiveModel) -> None:
        self.model = model
        self.fitted_thresholds = dict(model.fitted_thresholds)
        if not self.running:
            self.classes = list(model.classes)
            self.thresholds = dict(model.policy.thresholds)
            self._rebuild_classes()
        self.view.set_placeholder(f"Press Start to inspect with {model.name}.")
        self.model_changed.emit(model)

    def _rebuild_classes(self) -> None:
        """One decision button and one threshold slider per class of the model."""
        for button in self._class_buttons:
            button.deleteLater()
        self._class_buttons.clear()
        while self.threshold_grid.count():
            item = self.threshold_grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self._sliders.clear()
        self._slider_values.clear()
        good = self.model.good_class if self.model else ""
        if self.started_info is not None:
            good = self.started_info.good_class
        for index, name in enumerate(self.classes):
            key = index + 1
            text = f"{key}  {name}" if key <= MAX_CLASS_KEYS else name
            button = QPushButton(text + ("  (good)" if name == good else ""))
            button.setMinimumHeight(30)
            shortcut = f" (key {key})" if key <= MAX_CLASS_KEYS else ""
            button.setToolTip(f"The model is wrong: this is {name}{shortcut}")
            button.clicked.connect(lambda _c=False, n=name: self.decide(n))
            self.class_grid.addWidget(button, index // 2, index % 2)
            self._class_buttons.append(button)

            caption = QLabel(name)
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(0, 100)
            slider.setPageStep(5)
            slider.setToolTip(f"Least confidence for a {name} verdict; below it, REVIEW")
            value = QLabel()
            value.setMinimumWidth(QFontMetrics(value.font()).horizontalAdvance("0.00 (model's)"))
            slider.valueChanged.connect(lambda v, n=name: self._slider_moved(n, v))
            row, column = index // 2, (index % 2) * 3
            self.threshold_grid.addWidget(caption, row, column)
            self.threshold_grid.addWidget(slider, row, column + 1)
            self.threshold_grid.addWidget(value, row, column + 2)
            self._sliders[name] = slider
            self._slider_values[name] = value
        self._show_thresholds()
        self._update_actions()

    def _show_thresholds(self) -> None:
        self._setting_sliders = True
        try:
            overrides = (self.workspace.config.live.verdict.thresholds
                         if self.workspace is not None else {})
            for name, slider in self._sliders.items():
                value = self.thresholds.get(name, 0.0)
                slider.setValue(round(value * 100))
                mark = "" if name in overrides else " (model's)"
                self._slider_values[name].setText(f"{value:.2f}{mark}")
        finally:
            self._setting_sliders = False

    # ------------------------------------------------------------------ the source
    def set_source(self, spec: str, virtual_mode: str = "board") -> None:
        """Show a source in the picker: "virtual[:seed]", a camera index, a video, a folder, a
        URL."""
        text = spec.strip()
        lower = text.lower()
        if lower.startswith("virtual"):
            self._virtual_spec = text
            self._select_source(VIRTUAL, virtual_mode if virtual_mode in ("board", "patch")
                                else "board")
        elif lower.removeprefix("camera:").isdigit():
            index = int(lower.removeprefix("camera:"))
            if self._source_index(CAMERA, index) < 0:
                self.source_combo.insertItem(self._first_of(VIDEO), f"Camera {index}",
                                             (CAMERA, index))
            self._select_source(CAMERA, index)
        elif "://" in text:
            self._paths[URL] = text
            self._select_source(URL, None)
        else:
            path = Path(text)
            kind = FOLDER if path.is_dir() or not path.suffix else VIDEO
            self._paths[kind] = text
            self._select_source(kind, None)
        self._update_source_widgets()

    def _first_of(self, kind: str) -> int:
        for index in range(self.source_combo.count()):
            if self.source_combo.itemData(index)[0] == kind:
                return index
        return self.source_combo.count()

    def _source_index(self, kind: str, value: Any) -> int:
        for index in range(self.source_combo.count()):
            if tuple(self.source_combo.itemData(index)) == (kind, value):
                return index
        return -1

    def _select_source(self, kind: str, value: Any) -> None:
        self.source_combo.setCurrentIndex(max(0, self._source_index(kind, value)))

    def source_spec(self) -> tuple[str, str]:
        """(spec for open_source, virtual camera mode) of the picker's choice; spec is ""
        when a file, folder or URL is still to be given."""
        kind, value = self.source_combo.currentData()
        if kind == VIRTUAL:
            return self._virtual_spec, value
        if kind == CAMERA:
            return str(value), "board"
        return self._paths[kind].strip(), "board"

    def _update_source_widgets(self) -> None:
        kind, _ = self.source_combo.currentData()
        self.target_edit.setVisible(kind in (VIDEO, FOLDER, URL))
        self.target_edit.setReadOnly(kind != URL)
        self.browse_button.setVisible(kind in (VIDEO, FOLDER))
        if kind in self._paths:
            self.target_edit.setText(self._paths[kind])
        self.target_edit.setPlaceholderText(
            "rtsp://… or http(s)://…" if kind == URL else "Browse… to choose")

    def _source_chosen(self, _index: int) -> None:
        kind, _ = self.source_combo.currentData()
        if kind in (VIDEO, FOLDER) and not self._paths[kind]:
            self._browse()
        elif kind == URL:
            self.target_edit.setFocus()

    def _target_edited(self, text: str) -> None:
        kind, _ = self.source_combo.currentData()
        if kind == URL:
            self._paths[URL] = text

    def _browse(self) -> None:
        kind, _ = self.source_combo.currentData()
        start = self._paths.get(kind) or (str(self.workspace.root) if self.workspace else "")
        if kind == VIDEO:
            # here, not at the top: the sources package takes 0.3 s to import
            from inspector.core.inference.sources.video import VIDEO_SUFFIXES

            patterns = " ".join(f"*{s}" for s in sorted(VIDEO_SUFFIXES))
            path, _filter = QFileDialog.getOpenFileName(
                self, "Video to inspect", start, f"Videos ({patterns});;All files (*)")
        elif kind == FOLDER:
            path = QFileDialog.getExistingDirectory(self, "Folder of images to inspect", start)
        else:
            return
        if path:
            self._paths[kind] = path
            self.target_edit.setText(path)

    # ------------------------------------------------------------------ start and stop
    def start(self, source: Any = None) -> bool:
        """Start live inspection on the picker's source (or on `source`, a FrameSource made by
        the caller). False, with a message, when it cannot start."""
        if self.running:
            return False
        workspace, stores = self.workspace, self._life.stores
        if workspace is None or stores is None:
            self._show_error("Open a workspace first.")
            return False
        spec, mode = self.source_spec()
        if not spec and source is None:
            kind, _ = self.source_combo.currentData()
            self._show_error("Type the stream's URL first." if kind == URL
                             else "Choose the video or the folder to inspect first (Browse…).")
            return False
        self._commit_thresholds()
        self.message_bar.dismiss()
        config = workspace.config.live.model_copy(deep=True)
        if spec:
            config.source.spec = spec
        self._starting_spec = spec if source is None else ""
        worker = LiveWorker(workspace, stores, config=config, virtual_mode=mode,
                            device=self.device, source=source)
        mine = self._while_current(worker)
        worker.result_ready.connect(mine(self._show_latest))
        worker.state_changed.connect(mine(self._on_state))
        worker.run_started.connect(mine(self._on_started))
        worker.failed.connect(mine(self._on_failed))
        worker.finished.connect(mine(self._on_finished))
        worker.cancelled.connect(mine(self._on_finished))
        worker.done.connect(stores.release)
        worker.done.connect(mine(lambda: self._on_done(worker)))
        stores.users += 1
        self._life.worker = worker
        self._shown_times.clear()
        self.started_info = None
        self._last_state = ""
        self.banner.set_idle("LOADING", "Loading the model…")
        self._set_state_text("Loading the model…", "connecting")
        worker.start()
        self._figures_timer.start()
        self._update_actions()
        return True

    def _while_current(self, worker: LiveWorker) -> Any:
        """Wraps a slot so that it runs only while `worker` is the page's run (and the page is
        alive): a run left behind by a workspace change reports to nobody."""

        def wrap(slot: Any) -> Any:
            def call(*args: Any) -> None:
                if self._life.worker is worker:
                    slot(*args)

            return while_alive(self, call)

        return wrap

    def stop(self) -> None:
        worker = self._life.worker
        if worker is not None and worker.is_running:
            worker.cancel()
            self._set_state_text("Stopping…", "")
            self.stop_button.setEnabled(False)

    def _on_started(self, info: LiveStarted) -> None:
        self.started_info = info
        self._remember_source(self._starting_spec)
        self.classes = list(info.classes)
        self.thresholds = dict(info.thresholds)
        self._rebuild_classes()
        self.banner.set_idle("WAITING", f"{info.model_version} · {info.backend}")
        self.view.set_placeholder(f"Waiting for frames from {info.source}…")
        self._update_figures()
        self.live_started.emit(info)

    def _remember_source(self, spec: str) -> None:
        """The source that started becomes the workspace's (the next shift starts on it).
        Not a setting an operator is kept from: it changes no model, data or threshold."""
        workspace = self.workspace
        if not spec or workspace is None or workspace.config.live.source.spec == spec:
            return
        source = workspace.config.live.source
        old = source.spec
        try:
            source.spec = spec
            workspace.save_config()
        except Exception as exc:  # a ConfigError or an OSError: inspection goes on regardless
            source.spec = old
            log.warning("the live source %s was not saved in the workspace: %s", spec, exc)

    def _on_failed(self, message: str) -> None:
        self._show_error(message)
        self.banner.set_idle("STOPPED", "")
        self._set_state_text(f"Not running: {message.splitlines()[0]}", "failed")
        self.live_stopped.emit(None)

    def _on_finished(self, summary: LiveSummary) -> None:
        self._show_latest()
        self._update_figures()
        if summary.end_state == "ended":
            self.message_bar.show_info(
                f"The source has ended after {summary.frames} frames"
                + (f": {summary.error}" if summary.error else "."))
        elif summary.end_state == "failed" and summary.error:
            self._show_error(summary.error)
        if self._last_state not in ("failed", "ended"):
            self._set_state_text("Stopped", "stopped")
            self.source_state_changed.emit("stopped")
        self.live_stopped.emit(summary)

    def _on_done(self, worker: LiveWorker) -> None:
        if self._life.worker is worker:
            self._update_figures()
            self._life.worker = None
            self._figures_timer.stop()
        if self.current is None:
            self.banner.set_idle()
        self._update_actions()

    def _on_state(self, state: str, error: str) -> None:
        self._last_state = state
        text = STATE_TEXT.get(state, state)
        if error and state in ("reconnecting", "failed", "ended", "connecting"):
            text = f"{text} {error}" if state != "failed" else f"Failed: {error}"
        self._set_state_text(text, state)
        self.source_state_changed.emit(state)
        if state == "failed" and error:
            self._show_error(error)

    def _set_state_text(self, text: str, state: str) -> None:
        colour = STATE_COLOURS.get(state)
        self.state_label.setStyleSheet(f"color: {colour}; font-weight: bold;" if colour else "")
        self.state_label.setText(text)
        self.state_label.setToolTip(text)

    # ------------------------------------------------------------------ showing results
    def _show_latest(self) -> None:
        worker = self._life.worker
        if worker is None:
            return
        result = worker.take_latest()
        if result is None:
            return
        key = self._next_key
        self._next_key += 1
        self._results[key] = result
        while len(self._results) > 2 * CAPACITY:
            oldest = next(iter(self._results))
            if oldest == self.selected_key:
                self._results.move_to_end(oldest)
                oldest = next(iter(self._results))
            del self._results[oldest]
        self.current, self.current_key = result, key
        now = time.perf_counter()
        self._shown_times.append(now)
        while self._shown_times and now - self._shown_times[0] > FPS_WINDOW_S:
            self._shown_times.popleft()

        decision = result.decision
        verdict = decision.verdict.value
        self.view.set_frame(result.overlay)
        self.banner.set_verdict(verdict, f"{decision.label}  {_percent(decision.confidence)}")
        self._show_decision(result)
        self.strip.add(key, wrap_array(result.overlay), verdict,
                       f"{verdict[0]} {decision.label}",
                       f"#{key} {verdict} {decision.label} {_percent(decision.confidence)}\n"
                       f"{time.strftime('%H:%M:%S')} · {result.source}")
        self.result_shown.emit(result)

    def _update_figures(self) -> None:
        """The numbers beside the picture, a few times a second (nobody reads them faster, and
        relaying out labels at the camera's rate would cost the GUI thread for nothing)."""
        result = self.current
        if result is not None:
            self._set_text(self.fps_label,
                           f"FPS: {self.displayed_fps():.1f} on screen · {result.fps:.1f} "
                           f"engine · {result.latency_ms:.0f} ms a frame")
        worker = self._life.worker
        if worker is not None:
            self._set_counts(worker.counts())

    def _show_decision(self, result: LiveResult) -> None:
        """Class, confidence and the reason of a REVIEW: with the banner, frame by frame."""
        decision = result.decision
        self._set_text(self.class_label, f"Class: {decision.label}")
        self._set_text(self.confidence_label,
                       f"Confidence: {_percent(decision.confidence)}  "
                       f"(threshold {_percent(decision.threshold)})")
        reason = (f"Why REVIEW: {decision.reason}"
                  if decision.verdict.value == "REVIEW" and decision.reason else "")
        self._set_text(self.reason_label, reason)
        if self.selected_key is None:
            self._show_target()  # what Enter and the class keys apply to, as on the banner

    @staticmethod
    def _set_text(label: QLabel, text: str) -> None:
        if label.text() != text:
            label.setText(text)

    def displayed_fps(self) -> float:
        """Frames painted per second over the last FPS_WINDOW_S seconds."""
        times = self._shown_times
        if len(times) < 2 or times[-1] <= times[0]:
            return 0.0
        return (len(times) - 1) / (times[-1] - times[0])

    def engine_fps(self) -> float:
        return self.current.fps if self.current is not None else 0.0

    def _set_counts(self, counts: ShiftCounts | None) -> None:
        self.counts = counts
        labels = self.count_labels
        if counts is None:
            for key in ("PASS", "FAIL", "REVIEW"):
                self._set_text(labels[key], "0")
            self._set_text(labels["yield"], "–")
            self.counters_box.setTitle("Shift")
            return
        self._set_text(labels["PASS"], str(counts.passed))
        self._set_text(labels["FAIL"], str(counts.failed))
        self._set_text(labels["REVIEW"], str(counts.review))
        yield_pct = counts.yield_pct
        self._set_text(labels["yield"], "–" if yield_pct is None else f"{yield_pct:.1f} %")
        since = time.strftime("%H:%M", time.localtime(counts.start))
        title = (f"Shift {counts.name} (since {since})" if counts.name
                 else f"Since {since} (no shifts set)")
        if self.counters_box.title() != title:
            self.counters_box.setTitle(title)

    # ------------------------------------------------------------------ selection and strip
    def _strip_clicked(self, key: int) -> None:
        self.select_result(key)
        self.strip_clicked.emit(key)

    def select_result(self, key: int | None) -> None:
        """Decide on the strip's entry `key` (None: on the newest result again)."""
        if key is not None and key not in self._results:
            key = None
        self.selected_key = key
        self.strip.select(key)
        self._show_target()

    def decision_target(self) -> tuple[int, LiveResult] | None:
        """(key, result) the decision buttons apply to: the selected one, else the newest."""
        if self.selected_key is not None and self.selected_key in self._results:
            return self.selected_key, self._results[self.selected_key]
        if self.current is not None and self.current_key is not None:
            return self.current_key, self.current
        return None

    def _show_target(self) -> None:
        target = self.decision_target()
        if target is None:
            self._set_text(self.target_label, "Nothing to decide on yet.")
            return
        key, result = target
        decision = result.decision
        which = ("selected; Esc: back to the newest" if key == self.selected_key
                 else "the newest")
        decided = f" · decided: {self._decided[key]}" if key in self._decided else ""
        self._set_text(self.target_label,
                       f"Deciding on #{key}: {decision.verdict.value} {decision.label} "
                       f"{_percent(decision.confidence)} ({which}){decided}")

    def open_result(self, key: int) -> None:
        """Ask the Results page to show the stored row of the strip's entry `key`."""
        result = self._results.get(key)
        if result is None:
            return
        job = result_id_worker(result)
        job.finished.connect(while_alive(self, self.show_result_requested.emit))
        job.failed.connect(while_alive(self, self._show_error))
        job.start()

    # ------------------------------------------------------------------ decisions
    def _enter_pressed(self) -> None:
        if isinstance(self.focusWidget(), QLineEdit):  # Enter ends typing the name or the URL
            if self.focusWidget() is self.operator_edit:
                self._name_edited()
            self.view.setFocus()
            return
        self.decide(None)

    def _class_key(self, number: int) -> None:
        if 1 <= number <= len(self.classes):
            self.decide(self.classes[number - 1])

    def decide(self, label: str | None) -> bool:
        """Record the operator's decision on the decision target: its class is `label`, or the
        model's (None: Confirm). Written off the GUI thread; acknowledged once committed."""
        target = self.decision_target()
        stores = self._life.stores
        if target is None or stores is None:
            self._show_error("There is no result to decide on yet: start live inspection.")
            return False
        if not self.session.is_engineer:
            self._name_edited()  # typed, not yet confirmed with Enter
        operator = self.session.user.strip()
        if not operator:
            self._show_error("Enter your name in the Operator field before deciding: every "
                             "decision is saved with the name of who made it.")
            self.operator_edit.setFocus()
            return False
        key, result = target
        chosen = label or result.decision.label
        if chosen not in self.classes:
            self._show_error(f"'{chosen}' is not a class of the model.")
            return False
        job = decision_worker(stores, self.session.audit, result, operator=operator,
                              label=chosen, role=self.session.role.value)
        job.finished.connect(while_alive(self, lambda outcome: self._decided_on(
            key, result, outcome, operator)))
        job.failed.connect(while_alive(self, self._show_error))
        job.done.connect(stores.release)
        stores.users += 1
        self._set_text(self.ack_label, f"Saving {operator}'s decision on #{key}…")
        job.start()
        return True

    def _decided_on(self, key: int, result: LiveResult, outcome: DecisionOutcome,
                    operator: str) -> None:
        model_label = result.decision.label
        verdict = result.decision.verdict.value
        if outcome.kind == "override":
            what = f"override {model_label} → {outcome.label}"
        else:
            what = f"confirmed {verdict} {model_label}"
        text = f"Saved: {what} by {operator}"
        self._decided[key] = what
        self.strip.set_decided(key, what)
        self.ack_label.setStyleSheet("color: #00796B; font-weight: bold;")
        self.ack_label.setText(f"{text} (result {outcome.result_id}"
                               + (", sent to the review inbox)" if outcome.inbox_item else ")"))
        self.message_bar.dismiss()
        self._show_target()
        if outcome.audit_entry is not None:
            self.session.announce([outcome.audit_entry])  # the audit viewer shows it
        self.decision_recorded.emit(outcome)

    # ------------------------------------------------------------------ engineer settings
    def _role_changed(self, _role: str) -> None:
        self._commit_thresholds()
        self._apply_role()

    def _name_edited(self) -> None:
        """The operator's name, once typed (each change of it is audited, so not per key)."""
        if not self.session.is_engineer:
            self.session.set_user(self.operator_edit.text())

    def _user_changed(self, _user: str) -> None:
        # the field shows whom decisions are recorded as: the operator, or the engineer
        name = self.session.user if self.session.is_engineer else self.session.operator_name
        if " ".join(self.operator_edit.text().split()) != name:
            self.operator_edit.setText(name)

    def _apply_role(self) -> None:
        engineer = self.session.is_engineer
        self.engineer_box.setVisible(engineer)
        self.engineer_box.setEnabled(engineer)
        if not engineer and self.draw_roi_button.isChecked():
            self.draw_roi_button.setChecked(False)
        self.view.set_roi_editable(engineer and self.draw_roi_button.isChecked())
        self.operator_edit.setReadOnly(engineer)
        self.operator_edit.setToolTip("Engineer mode: decisions are recorded as the engineer "
                                      "who unlocked it" if engineer else
                                      "Decisions are saved under this name")
        self._user_changed(self.session.user)

    def _refuse(self, what: str) -> bool:
        if self.session.is_engineer:
            return False
        self._show_error(f"Only an engineer can {what}: unlock engineer mode first.")
        return True

    def _draw_roi_toggled(self, checked: bool) -> None:
        if checked and self._refuse("change the region of interest"):
            self.draw_roi_button.setChecked(False)
            return
        self.view.set_roi_editable(checked)

    def set_roi(self, roi: tuple[int, int, int, int] | None) -> bool:
        """A new region of interest (frame pixels; None: the whole frame): applied to the
        running inspection at once, saved in the workspace settings and audited. Engineers
        only; False when refused."""
        if self._refuse("change the region of interest") or self.workspace is None:
            return False
        live = self.workspace.config.live
        old = live.roi
        new = tuple(int(v) for v in roi) if roi is not None else None
        self.draw_roi_button.setChecked(False)
        if new == (tuple(old) if old is not None else None):
            return True
        try:
            live.roi = new  # type: ignore[assignment]
            self.workspace.save_config()
        except Exception as exc:  # a ConfigError or an OSError: say it, keep the old one
            live.roi = old
            self._show_error(f"The region of interest was not saved: {exc}")
            return False
        self.session.record(ROI_ACTION, old=list(old) if old else None,
                            new=list(new) if new else None)
        if self._life.worker is not None:
            self._life.worker.set_roi(new)  # type: ignore[arg-type]
        self.view.set_roi(new)  # type: ignore[arg-type]
        self._show_roi()
        return True

    def _show_roi(self) -> None:
        roi = self.workspace.config.live.roi if self.workspace is not None else None
        self.roi_label.setText("Region of interest: the whole frame" if roi is None else
                               "Region of interest: x {}, y {}, {} × {} px".format(*roi))
        self.clear_roi_button.setEnabled(roi is not None)

    def _slider_moved(self, name: str, value: int) -> None:
        if self._setting_sliders:
            return
        if self._refuse("change thresholds"):
            self._show_thresholds()
            return
        self._apply_threshold(name, value / 100.0)
        self._threshold_timer.start()

    def set_threshold(self, name: str, value: float) -> bool:
        """Set a class's threshold: applied to the running inspection at once, saved and
        audited with the old and new values. Engineers only; False when refused."""
        if self._refuse("change thresholds"):
            return False
        if name not in self.classes or not 0.0 <= value <= 1.0:
            self._show_error(f"A threshold is between 0 and 1, for a class of the model "
                             f"({', '.join(self.classes)}).")
            return False
        self._apply_threshold(name, round(float(value), 2))
        self._show_thresholds()
        return self._commit_thresholds()

    def _apply_threshold(self, name: str, value: float) -> None:
        assert self.workspace is not None
        old = self.thresholds.get(name, 0.0)
        if name in self._pending_thresholds:
            old = self._pending_thresholds[name][0]
        self._pending_thresholds[name] = (old, value)
        self.thresholds[name] = value
        verdict = self.workspace.config.live.verdict
        verdict.thresholds = {**verdict.thresholds, name: value}
        self._slider_values[name].setText(f"{value:.2f}")
        if self._life.worker is not None:
            self._life.worker.set_verdict(verdict)

    def _commit_thresholds(self) -> bool:
        """Save and audit the threshold changes made since the last save."""
        self._threshold_timer.stop()
        pending, self._pending_thresholds = self._pending_thresholds, {}
        changed = {name: (old, new) for name, (old, new) in pending.items() if old != new}
        if not changed or self.workspace is None:
            return True
        try:
            self.workspace.save_config()
        except Exception as exc:  # an OSError or ConfigError: the change stays in memory
            self._show_error(f"The thresholds were not saved: {exc}")
            return False
        for name, (old, new) in changed.items():
            self.session.record(actions.THRESHOLD, **{"class": name, "old": round(old, 4),
                                                      "new": round(new, 4)})
        return True

    def reset_thresholds(self) -> bool:
        """Back to the thresholds fitted with the model (the settings' overrides removed)."""
        if self._refuse("change thresholds") or self.workspace is None:
            return False
        self._commit_thresholds()
        verdict = self.workspace.config.live.verdict
        if not verdict.thresholds:
            return True
        old = dict(verdict.thresholds)
        verdict.thresholds = {}
        try:
            self.workspace.save_config()
        except Exception as exc:
            verdict.thresholds = old
            self._show_error(f"The thresholds were not saved: {exc}")
            return False
        fitted = self.fitted_thresholds or {}
        for name, value in old.items():
            new = fitted.get(name, verdict.default_threshold)
            self.thresholds[name] = new
            self.session.record(actions.THRESHOLD, **{"class": name, "old": round(value, 4),
                                                      "new": round(new, 4), "reset": True})
        if self._life.worker is not None:
            self._life.worker.set_verdict(verdict)
        self._show_thresholds()
        return True

    # ------------------------------------------------------------------ helpers
    def _show_error(self, message: str) -> None:
        self.message_bar.show_error(message)
        self.error_shown.emit(message)

    def _update_actions(self) -> None:
        running = self.running
        has_workspace = self.workspace is not None
        self.start_button.setEnabled(has_workspace and not running)
        self.stop_button.setEnabled(running)
        self.source_combo.setEnabled(not running)
        self.target_edit.setEnabled(not running)
        self.browse_button.setEnabled(not running)
        has_classes = bool(self.classes)
        self.confirm_button.setEnabled(has_classes)
        for button in self._class_buttons:
            button.setEnabled(has_classes)
