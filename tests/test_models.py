"""Tests of nntrain.models: shapes, layer structure, options, the features/head split."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from nntrain.models import MLP, BasicBlock, SmallCNN, SmallResNet


def _linears(model: nn.Module) -> list[nn.Linear]:
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


@pytest.mark.parametrize("depth", [0, 1, 3])
def test_mlp_depth_width_and_shapes(depth):
    model = MLP(64, 10, width=32, depth=depth)
    linears = _linears(model)
    assert len(linears) == depth + 1
    assert linears[0].in_features == 64 and linears[-1].out_features == 10
    assert all(lin.out_features == 32 for lin in linears[:-1])
    assert model(torch.randn(5, 64)).shape == (5, 10)
    assert model(torch.randn(5, 1, 8, 8)).shape == (5, 10)  # images are flattened


def test_mlp_features_head_split():
    model = MLP(64, 10, width=16, depth=2)
    x = torch.randn(4, 64)
    assert model.features(x).shape == (4, model.out_features)
    torch.testing.assert_close(model.head(model.features(x)), model(x))
    names = dict(model.named_modules())
    assert {"features.fc1", "features.act1", "features.fc2", "head"} <= set(names)


@pytest.mark.parametrize("name", ["relu", "tanh", "gelu", "selu", "leaky_relu"])
def test_mlp_activation_by_name(name):
    from nntrain.activations import ACTIVATIONS

    model = MLP(3, 2, width=4, depth=1, activation=name)
    model.head.weight.data = torch.eye(2, 4)
    model.head.bias.data.zero_()
    fc = model.features.fc1
    x = torch.randn(6, 3)
    expected = ACTIVATIONS[name](fc(x))[:, :2]
    torch.testing.assert_close(model(x), expected)


def test_mlp_unknown_activation_and_norm():
    with pytest.raises(ValueError):
        MLP(4, 2, activation="no-such-activation")
    with pytest.raises(ValueError, match="norm"):
        MLP(4, 2, norm="layer")


def test_mlp_batchnorm_and_dropout_layers():
    model = MLP(8, 3, width=16, depth=2, norm="batch", dropout=0.5)
    assert sum(isinstance(m, nn.BatchNorm1d) for m in model.modules()) == 2
    drops = [m for m in model.modules() if isinstance(m, nn.Dropout)]
    assert len(drops) == 2 and all(d.p == 0.5 for d in drops)
    x = torch.randn(10, 8)
    model.eval()
    torch.testing.assert_close(model(x), model(x))  # deterministic in eval mode
    model.train()
    assert not torch.equal(model(x), model(x))  # dropout is on in training mode


def test_mlp_init_callable_is_applied():
    def constant(model: nn.Module) -> None:
        for p in model.parameters():
            nn.init.constant_(p, 0.5)

    model = MLP(4, 2, width=3, depth=1, init=constant)
    assert all(bool((p == 0.5).all()) for p in model.parameters())


def test_mlp_init_scheme_by_name():
    torch.manual_seed(0)
    model = MLP(400, 10, width=400, depth=2, init="kaiming")
    std = float(model.features.fc2.weight.detach().std())
    assert std == pytest.approx((2 / 400) ** 0.5, rel=0.1)  # Kaiming: std = sqrt(2 / fan_in)
    assert float(model.features.fc2.bias.detach().abs().max()) == 0.0
    tanh = MLP(400, 10, width=400, depth=2, activation="tanh", init="xavier_normal")
    # Xavier with the tanh gain 5/3: std = gain * sqrt(2 / (fan_in + fan_out))
    std = float(tanh.features.fc2.weight.detach().std())
    assert std == pytest.approx(5 / 3 * (2 / 800) ** 0.5, rel=0.1)
    with pytest.raises(ValueError, match="scheme"):
        MLP(4, 2, init="no-such-scheme")


@pytest.mark.parametrize("size", [8, 32])
def test_small_cnn_shapes(size):
    model = SmallCNN(3, 10, widths=(8, 16))
    x = torch.randn(2, 3, size, size)
    assert model(x).shape == (2, 10)
    assert model.features(x).shape == (2, 16) == (2, model.out_features)
    assert sum(isinstance(m, nn.Conv2d) for m in model.modules()) == 4
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == 4
    assert not any(isinstance(m, nn.BatchNorm2d) for m in SmallCNN(1, 10, norm=None).modules())


def test_small_resnet_shapes_and_stages():
    model = SmallResNet(3, 10, widths=(8, 16, 32), blocks=(2, 1, 1))
    x = torch.randn(2, 3, 32, 32)
    assert model(x).shape == (2, 10)
    blocks = [m for m in model.modules() if isinstance(m, BasicBlock)]
    assert len(blocks) == 4
    assert model(torch.randn(2, 3, 8, 8)).shape == (2, 10)
    with pytest.raises(ValueError):
        SmallResNet(3, 10, widths=(8, 16), blocks=(1,))


def test_small_resnet_drop_path_linear_decay():
    model = SmallResNet(3, 10, widths=(8, 16), blocks=(2, 2), drop_path=0.2)
    rates = [m.drop_path for m in model.modules() if isinstance(m, BasicBlock)]
    assert rates == pytest.approx([0.05, 0.1, 0.15, 0.2])


def test_small_resnet_drop_path_only_in_training():
    torch.manual_seed(0)
    model = SmallResNet(3, 4, widths=(8,), blocks=(1,), drop_path=0.5)
    x = torch.randn(64, 3, 8, 8)
    model.eval()
    torch.testing.assert_close(model(x), model(x))
    model.train()
    assert not torch.equal(model(x), model(x))


def test_zero_init_residual_makes_blocks_identity():
    torch.manual_seed(0)
    model = SmallResNet(3, 10, widths=(8, 16), blocks=(2, 1), zero_init_residual=True).eval()
    for block in (m for m in model.modules() if isinstance(m, BasicBlock)):
        assert torch.count_nonzero(block.bn2.weight) == 0
        x = torch.randn(2, block.conv1.in_channels, 8, 8)
        torch.testing.assert_close(block(x), block.act2(block.shortcut(x)))
    default = SmallResNet(3, 10, widths=(8,), blocks=(1,))
    assert all(bool((m.bn2.weight == 1).all())
               for m in default.modules() if isinstance(m, BasicBlock))


@pytest.mark.parametrize("factory", [
    lambda: MLP(64, 10, norm="batch", dropout=0.1),
    lambda: SmallCNN(1, 10, widths=(4, 8)),
    lambda: SmallResNet(1, 10, widths=(4, 8), blocks=(1, 1), drop_path=0.1),
])
def test_models_on_device_keep_dtype(factory, device):
    model = factory().to(device)
    x = torch.randn(4, 1, 8, 8, device=device)
    out = model(x)
    assert out.device.type == device.type and out.dtype == torch.float32
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model64 = factory().double().to(device)
    assert model64(x.double()).dtype == torch.float64
