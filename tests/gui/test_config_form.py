"""ConfigForm: editors built from pydantic fields, editing the very object they were given."""

from __future__ import annotations

from PySide6.QtCore import Qt

from inspector.config import AugmentConfig, InspectorConfig, LossConfig, SplitConfig, TrainConfig
from inspector.gui.widgets.config_form import (
    BoolEditor,
    CheckListEditor,
    ChoiceEditor,
    ChoiceOrListEditor,
    ConfigForm,
    FloatEditor,
    IntEditor,
    TextEditor,
)


def type_into(qtbot, editor, text: str) -> None:
    """Select the editor's text, type `text` and press Enter, as a user does."""
    line = editor.lineEdit() if hasattr(editor, "lineEdit") else editor
    line.selectAll()
    qtbot.keyClicks(line, text)
    qtbot.keyClick(line, Qt.Key.Key_Return)


def test_editors_follow_the_field_types_bounds_and_descriptions(qtbot):
    config = InspectorConfig()
    augment = ConfigForm(config.augment)
    model = ConfigForm(config.model)
    train = ConfigForm(config.train, choices={"device": ["auto", "cpu", "cuda"]})
    loss = ConfigForm(config.train.loss)
    for form in (augment, model, train, loss):
        qtbot.addWidget(form)
    assert isinstance(augment.editors["flips"], BoolEditor)
    blur = augment.editors["blur_max"]
    assert isinstance(blur, IntEditor)
    assert (blur.minimum(), blur.maximum()) == (3, 31)  # ge=3, le=31
    assert isinstance(augment.editors["rotate"], FloatEditor)
    assert augment.editors["rotate"].maximum() == 180.0
    assert isinstance(model.editors["cbam_stages"], CheckListEditor)
    assert set(model.editors["frozen_stages"].boxes) == {"stem", "layer1", "layer2", "layer3",
                                                         "layer4"}
    assert isinstance(model.editors["imagenet_weights"], TextEditor)
    assert isinstance(train.editors["sampler"], ChoiceEditor)
    assert isinstance(loss.editors["alpha"], ChoiceOrListEditor)
    # the description is the tooltip, on the editor and its label
    description = AugmentConfig.model_fields["rotate"].description
    assert augment.editors["rotate"].toolTip() == description
    assert augment.row_labels["rotate"].toolTip() == description
    # what is shown is the object's value
    assert augment.editors["rotate"].value() == config.augment.rotate
    assert model.editors["cbam_stages"].value_for_model() == ["layer3", "layer4"]
    assert train.editors["workers"].text() == "auto"  # None


def test_editing_a_spin_box_changes_the_object(qtbot):
    config = TrainConfig()
    form = ConfigForm(config)
    qtbot.addWidget(form)
    form.show()
    with qtbot.waitSignal(form.edited, timeout=1000) as blocker:
        type_into(qtbot, form.editors["epochs"], "12")
    assert blocker.args == ["epochs"]
    assert config.epochs == 12
    type_into(qtbot, form.editors["lr_head"], "0.0005")
    assert config.lr_head == 0.0005
    assert form.editors["lr_head"].text() == "0.0005"
    # arrows step learning rates through 1-2-5 decades
    qtbot.keyClick(form.editors["lr_head"], Qt.Key.Key_Up)
    assert config.lr_head == 0.001
    qtbot.keyClick(form.editors["lr_head"], Qt.Key.Key_Down)
    qtbot.keyClick(form.editors["lr_head"], Qt.Key.Key_Down)
    assert abs(config.lr_head - 0.0002) < 1e-12
    assert not form.has_errors


def test_an_invalid_value_shows_an_error_and_leaves_the_object_unchanged(qtbot):
    config = TrainConfig()
    form = ConfigForm(config)
    qtbot.addWidget(form)
    form.show()
    with qtbot.waitSignal(form.error_changed, timeout=1000) as blocker:
        type_into(qtbot, form.editors["lr_head"], "0")  # lr_head must be > 0
    assert blocker.args[0] == "lr_head"
    assert config.lr_head == 1e-3
    assert form.error("lr_head") == "Input should be greater than 0"
    assert form.error_labels["lr_head"].isVisible()
    assert form.has_errors
    # a valid value clears the error and is applied
    type_into(qtbot, form.editors["lr_head"], "0.01")
    assert config.lr_head == 0.01
    assert not form.error_labels["lr_head"].isVisible()
    assert not form.has_errors
    # the pattern of a str field
    form_device = ConfigForm(config, ["device"], choices={"device": ["auto", "cpu", "cuda"]})
    qtbot.addWidget(form_device)
    form_device.show()
    type_into(qtbot, form_device.editors["device"], "gpu")
    assert config.device == "auto"
    assert "pattern" in form_device.error("device")
    type_into(qtbot, form_device.editors["device"], "cuda:1")
    assert config.device == "cuda:1"


def test_a_model_level_check_is_shown_at_the_field_that_broke_it(qtbot):
    split = SplitConfig()
    form = ConfigForm(split)
    qtbot.addWidget(form)
    form.show()
    type_into(qtbot, form.editors["train"], "0.9")
    assert split.train == 0.7  # 0.9 + 0.15 + 0.15 is not 1
    assert "must be 1.0" in form.error("train")


def test_check_lists_and_alpha_values(qtbot):
    config = InspectorConfig()
    model_form = ConfigForm(config.model)
    loss_form = ConfigForm(config.train.loss)
    for form in (model_form, loss_form):
        qtbot.addWidget(form)
        form.show()
    qtbot.mouseClick(model_form.editors["cbam_stages"].boxes["layer2"], Qt.MouseButton.LeftButton)
    assert config.model.cbam_stages == ["layer2", "layer3", "layer4"]
    model_form.editors["frozen_stages"].boxes["stem"].setChecked(False)
    assert config.model.frozen_stages == ["layer1", "layer2"]
    alpha = loss_form.editors["alpha"]
    alpha.combo.setCurrentIndex(alpha.combo.findData("inverse_frequency"))
    assert config.train.loss.alpha == "inverse_frequency"
    alpha.combo.setCurrentIndex(alpha.combo.count() - 1)  # "values…"
    assert alpha.text.isVisibleTo(loss_form)
    type_into(qtbot, alpha.text, "1, 2.5, 0")
    assert config.train.loss.alpha == "inverse_frequency"  # 0 is refused
    assert "above 0" in loss_form.error("alpha")
    type_into(qtbot, alpha.text, "1, 2.5, 3")
    assert config.train.loss.alpha == [1.0, 2.5, 3.0]
    type_into(qtbot, alpha.text, "1, x")
    assert config.train.loss.alpha == [1.0, 2.5, 3.0]
    assert "numbers" in loss_form.error("alpha")


def test_modified_revert_and_a_new_object(qtbot):
    loss = LossConfig()
    form = ConfigForm(loss)
    qtbot.addWidget(form)
    form.show()
    assert not form.is_modified
    with qtbot.waitSignal(form.modified_changed, timeout=1000) as blocker:
        type_into(qtbot, form.editors["gamma"], "3.5")
    assert blocker.args == [True]
    assert form.is_modified and loss.gamma == 3.5
    form.revert()
    assert loss.gamma == 2.0  # the same object, reverted in place
    assert form.editors["gamma"].value() == 2.0
    assert not form.is_modified
    other = LossConfig(gamma=1.0)
    form.set_model(other)
    assert form.model is other and form.editors["gamma"].value() == 1.0
    type_into(qtbot, form.editors["gamma"], "4")
    assert other.gamma == 4.0 and loss.gamma == 2.0
    form.mark_saved()
    assert not form.is_modified
