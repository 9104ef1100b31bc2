"""nntrain.activations against PyTorch's own implementations (float64, tight tolerances).

Forward values are compared with torch / torch.nn.functional, derivatives with autograd
through torch's functions (including the kinks at x == 0), over many shapes and the edge
values 0, ±tiny, ±1, ±20, ±30, ±1e2, ±1e4.  Functions torch lacks (GELU's sigmoid form,
maxout) are checked on exact algebraic properties.
"""

from __future__ import annotations

import math
import zlib

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nntrain import activations as A

EDGE_VALUES = [
    0.0, -0.0, 1e-300, -1e-300, 1e-12, -1e-12, 1e-6, -1e-6, 0.5, -0.5, 1.0, -1.0, 2.0, -2.0,
    5.0, -5.0, 10.0, -10.0, 19.9, 20.0, 20.1, -20.0, 30.0, -30.0, 40.0, -40.0, 100.0, -100.0,
    700.0, -700.0, 1e4, -1e4,
]  # fmt: skip
SHAPES = [(), (1,), (7,), (3, 4), (2, 3, 5), (2, 3, 4, 5), (0,), (0, 3)]

# (name, nntrain forward, torch forward, nntrain backward, kwargs)
CASES = [
    ("sigmoid", A.sigmoid, torch.sigmoid, A.sigmoid_backward, {}),
    ("tanh", A.tanh, torch.tanh, A.tanh_backward, {}),
    ("relu", A.relu, F.relu, A.relu_backward, {}),
    ("leaky_relu", A.leaky_relu, F.leaky_relu, A.leaky_relu_backward, {}),
    ("leaky_relu_0.2", A.leaky_relu, F.leaky_relu, A.leaky_relu_backward, {"negative_slope": 0.2}),
    ("elu", A.elu, F.elu, A.elu_backward, {}),
    ("elu_0.5", A.elu, F.elu, A.elu_backward, {"alpha": 0.5}),
    ("elu_2", A.elu, F.elu, A.elu_backward, {"alpha": 2.0}),
    ("selu", A.selu, F.selu, A.selu_backward, {}),
    ("gelu", A.gelu, F.gelu, A.gelu_backward, {}),
    ("gelu_tanh", A.gelu, F.gelu, A.gelu_backward, {"approximate": "tanh"}),
    ("silu", A.silu, F.silu, A.silu_backward, {}),
    ("mish", A.mish, F.mish, A.mish_backward, {}),
    ("softplus", A.softplus, F.softplus, A.softplus_backward, {}),
    ("softplus_b2_t5", A.softplus, F.softplus, A.softplus_backward, {"beta": 2.0, "threshold": 5}),
    ("softplus_b0.5", A.softplus, F.softplus, A.softplus_backward, {"beta": 0.5}),
    ("softsign", A.softsign, F.softsign, A.softsign_backward, {}),
]
IDS = [c[0] for c in CASES]

# float64: results agree to a few ulps relative, and to 1e-14 absolutely where a derivative is a
# sum of O(1) terms that cancel to ~0 (e.g. GELU's in its negative tail).
TIGHT = {"rtol": 1e-12, "atol": 1e-14}


def _torch_grad(torch_fn, x: torch.Tensor, g: torch.Tensor, kw: dict) -> torch.Tensor:
    xr = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(torch_fn(xr, **kw), xr, g)
    return grad


def _random_input(shape, generator, dtype=torch.float64, device="cpu") -> torch.Tensor:
    x = torch.randn(shape, generator=generator, dtype=dtype) * 4.0
    return x.to(device)


@pytest.mark.parametrize(("name", "ours", "ref", "ours_bw", "kw"), CASES, ids=IDS)
def test_forward_matches_torch_on_edge_values(name, ours, ref, ours_bw, kw):
    x = torch.tensor(EDGE_VALUES, dtype=torch.float64)
    torch.testing.assert_close(ours(x, **kw), ref(x, **kw), **TIGHT)


@pytest.mark.parametrize(("name", "ours", "ref", "ours_bw", "kw"), CASES, ids=IDS)
def test_backward_matches_autograd_on_edge_values(name, ours, ref, ours_bw, kw):
    x = torch.tensor(EDGE_VALUES, dtype=torch.float64)
    g = torch.linspace(-2.0, 3.0, x.numel(), dtype=torch.float64)
    torch.testing.assert_close(ours_bw(g, x, **kw), _torch_grad(ref, x, g, kw), **TIGHT)


