"""nntrain.init against torch.nn.init (same generator, same numbers) and the lectures' table."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from nntrain import init as I
from nntrain.models import MLP, BasicBlock, SmallResNet

WEIGHT_SHAPES = [(3, 5), (64, 32), (16, 8, 3), (32, 16, 3, 3), (4, 2, 3, 3, 3), (1, 1)]


@pytest.mark.parametrize("shape", WEIGHT_SHAPES, ids=str)
def test_fans_match_torch(shape):
    expected = nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert I.calculate_fan_in_and_fan_out(shape) == expected
    assert I.calculate_fan_in_and_fan_out(torch.Size(shape)) == expected
    assert I.calculate_fan_in_and_fan_out(torch.empty(shape)) == expected


def test_conv_fan_in_is_kernel_area_times_input_channels():
    conv = nn.Conv2d(16, 32, kernel_size=5)
    assert I.calculate_fan_in_and_fan_out(conv.weight) == (5 * 5 * 16, 5 * 5 * 32)


@pytest.mark.parametrize("shape", [(), (5,)], ids=str)
def test_fans_reject_fewer_than_two_dims(shape):
    with pytest.raises(ValueError):
        I.calculate_fan_in_and_fan_out(shape)
    with pytest.raises(ValueError):
        I.calculate_fan_in_and_fan_out(torch.empty(shape))


GAIN_CASES = [
    ("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None),
    ("conv_transpose1d", None), ("conv_transpose2d", None), ("conv_transpose3d", None),
    ("sigmoid", None), ("tanh", None), ("relu", None), ("selu", None), ("leaky_relu", None),
    ("leaky_relu", 0), ("leaky_relu", 0.2), ("leaky_relu", 1), ("leaky_relu", 3.5),
]  # fmt: skip


@pytest.mark.parametrize(("name", "param"), GAIN_CASES)
def test_gains_match_torch(name, param):
    assert I.calculate_gain(name, param) == pytest.approx(
        nn.init.calculate_gain(name, param), rel=1e-15
    )


def test_gain_values_from_the_papers():
    assert I.calculate_gain("relu") == math.sqrt(2)  # He et al. 2015: the factor 2
    assert I.calculate_gain("tanh") == 5 / 3


@pytest.mark.parametrize(
    ("name", "param"),
    [("gelu", None), ("softmax", None), ("leaky_relu", True), ("leaky_relu", "0.1")],
)
def test_gain_rejects_bad_arguments(name, param):
    with pytest.raises(ValueError):
        I.calculate_gain(name, param)


INIT_CASES = [
    ("xavier_uniform_", {}),
    ("xavier_uniform_", {"gain": 5 / 3}),
    ("xavier_normal_", {}),
    ("xavier_normal_", {"gain": math.sqrt(2)}),
    ("kaiming_uniform_", {}),
    ("kaiming_uniform_", {"a": math.sqrt(5)}),  # nn.Linear's default
    ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"}),
    ("kaiming_normal_", {}),
    ("kaiming_normal_", {"nonlinearity": "relu"}),
    ("kaiming_normal_", {"a": 0.2, "mode": "fan_out"}),
    ("kaiming_normal_", {"nonlinearity": "tanh"}),
]


@pytest.mark.parametrize(("fn", "kw"), INIT_CASES, ids=lambda v: str(v))
@pytest.mark.parametrize("shape", WEIGHT_SHAPES, ids=str)
def test_init_draws_exactly_what_torch_draws(fn, kw, shape, device):
    for dtype in (torch.float32, torch.float64):
        ours = torch.empty(shape, dtype=dtype, device=device)
        ref = torch.empty(shape, dtype=dtype, device=device)
        out = getattr(I, fn)(ours, **kw, generator=torch.Generator(device).manual_seed(7))
        getattr(nn.init, fn)(ref, **kw, generator=torch.Generator(device).manual_seed(7))
        assert out is ours  # in place, returns the tensor
        assert out.dtype == dtype and out.device.type == torch.device(device).type
        torch.testing.assert_close(ours, ref, rtol=0, atol=0)


def _expected_scale(fn: str, kw: dict, shape) -> float:
    """The std (normal) or bound (uniform) the formulas prescribe."""
    fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    if fn.startswith("xavier"):
        std = kw.get("gain", 1.0) * math.sqrt(2.0 / (fan_in + fan_out))
    else:
        fan = fan_out if kw.get("mode") == "fan_out" else fan_in
        std = nn.init.calculate_gain(kw.get("nonlinearity", "leaky_relu"), kw.get("a", 0)) / (
            math.sqrt(fan)
        )
    return std * math.sqrt(3) if fn.endswith("uniform_") else std


@pytest.mark.parametrize(("fn", "kw"), INIT_CASES, ids=lambda v: str(v))
def test_init_moments_and_bounds(fn, kw):
    shape = (256, 128, 3, 3)  # 294912 draws: the sample std is within 0.5 % of sigma
    w = getattr(I, fn)(torch.empty(shape), **kw, generator=torch.Generator().manual_seed(0))
    scale = _expected_scale(fn, kw, shape)
    std = scale / math.sqrt(3) if fn.endswith("uniform_") else scale
    assert abs(w.mean().item()) < 0.01 * std
    assert w.std().item() == pytest.approx(std, rel=0.01)
    if fn.endswith("uniform_"):
        assert w.abs().max().item() <= scale
        assert w.abs().max().item() > 0.999 * scale


@pytest.mark.parametrize(("fn", "kw"), INIT_CASES[:1] + INIT_CASES[4:5] + INIT_CASES[7:8])
def test_init_fills_parameters_without_autograd(fn, kw):
    layer = nn.Linear(20, 10)
    out = getattr(I, fn)(layer.weight, **kw)
    assert out is layer.weight and out.grad_fn is None and out.requires_grad


@pytest.mark.parametrize("fn", ["kaiming_uniform_", "kaiming_normal_"])
def test_kaiming_rejects_bad_arguments(fn):
    with pytest.raises(ValueError):
        getattr(I, fn)(torch.empty(3, 4), mode="fan_avg")
    with pytest.raises(ValueError):
        getattr(I, fn)(torch.empty(3, 4), nonlinearity="swishy")
    with pytest.raises(ValueError):
        getattr(I, fn)(torch.empty(5))
    with pytest.warns(UserWarning):
        empty = torch.empty(0, 3)
        assert getattr(I, fn)(empty) is empty


@pytest.mark.parametrize("fn", ["xavier_uniform_", "xavier_normal_"])
def test_xavier_rejects_one_dimensional_tensors(fn):
    with pytest.raises(ValueError):
        getattr(I, fn)(torch.empty(5))


# ------------------------------------------------------------------- init_weights_
def test_init_weights_schemes_on_an_mlp():
    model = MLP(64, 10, width=256, depth=3)
    I.init_weights_(model, "zeros")
    assert all(p.abs().sum() == 0 for p in model.parameters())

    I.init_weights_(model, "small", std=0.01, generator=torch.Generator().manual_seed(0))
    w = model.features.fc2.weight
    assert w.std().item() == pytest.approx(0.01, rel=0.02)
    assert model.features.fc2.bias.abs().sum() == 0

    I.init_weights_(model, "kaiming", generator=torch.Generator().manual_seed(3))
    gen = torch.Generator().manual_seed(3)
    for layer in [model.features.fc1, model.features.fc2, model.features.fc3, model.head]:
        expected = nn.init.kaiming_normal_(
            torch.empty_like(layer.weight), nonlinearity="relu", generator=gen
        )
        torch.testing.assert_close(layer.weight, expected, rtol=0, atol=0)

    gen = torch.Generator().manual_seed(4)
    I.init_weights_(model, "xavier", nonlinearity="tanh", generator=gen)
    bound = 5 / 3 * math.sqrt(6 / (256 + 256))
    assert model.features.fc2.weight.abs().max() <= bound
    assert model.features.fc2.weight.abs().max() > 0.99 * bound

    # default Xavier gain is 1 (Glorot); draws in module order, as torch.nn.init would
    I.init_weights_(model, "xavier_normal", generator=torch.Generator().manual_seed(5))
    gen = torch.Generator().manual_seed(5)
    for layer in [model.features.fc1, model.features.fc2, model.features.fc3, model.head]:
        expected = nn.init.xavier_normal_(torch.empty_like(layer.weight), generator=gen)
        torch.testing.assert_close(layer.weight, expected, rtol=0, atol=0)


def test_init_weights_rejects_unknown_scheme_and_leaves_norm_layers():
    model = MLP(8, 3, width=16, depth=2, norm="batch")
    with pytest.raises(ValueError):
        I.init_weights_(model, "orthogonal")
    with pytest.raises(ValueError):
        I.init_weights_(model, "small", std=0.0)
    I.init_weights_(model, "zeros")
    assert torch.equal(model.features.norm1.weight, torch.ones(16))


def test_zeros_init_does_not_break_symmetry():
    # every hidden unit of a zero-initialised layer gets the same gradient
    model = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3))
    I.init_weights_(model, "zeros")
    x = torch.randn(8, 5, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    nn.functional.cross_entropy(model(x), y).backward()
    g = model[0].weight.grad
    assert torch.equal(g, g[:1].expand_as(g))  # identical rows (here all zero)
    assert torch.equal(model[2].weight.grad[:, 0:1].expand(3, 4), model[2].weight.grad)


# ------------------------------------------------------------------- residual zero init
class _Block(nn.Module):
    def __init__(self, width: int, with_norm: bool) -> None:
        super().__init__()
        self.fc1 = nn.Linear(width, width)
        self.fc2 = nn.Linear(width, width)
        self.norm = nn.LayerNorm(width) if with_norm else None
        self.shortcut = nn.Identity()

    def forward(self, x):
        branch = self.fc2(torch.relu(self.fc1(x)))
        if self.norm is not None:
            branch = self.norm(branch)
        return self.shortcut(x) + branch


@pytest.mark.parametrize("with_norm", [False, True])
def test_zero_init_residual_makes_blocks_identity(with_norm):
    model = nn.Sequential(*[_Block(32, with_norm) for _ in range(4)])
    x = torch.randn(64, 32, generator=torch.Generator().manual_seed(0))
    assert not torch.allclose(model(x), x)
    assert I.zero_init_residual_(model) is model
    torch.testing.assert_close(model(x), x, rtol=0, atol=0)
    assert model[0].fc1.weight.abs().sum() > 0  # the first layer of the branch keeps its init


def test_zero_init_residual_on_small_resnet_and_zero_init_last_hook():
    torch.manual_seed(0)
    net = SmallResNet(3, 10, widths=(8, 16), blocks=(2, 1))
    I.zero_init_residual_(net)
    bn2 = [m.bn2 for m in net.modules() if hasattr(m, "bn2")]
    assert len(bn2) == 3 and all(torch.equal(b.weight, torch.zeros_like(b.weight)) for b in bn2)
    # the shortcut's BatchNorm is untouched
    shortcuts = [m.shortcut for m in net.modules() if isinstance(m, BasicBlock)]
    shortcut_bn = [s[1] for s in shortcuts if isinstance(s, nn.Sequential)]
    assert shortcut_bn
    assert all(torch.equal(b.weight, torch.ones_like(b.weight)) for b in shortcut_bn)

    class Hooked(nn.Module):
        def __init__(self):
            super().__init__()
            self.called = False

        def zero_init_last(self):
            self.called = True

    hooked = nn.Sequential(Hooked())
    I.zero_init_residual_(hooked)
    assert hooked[0].called
    with pytest.raises(ValueError):
        I.zero_init_residual_(MLP(4, 2, width=8, depth=2))


def test_residual_variance_grows_without_zero_init():
    # Var(x + F(x)) ≈ 2 Var(x) for a Kaiming branch; = Var(x) with the last layer zeroed.
    torch.manual_seed(0)
    width, x = 512, torch.randn(4096, 512, generator=torch.Generator().manual_seed(1))
    model = nn.Sequential(*[_Block(width, with_norm=False) for _ in range(3)])
    for block in model:
        I.kaiming_normal_(block.fc1.weight, nonlinearity="relu")
        I.kaiming_normal_(block.fc2.weight, nonlinearity="linear")
        nn.init.zeros_(block.fc1.bias), nn.init.zeros_(block.fc2.bias)
    with torch.no_grad():
        variances = [x.var().item()]
        h = x
        for block in model:
            h = block(h)
            variances.append(h.var().item())
    ratios = [b / a for a, b in zip(variances, variances[1:], strict=False)]
    assert all(1.8 < r < 2.2 for r in ratios), ratios
    I.zero_init_residual_(model)
    with torch.no_grad():
        assert model(x).var().item() == pytest.approx(variances[0], rel=1e-6)


# ------------------------------------------------------------------- activation statistics
def test_reproduces_the_lectures_table():
    stats = I.activation_statistics(
        width=4096, depth=6, batch=16, init="small", std=0.01, nonlinearity="tanh",
        generator=torch.Generator().manual_seed(0),
    )  # fmt: skip
    lecture = [0.49, 0.29, 0.18, 0.11, 0.07, 0.05]
    assert len(stats.std) == 6
    for ours, theirs in zip(stats.std, lecture, strict=True):
        assert abs(ours - theirs) <= 0.02
    assert all(abs(m) < 0.01 for m in stats.mean)  # "mean = 0.00"


def test_other_initialisations_of_the_experiment(device):
    gen = lambda: torch.Generator(device).manual_seed(0)  # noqa: E731
    run = lambda **kw: I.activation_statistics(  # noqa: E731
        width=1024, generator=gen(), device=device, **kw
    )
    big = run(std=0.1)  # std·sqrt(width) = 3.2 as the lectures' 0.05 at width 4096: saturated
    assert min(big.std) > 0.8
    xavier_tanh = run(init="xavier")
    assert min(xavier_tanh.std) > 0.25 and max(xavier_tanh.std) < 0.7
    xavier_relu = run(init="xavier", nonlinearity="relu")
    assert xavier_relu.std[-1] < 0.25 * xavier_relu.std[0]  # halves in variance each layer
    kaiming_relu = run(init="kaiming", nonlinearity="relu")
    assert 0.85 < kaiming_relu.std[-1] / kaiming_relu.std[0] < 1.15
    zeros = run(init="zeros")
    assert max(zeros.std) == 0.0


def test_activation_statistics_returns_activations_and_validates():
    stats = I.activation_statistics(width=64, depth=3, batch=5, return_activations=True,
                                    generator=torch.Generator().manual_seed(0))  # fmt: skip
    assert [tuple(a.shape) for a in stats.activations] == [(5, 64)] * 3
    for a, m, s in zip(stats.activations, stats.mean, stats.std, strict=True):
        assert a.mean().item() == pytest.approx(m)
        assert a.std(correction=0).item() == pytest.approx(s)
    assert "layer 3" in str(stats)
    custom = I.activation_statistics(width=64, depth=2, init=lambda w, g: w.fill_(0.0))
    assert custom.std == [0.0, 0.0]
    with pytest.raises(ValueError):
        I.activation_statistics(init="orthogonal")
    with pytest.raises(ValueError):
        I.activation_statistics(nonlinearity="sinc")
    with pytest.raises(ValueError):
        I.activation_statistics(depth=0)
