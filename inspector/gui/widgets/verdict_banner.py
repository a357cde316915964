"""The verdict, readable from a metre away: PASS (green), FAIL (red) or REVIEW (amber), huge.

The colours are the overlay's (core.inference.overlay.VERDICT_COLOURS), chosen to stay apart for
the common colour-vision deficiencies; the word itself carries the verdict too. A second, smaller
line says what is behind it (class and confidence, or why it is a REVIEW).
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from inspector.core.inference.overlay import VERDICT_COLOURS

COLOURS = {str(verdict): QColor(*rgb) for verdict, rgb in VERDICT_COLOURS.items()}
TEXT_COLOURS = {"PASS": QColor("white"), "FAIL": QColor("white"), "REVIEW": QColor(20, 20, 20)}
IDLE_COLOUR = QColor(110, 112, 118)
VERDICT_POINTS = 54.0  # the word: ~19 mm tall at 96 dpi, legible at a metre and beyond
DETAIL_POINTS = 17.0


class VerdictBanner(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.verdict: str | None = None
        self.detail = ""
        self.idle_text = "READY"
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(self.sizeHint().height())
        self.setAccessibleName("Verdict")

    def set_verdict(self, verdict: str | None, detail: str = "") -> None:
        if verdict == self.verdict and detail == self.detail:
            return
        self.verdict, self.detail = verdict, detail
        self.setAccessibleDescription(f"{verdict or self.idle_text} {detail}".strip())
        self.update()

    def set_idle(self, text: str = "READY", detail: str = "") -> None:
        self.idle_text = text
        self.set_verdict(None, detail)

    def text(self) -> str:
        return self.verdict or self.idle_text

    def colour(self) -> QColor:
        return COLOURS.get(self.verdict or "", IDLE_COLOUR)

    def _fonts(self) -> tuple[QFont, QFont]:
        big = QFont(self.font())
        big.setPointSizeF(VERDICT_POINTS)
        big.setBold(True)
        small = QFont(self.font())
        small.setPointSizeF(DETAIL_POINTS)
        return big, small

    def sizeHint(self) -> QSize:  # noqa: N802
        big, small = self._fonts()
        height = QFontMetrics(big).height() + QFontMetrics(small).height() + 20
        return QSize(QFontMetrics(big).horizontalAdvance("REVIEW") + 40, height)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.colour())
        painter.drawRoundedRect(self.rect(), 8, 8)
        big, small = self._fonts()
        text = self.text()
        # shrink the word only if the banner is too narrow for it (never below 2/3)
        metrics = QFontMetrics(big)
        room = self.width() - 24
        if metrics.horizontalAdvance(text) > room > 0:
            big.setPointSizeF(max(VERDICT_POINTS * 2 / 3,
                                  VERDICT_POINTS * room / metrics.horizontalAdvance(text)))
        small_height = QFontMetrics(small).height() if self.detail else 0
        word_rect = QRect(0, 6, self.width(), self.height() - small_height - 12)
        painter.setPen(TEXT_COLOURS.get(self.verdict or "", QColor("white")))
        painter.setFont(big)
        painter.drawText(word_rect, Qt.AlignmentFlag.AlignCenter, text)
        if self.detail:
            painter.setFont(small)
            detail_rect = QRect(8, self.height() - small_height - 8, self.width() - 16,
                                small_height)
            elided = QFontMetrics(small).elidedText(self.detail, Qt.TextElideMode.ElideRight,
                                                    detail_rect.width())
            painter.drawText(detail_rect, Qt.AlignmentFlag.AlignCenter, elided)
        painter.end()
