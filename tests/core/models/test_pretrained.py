"""ImageNet weights: found in the right order, checked, loaded safely; no weights → a warning."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from torchvision.models import resnet50

from inspector.config import ModelConfig
from inspector.core.errors import CheckpointError
from inspector.core.models import pretrained
from inspector.core.models.pretrained import (
    ENV_VAR,
    IMAGENET_FILE,
    NO_WEIGHTS_WARNING,
    WeightsSource,
    find_imagenet_weights,
    load_imagenet_weights,
    prepare_model,
)
from inspector.core.models.resnet_cbam import ResNetCBAM


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


class FakeWeights:
    def __init__(self, path: Path, state: dict[str, torch.Tensor]) -> None:
        self.path = path
        self.state = state
        self.sha256 = hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def fake_weights(tmp_path_factory: pytest.TempPathFactory) -> FakeWeights:
    """A random torchvision ResNet-50 state dict saved as torchvision saves its files."""
    torch.manual_seed(0)
    state = resnet50(weights=None).state_dict()
    for key, value in state.items():
        if key.endswith(("running_mean", "running_var")):
            value.uniform_(0.5, 1.5)
    path = tmp_path_factory.mktemp("weights") / "resnet50-fake.pth"
    torch.save(state, path)
    return FakeWeights(path, state)


@pytest.fixture(autouse=True)
def _no_user_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No environment variable, an empty torch hub directory, nothing bundled."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setattr(pretrained, "BUNDLED_PATH", tmp_path / "bundle" / IMAGENET_FILE)
    hub = tmp_path / "hub"
    hub.mkdir()
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(hub))
    return hub


@pytest.fixture
def trust(monkeypatch: pytest.MonkeyPatch):
    """trust(fake) makes the expected hash prefix that of a fake file."""

    def accept(fake: FakeWeights | Path) -> None:
        digest = (fake.sha256 if isinstance(fake, FakeWeights)
                  else hashlib.sha256(fake.read_bytes()).hexdigest())
        monkeypatch.setattr(pretrained, "IMAGENET_SHA256_PREFIX", digest[:8])

    return accept


def _assert_backbone_equals(model: ResNetCBAM, state: dict[str, torch.Tensor]) -> None:
    own = model.state_dict()
    for key, value in state.items():
        if not key.startswith("fc."):
            assert torch.equal(own[key], value), key


def test_loads_the_backbone(fake_weights: FakeWeights, trust) -> None:
    trust(fake_weights)
    model = ResNetCBAM(3)
    fc_before = model.fc.weight.detach().clone()
    load_imagenet_weights(model, WeightsSource(fake_weights.path, "config"))
    _assert_backbone_equals(model, fake_weights.state)
    assert torch.equal(model.fc.weight, fc_before)
    assert torch.count_nonzero(model.layer3[0].cbam.channel.fc2.weight) == 0


def test_wrong_hash_refused(fake_weights: FakeWeights) -> None:
    with pytest.raises(CheckpointError, match=r"not the IMAGENET1K_V2 file.*sha256"):
        load_imagenet_weights(ResNetCBAM(3), WeightsSource(fake_weights.path, "config"))


@pytest.mark.parametrize(("state", "complaint"), [
    ({"conv1.weight": torch.zeros(64, 3, 7, 7), "foo.weight": torch.zeros(1)}, "unexpected"),
    ({"conv1.weight": torch.zeros(1)}, "wrong shape"),
    ({"conv1.weight": torch.zeros(64, 3, 7, 7)}, "missing"),
])
def test_wrong_keys_refused(tmp_path: Path, trust, state: dict, complaint: str) -> None:
    path = tmp_path / "bad.pth"
    torch.save(state, path)
    trust(path)
    model = ResNetCBAM(3)
    conv_before = model.conv1.weight.detach().clone()
    with pytest.raises(CheckpointError, match=complaint):
        load_imagenet_weights(model, WeightsSource(path, "config"))
    assert torch.equal(model.conv1.weight, conv_before)  # left unchanged


class Payload:
    """Not a tensor: the restricted unpickler must refuse to build it."""

    def __reduce__(self):
        return (print, ("unpickled!",))


def test_never_a_full_unpickle(tmp_path: Path, trust) -> None:
    path = tmp_path / "evil.pth"
    torch.save({"conv1.weight": Payload()}, path)
    trust(path)
    with pytest.raises(CheckpointError, match="cannot be read"):
        load_imagenet_weights(ResNetCBAM(3), WeightsSource(path, "config"))


def test_safetensors_accepted(fake_weights: FakeWeights, tmp_path: Path) -> None:
    path = tmp_path / "resnet50.safetensors"
    save_file({k: v.contiguous() for k, v in fake_weights.state.items()}, str(path))
    model = ResNetCBAM(3)
    load_imagenet_weights(model, WeightsSource(path, "config"))
    _assert_backbone_equals(model, fake_weights.state)


def test_named_but_missing_files_are_errors(tmp_path: Path, monkeypatch) -> None:
    missing = tmp_path / "nowhere" / IMAGENET_FILE
    with pytest.raises(CheckpointError, match=r"model\.imagenet_weights.*nowhere"):
        find_imagenet_weights(missing)
    monkeypatch.setenv(ENV_VAR, str(missing))
    with pytest.raises(CheckpointError, match=ENV_VAR):
        find_imagenet_weights()
    with pytest.raises(CheckpointError, match="not a file"):
        find_imagenet_weights(tmp_path)


def test_search_order(tmp_path: Path, monkeypatch, _no_user_weights: Path) -> None:
    assert find_imagenet_weights() is None
    bundled = pretrained.BUNDLED_PATH  # what installer/build.py copies into the bundle
    bundled.parent.mkdir()
    bundled.write_bytes(b"placeholder")
    assert find_imagenet_weights() == WeightsSource(bundled, "bundled")
    cached = _no_user_weights / "checkpoints" / IMAGENET_FILE
    cached.parent.mkdir()
    cached.write_bytes(b"placeholder")
    assert find_imagenet_weights() == WeightsSource(cached, "torchvision cache")
    from_env = tmp_path / "env.pth"
    from_env.write_bytes(b"placeholder")
    monkeypatch.setenv(ENV_VAR, str(from_env))
    assert find_imagenet_weights() == WeightsSource(from_env, "environment")
    from_config = tmp_path / "config.pth"
    from_config.write_bytes(b"placeholder")
    assert find_imagenet_weights(from_config) == WeightsSource(from_config, "config")


def test_prepare_without_weights_warns_and_freezes_nothing() -> None:
    model, source, warnings = prepare_model(ModelConfig(), 3)
    assert source is None
    assert warnings == [NO_WEIGHTS_WARNING]
    assert model.frozen_stages == ()
    assert all(p.requires_grad for p in model.parameters())


def test_prepare_not_pretrained_looks_for_nothing(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "missing.pth"))  # would be an error if looked up
    model, source, warnings = prepare_model(ModelConfig(pretrained=False), 3)
    assert (source, warnings, model.frozen_stages) == (None, [], ())


def test_prepare_with_weights_from_the_environment(fake_weights: FakeWeights, trust,
                                                   monkeypatch) -> None:
    trust(fake_weights)
    monkeypatch.setenv(ENV_VAR, str(fake_weights.path))
    model, source, warnings = prepare_model(ModelConfig(), 4)
    assert source == WeightsSource(fake_weights.path, "environment")
    assert warnings == []
    assert model.frozen_stages == ("stem", "layer1", "layer2")
    assert not model.conv1.weight.requires_grad and model.layer3[0].conv1.weight.requires_grad
    _assert_backbone_equals(model, fake_weights.state)


def test_warning_tells_how_to_provide_the_file() -> None:
    for needle in ("random", "every layer", "model.imagenet_weights", ENV_VAR, IMAGENET_FILE,
                   "hub/checkpoints"):
        assert needle in NO_WEIGHTS_WARNING