@pytest.mark.parametrize(("name", "ours", "ref", "ours_bw", "kw"), CASES, ids=IDS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_matches_torch_over_shapes(name, ours, ref, ours_bw, kw, shape):
    gen = torch.Generator().manual_seed(zlib.crc32(f"{name}{shape}".encode()))
    x = _random_input(shape, gen)
    g = torch.randn(shape, generator=gen, dtype=torch.float64)
    out = ours(x, **kw)
    assert out.shape == x.shape and out.dtype == x.dtype
    torch.testing.assert_close(out, ref(x, **kw), **TIGHT)
    torch.testing.assert_close(ours_bw(g, x, **kw), _torch_grad(ref, x, g, kw), **TIGHT)


@pytest.mark.parametrize(("name", "ours", "ref", "ours_bw", "kw"), CASES, ids=IDS)
def test_autograd_through_ours_uses_the_explicit_derivative(name, ours, ref, ours_bw, kw):
    x = torch.tensor(EDGE_VALUES, dtype=torch.float64, requires_grad=True)
    g = torch.linspace(-1.0, 1.0, x.numel(), dtype=torch.float64)
    (grad,) = torch.autograd.grad(ours(x, **kw), x, g)
    torch.testing.assert_close(grad, _torch_grad(ref, x, g, kw), **TIGHT)


@pytest.mark.parametrize(("name", "ours", "ref", "ours_bw", "kw"), CASES, ids=IDS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
def test_finite_for_huge_inputs_and_device_dtype_kept(name, ours, ref, ours_bw, kw, dtype, device):
    big = 6e4 if dtype == torch.float16 else 1e4
    x = torch.tensor([-big, -1e3, -100.0, -30.0, 0.0, 30.0, 100.0, 1e3, big], dtype=dtype)
    x = x.to(device)
    before = x.clone()
    out = ours(x, **kw)
    grad = ours_bw(torch.ones_like(x), x, **kw)
    assert out.dtype == dtype and out.device == x.device
    assert grad.dtype == dtype and grad.device == x.device
    assert torch.isfinite(out).all(), out
    assert torch.isfinite(grad).all(), grad
    assert torch.equal(x, before)  # inputs are never modified
    # against torch in float64 (exact at these saturated or linear points up to rounding)
    x64 = x.double()
    tol = {"rtol": 1e-3, "atol": 1e-3} if dtype == torch.float16 else {"rtol": 1e-6, "atol": 1e-6}
    torch.testing.assert_close(out.double(), ref(x64, **kw), **tol)
    grad_ref = _torch_grad(ref, x64, torch.ones_like(x64), kw)
    torch.testing.assert_close(grad.double(), grad_ref, **tol)


@pytest.mark.parametrize(("name", "ours", "ref", "ours_bw", "kw"), CASES, ids=IDS)
def test_float32_is_accurate(name, ours, ref, ours_bw, kw, device):
    # Reference: torch in float64 (torch's own float32 kernels carry rounding errors too).
    gen = torch.Generator().manual_seed(0)
    x = (torch.randn(4, 257, generator=gen) * 6).to(device)
    g = torch.randn(4, 257, generator=gen).to(device)
    x64, g64 = x.double(), g.double()
    out, grad = ours(x, **kw), ours_bw(g, x, **kw)
    assert out.dtype == grad.dtype == torch.float32
    tol = {"rtol": 2e-6, "atol": 1e-6}
    torch.testing.assert_close(out.double(), ref(x64, **kw), **tol)
    torch.testing.assert_close(grad.double(), _torch_grad(ref, x64, g64, kw), **tol)


def test_nan_propagates():
    x = torch.tensor([float("nan"), 1.0], dtype=torch.float64)
    for name, ours, _ref, _bw, kw in CASES:
        assert torch.isnan(ours(x, **kw)[0]), name


def test_selu_constants_and_swish_alias():
    one, minus_inf = torch.tensor([1.0, -1e4], dtype=torch.float64)
    assert F.selu(one).item() == pytest.approx(A.SELU_SCALE, rel=1e-15)
    assert F.selu(minus_inf).item() == pytest.approx(-A.SELU_SCALE * A.SELU_ALPHA, rel=1e-15)
    assert A.swish is A.silu and A.swish_backward is A.silu_backward


def test_gelu_sigmoid_form_is_x_times_sigmoid_1702x_and_close_to_exact():
    x = torch.linspace(-8, 8, 1601, dtype=torch.float64)
    torch.testing.assert_close(A.gelu(x, "sigmoid"), x * torch.sigmoid(1.702 * x), **TIGHT)
    # The approximation is within 0.021 of the exact GELU everywhere (its known max error).
    assert (A.gelu(x, "sigmoid") - F.gelu(x)).abs().max() < 0.021
    xr = x.clone().requires_grad_(True)
    (ref,) = torch.autograd.grad((xr * torch.sigmoid(1.702 * xr)).sum(), xr)
    torch.testing.assert_close(A.gelu_backward(torch.ones_like(x), x, "sigmoid"), ref, **TIGHT)
    huge = torch.tensor([-1e4, 1e4], dtype=torch.float32)
    assert torch.isfinite(A.gelu(huge, "sigmoid")).all()


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError):
        A.gelu(torch.zeros(2), approximate="erf")
    with pytest.raises(ValueError):
        A.gelu_backward(torch.zeros(2), torch.zeros(2), approximate="fast")


def test_sigmoid_derivative_peaks_at_quarter():
    x = torch.linspace(-10, 10, 2001, dtype=torch.float64)
    d = A.sigmoid_backward(torch.ones_like(x), x)
    assert d.max() == pytest.approx(0.25, abs=1e-15)
    assert d[x.abs() >= 10].max() < 5e-5  # saturated tails kill the gradient


@pytest.mark.parametrize(
    ("weight", "shape"),
    [([0.25], (3,)), ([0.25], (5, 3)), ([0.25], (2, 3, 4, 5))]
    + [([0.1, -0.3, 0.7], shape) for shape in [(5, 3), (2, 3, 4), (2, 3, 4, 5)]],
    ids=str,
)
def test_prelu_matches_torch(weight, shape):
    gen = torch.Generator().manual_seed(len(shape))
    x = torch.randn(shape, generator=gen, dtype=torch.float64) * 3
    x.view(-1)[0] = 0.0  # a kink
    w = torch.tensor(weight, dtype=torch.float64)
    g = torch.randn(shape, generator=gen, dtype=torch.float64)
    torch.testing.assert_close(A.prelu(x, w), F.prelu(x, w), **TIGHT)
    xr, wr = x.clone().requires_grad_(True), w.clone().requires_grad_(True)
    gx_ref, gw_ref = torch.autograd.grad(F.prelu(xr, wr), (xr, wr), g)
    gx, gw = A.prelu_backward(g, x, w)
    torch.testing.assert_close(gx, gx_ref, **TIGHT)
    torch.testing.assert_close(gw, gw_ref, **TIGHT)
    gx2, gw2 = torch.autograd.grad(A.prelu(xr, wr), (xr, wr), g)
    torch.testing.assert_close(gx2, gx_ref, **TIGHT)
    torch.testing.assert_close(gw2, gw_ref, **TIGHT)


def test_prelu_module_matches_nn_prelu():
    torch.manual_seed(0)
    ours, ref = A.PReLU(4, init=0.3).double(), nn.PReLU(4, init=0.3).double()
    x = torch.randn(6, 4, 3, dtype=torch.float64)
    torch.testing.assert_close(ours(x), ref(x), **TIGHT)
    ours(x).square().sum().backward()
    ref(x).square().sum().backward()
    torch.testing.assert_close(ours.weight.grad, ref.weight.grad, **TIGHT)
    with pytest.raises(ValueError):
        A.prelu(torch.zeros(2, 5), torch.ones(3))


def test_maxout_equals_max_of_affine_pieces():
    gen = torch.Generator().manual_seed(1)
    layer = A.Maxout(5, 3, pieces=4).double()
    x = torch.randn(7, 5, generator=gen, dtype=torch.float64)
    w, b = layer.linear.weight, layer.linear.bias
    pieces = [x @ w[k * 4 + j] + b[k * 4 + j] for k in range(3) for j in range(4)]
    expected = torch.stack(pieces, dim=-1).reshape(7, 3, 4).max(dim=-1).values
    torch.testing.assert_close(layer(x), expected, **TIGHT)
    # maxout of (z, 0) is ReLU, of (z, a z) is leaky ReLU
    z = torch.randn(11, generator=gen, dtype=torch.float64)
    torch.testing.assert_close(A.maxout(torch.stack([z, 0 * z], -1).flatten(), 2), F.relu(z))
    torch.testing.assert_close(
        A.maxout(torch.stack([z, 0.1 * z], -1).flatten(), 2), F.leaky_relu(z, 0.1)
    )


@pytest.mark.parametrize(
    ("shape", "dim"), [((12,), -1), ((3, 8), 1), ((4, 6, 5), 1), ((2, 3, 6), 0)]
)
def test_maxout_backward_matches_autograd(shape, dim):
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(shape, generator=gen, dtype=torch.float64)
    pieces = 2 if shape[dim] % 3 else 3
    out_shape = list(shape)
    out_shape[dim] //= pieces
    g = torch.randn(out_shape, generator=gen, dtype=torch.float64)
    xr = x.clone().requires_grad_(True)
    (ref,) = torch.autograd.grad(A.maxout(xr, pieces, dim), xr, g)
    torch.testing.assert_close(A.maxout_backward(g, x, pieces, dim), ref, **TIGHT)
    with pytest.raises(ValueError):
        A.maxout(torch.zeros(5), 2)


@pytest.mark.parametrize(
    "name", ["sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "selu", "gelu", "silu",
             "mish", "softplus"],
)  # fmt: skip
def test_get_activation_modules(name):
    module = A.get_activation(name)
    assert isinstance(module, nn.Module)
    x = torch.linspace(-3, 3, 13, dtype=torch.float64)
    ref = {"prelu": lambda t: F.prelu(t, torch.tensor([0.25], dtype=t.dtype))}.get(
        name, getattr(F, name, None) or getattr(torch, name)
    )
    torch.testing.assert_close(module.double()(x), ref(x), **TIGHT)
    assert A.get_activation(name) is not module  # a fresh module each call
    with pytest.raises(ValueError):
        A.get_activation("sinc")


def test_activation_module_with_hyperparameters():
    m = A.get_activation("leaky_relu", negative_slope=0.1)
    x = torch.tensor([-2.0, 3.0])
    torch.testing.assert_close(m(x), torch.tensor([-0.2, 3.0]))
    assert "negative_slope=0.1" in repr(m)


def test_count_dead_units_on_a_constructed_network():
    # Layer 1 has 4 units: unit 0 always negative (dead), unit 1 always positive, units 2-3
    # depend on the sign of the input.  Layer 2 sees only non-negative inputs from layer 1.
    lin1 = nn.Linear(1, 4)
    lin2 = nn.Linear(4, 2)
    with torch.no_grad():
        lin1.weight.copy_(torch.tensor([[0.0], [0.0], [1.0], [-1.0]]))
        lin1.bias.copy_(torch.tensor([-1.0, 1.0, 0.0, 0.0]))
        lin2.weight.copy_(torch.tensor([[-1.0, -1.0, -1.0, -1.0], [1.0, 0.0, 0.0, 0.0]]))
        lin2.bias.zero_()
    model = nn.Sequential(lin1, A.get_activation("relu"), lin2, nn.ReLU(), nn.Dropout(0.5))
    model.train()
    x = torch.tensor([[-2.0], [3.0], [0.5]])
    counts = A.count_dead_units(model, x)
    # layer 2: unit 0 = -(sum of non-negative values) <= 0 always; unit 1 = relu(unit 0) = 0.
    assert counts == {"1": 1, "3": 2}
    assert model.training  # mode restored
    # on positive inputs only, unit 3 of the first layer never fires either
    assert A.count_dead_units(model, torch.tensor([[1.0], [2.0]]))["1"] == 2


def test_count_dead_units_counts_feature_map_positions():
    model = nn.Sequential(nn.Conv2d(1, 2, 1, bias=False), nn.ReLU())
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([1.0, -1.0]).reshape(2, 1, 1, 1))
    x = torch.ones(3, 1, 2, 2)
    x[0, 0, 0, 0] = -1.0  # channel 1 fires at this one position for one example
    # channel 0 fires everywhere for some example; channel 1 is dead at the 3 other positions
    assert A.count_dead_units(model, x) == {"1": 3}


def test_constants_are_the_papers():
    # Klambauer et al. (2017): the fixed point (0, 1) of the mean/variance map
    x = torch.randn(2_000_000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    y = A.selu(x)
    assert abs(y.mean().item()) < 3e-3 and abs(y.var().item() - 1) < 3e-3
    assert math.isclose(A.gelu(torch.tensor(1.0, dtype=torch.float64)).item(),
                        0.5 * (1 + math.erf(1 / math.sqrt(2))), rel_tol=1e-15)  # fmt: skip
