"""Tests for nntrain.regularization: torch as the oracle where it has the same operation
(F.dropout, nn.BatchNorm1d/2d, F.cross_entropy with label smoothing, SGD's weight decay),
exact algebraic properties and fixed-seed statistics otherwise."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nntrain.regularization import (
    BatchNorm,
    DropConnectLinear,
    Dropout,
    DropPath,
    EarlyStopping,
    StochasticDepth,
    batch_norm,
    drop_path,
    dropout,
    elastic_net_penalty,
    l1_penalty,
    l1_proximal_,
    l2_penalty,
    label_smoothing,
    linear_drop_path_rates,
    one_hot,
    smoothed_cross_entropy,
    vanilla_dropout,
)

F64 = torch.float64


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --------------------------------------------------------------------------- dropout
@pytest.mark.parametrize("shape", [(7,), (4, 5), (2, 3, 4, 5)])
def test_dropout_matches_torch_at_p0_p1_and_eval(device, shape):
    x = torch.randn(shape, dtype=F64, generator=gen(1)).to(device) * 1e4
    torch.testing.assert_close(dropout(x, 0.0), F.dropout(x, 0.0), rtol=0, atol=0)
    torch.testing.assert_close(dropout(x, 1.0), F.dropout(x, 1.0), rtol=0, atol=0)
    for p in (0.0, 0.3, 1.0):
        out = dropout(x, p, training=False)
        torch.testing.assert_close(out, F.dropout(x, p, training=False), rtol=0, atol=0)
        assert out.dtype == x.dtype and out.device == x.device


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_dropout_rejects_bad_p(p):
    with pytest.raises(ValueError):
        dropout(torch.ones(3), p)
    with pytest.raises(ValueError):
        Dropout(p)


@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_dropout_survivors_are_scaled_and_input_untouched(device, dtype):
    p = 0.3
    x = torch.randn(50, 40, dtype=dtype, generator=gen(2)).to(device) + 3.0
    before = x.clone()
    y = dropout(x, p, generator=gen(3))
    assert y.dtype == dtype and y.device == x.device
    kept = y != 0
    torch.testing.assert_close(y[kept], x[kept] / (1 - p))
    assert torch.equal(x, before)


def test_dropout_mean_within_binomial_bound(device):
    n, p = 200_000, 0.4
    x = torch.ones(n, dtype=F64, device=device)
    y = dropout(x, p, generator=gen(4))
    dropped = int((y == 0).sum())
    # Binomial(n, p): 6 standard deviations is a bound a correct mask never exceeds here
    assert abs(dropped - n * p) < 6 * math.sqrt(n * p * (1 - p))
    sigma_mean = math.sqrt(p / ((1 - p) * n))
    assert abs(float(y.mean()) - 1.0) < 6 * sigma_mean


def test_dropout_is_deterministic_for_a_generator_and_gradient_is_the_mask():
    x = torch.randn(30, 30, dtype=F64, requires_grad=True)
    y1 = dropout(x, 0.5, generator=gen(7))
    y2 = dropout(x, 0.5, generator=gen(7))
    y3 = dropout(x, 0.5, generator=gen(8))
    assert torch.equal(y1, y2) and not torch.equal(y1, y3)
    y1.sum().backward()
    expected = (y2 != 0).to(F64) / 0.5
    torch.testing.assert_close(x.grad, expected)


def test_dropout_module_follows_training_flag(device):
    m = Dropout(0.5, generator=gen(0))
    x = torch.randn(100, dtype=F64, device=device)
    assert (m(x) == 0).any()
    m.eval()
    assert torch.equal(m(x), x)
    assert "p=0.5" in repr(m)


def test_vanilla_and_inverted_dropout_share_the_mask_and_expectation():
    p = 0.25
    x = torch.randn(64, 32, dtype=F64, generator=gen(5))
    inverted = dropout(x, p, generator=gen(9))
    vanilla = vanilla_dropout(x, p, generator=gen(9))
    torch.testing.assert_close(vanilla / (1 - p), inverted)
    torch.testing.assert_close(vanilla_dropout(x, p, training=False), x * (1 - p))
    # test-time output of vanilla dropout = expected training output (mean over many masks)
    g = gen(11)
    mean = torch.stack([vanilla_dropout(x, p, generator=g) for _ in range(2000)]).mean(0)
    # per entry: std of a Bernoulli mean is |x| sqrt(p(1-p)/2000)
    bound = 6 * x.abs() * math.sqrt(p * (1 - p) / 2000) + 1e-12
    assert ((mean - x * (1 - p)).abs() <= bound).all()


# --------------------------------------------------------------------------- DropConnect
def test_dropconnect_linear_eval_is_linear_and_train_uses_masked_weights(device):
    layer = DropConnectLinear(6, 4, p=0.5, generator=gen(3), dtype=F64).to(device)
    x = torch.randn(5, 6, dtype=F64, device=device)
    layer.eval()
    torch.testing.assert_close(layer(x), F.linear(x, layer.weight, layer.bias))
    layer.train()
    out = layer(x)
    w = dropout(layer.weight, 0.5, generator=gen(3))
    torch.testing.assert_close(out, x @ w.T + layer.bias)


def test_dropconnect_per_sample_masks_differ_between_examples():
    layer = DropConnectLinear(8, 3, bias=False, p=0.5, per_sample=True, generator=gen(1))
    x = torch.ones(2, 8).repeat(4, 1)
    out = layer(x)
    assert out.shape == (8, 3)
    assert not torch.allclose(out[0], out[1])
    with torch.no_grad():
        weights = dropout(layer.weight.expand(8, -1, -1), 0.5, generator=gen(1))
        torch.testing.assert_close(out, torch.einsum("ni,noi->no", x, weights))


# --------------------------------------------------------------------------- drop path
def test_drop_path_drops_whole_examples(device):
    p = 0.5
    x = torch.rand(400, 3, 4, 4, dtype=F64, device=device) + 1.0
    y = drop_path(x, p, training=True, generator=gen(2))
    flat_y, flat_x = y.flatten(1), x.flatten(1)
    zero = (flat_y == 0).all(1)
    torch.testing.assert_close(flat_y[~zero], flat_x[~zero] / (1 - p))
    assert abs(int(zero.sum()) - 200) < 6 * math.sqrt(400 * 0.25)
    assert torch.equal(drop_path(x, p, training=False), x)
    assert torch.equal(drop_path(x, 0.0, training=True), x)
    module = DropPath(p).eval()
    assert torch.equal(module(x), x)


def test_linear_drop_path_rates():
    assert linear_drop_path_rates(4, 0.2) == pytest.approx([0.05, 0.1, 0.15, 0.2])


# --------------------------------------------------------------------------- batch norm
@pytest.mark.parametrize(
    ("shape", "reference"),
    [((16, 5), nn.BatchNorm1d), ((8, 5, 7), nn.BatchNorm1d), ((4, 5, 6, 3), nn.BatchNorm2d)],
)
@pytest.mark.parametrize("momentum", [0.1, 0.3, None])
def test_batchnorm_matches_torch_over_several_steps(device, shape, reference, momentum):
    torch.manual_seed(0)
    mine = BatchNorm(5, momentum=momentum, dtype=F64).to(device)
    ref = reference(5, momentum=momentum, dtype=F64).to(device)
    with torch.no_grad():
        for m in (mine, ref):
            m.weight.copy_(torch.linspace(0.5, 2.0, 5))
            m.bias.copy_(torch.linspace(-1.0, 1.0, 5))
    for step in range(4):
        x = (torch.randn(shape, dtype=F64) * (step + 1) + step).to(device)
        xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
        ya, yb = mine(xa), ref(xb)
        torch.testing.assert_close(ya, yb, rtol=1e-10, atol=1e-10)
        w = torch.randn(shape, dtype=F64).to(device)
        (ya * w).sum().backward()
        (yb * w).sum().backward()
        torch.testing.assert_close(xa.grad, xb.grad, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(mine.weight.grad, ref.weight.grad, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(mine.bias.grad, ref.bias.grad, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(mine.running_mean, ref.running_mean, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(mine.running_var, ref.running_var, rtol=1e-12, atol=1e-12)
    assert int(mine.num_batches_tracked) == int(ref.num_batches_tracked) == 4
    mine.eval()
    ref.eval()
    x = torch.randn(shape, dtype=F64).to(device) * 3
    torch.testing.assert_close(mine(x), ref(x), rtol=1e-10, atol=1e-10)


def test_batchnorm_without_affine_or_running_stats_matches_torch():
    x = torch.randn(10, 3, 4, 4, dtype=F64)
    for kwargs in ({"affine": False}, {"track_running_stats": False}):
        mine, ref = BatchNorm(3, dtype=F64, **kwargs), nn.BatchNorm2d(3, dtype=F64, **kwargs)
        torch.testing.assert_close(mine(x), ref(x))
        mine.eval()
        ref.eval()
        torch.testing.assert_close(mine(x * 2 + 1), ref(x * 2 + 1))


def test_batchnorm_state_dict_is_interchangeable_with_torch():
    ref = nn.BatchNorm2d(4, dtype=F64)
    for _ in range(3):
        ref(torch.randn(6, 4, 3, 3, dtype=F64) + 2)
    mine = BatchNorm(4, dtype=F64)
    mine.load_state_dict(ref.state_dict())
    mine.eval()
    ref.eval()
    x = torch.randn(2, 4, 3, 3, dtype=F64)
    torch.testing.assert_close(mine(x), ref(x))


def test_batch_norm_function_train_vs_eval():
    x = torch.randn(32, 3, dtype=F64) * 4 + 7
    y = batch_norm(x, None, None, training=True)
    torch.testing.assert_close(y.mean(0), torch.zeros(3, dtype=F64), atol=1e-12, rtol=0)
    var = y.var(0, unbiased=False)
    torch.testing.assert_close(var, torch.ones(3, dtype=F64), atol=1e-5, rtol=0)
    rm, rv = torch.zeros(3, dtype=F64), torch.ones(3, dtype=F64)
    # eval with the initial running stats is (x - 0) / sqrt(1 + eps): a fixed affine map
    torch.testing.assert_close(batch_norm(x, rm, rv, training=False), x / math.sqrt(1 + 1e-5))
    with pytest.raises(ValueError):
        BatchNorm(3)(torch.randn(4, 2))


# --------------------------------------------------------------------------- label smoothing
def test_label_smoothing_target():
    y = torch.tensor([0, 2, 1])
    q = label_smoothing(y, 3, 0.1)
    assert q.dtype == torch.get_default_dtype()
    expected = torch.full((3, 3), 0.1 / 3)
    expected[torch.arange(3), y] = 1 - 0.1 * 2 / 3
    torch.testing.assert_close(q, expected)
    torch.testing.assert_close(q.sum(1), torch.ones(3))
    torch.testing.assert_close(label_smoothing(y, 3, 0.0), F.one_hot(y, 3).float())
    torch.testing.assert_close(label_smoothing(y, 3, 1.0), torch.full((3, 3), 1 / 3))
    soft = torch.tensor([[0.5, 0.5, 0.0]], dtype=F64)
    torch.testing.assert_close(
        label_smoothing(soft, 3, 0.3), 0.7 * soft + 0.1, rtol=1e-15, atol=1e-15
    )
    with pytest.raises(ValueError):
        label_smoothing(y, 3, 1.2)
    torch.testing.assert_close(one_hot(y, 3, dtype=F64), F.one_hot(y, 3).to(F64))


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.5, 1.0])
@pytest.mark.parametrize("scale", [1.0, 30.0, 1e4])
def test_smoothed_cross_entropy_matches_torch_hard_targets(device, eps, scale):
    logits = (torch.randn(12, 7, dtype=F64, generator=gen(3)) * scale).to(device)
    target = torch.randint(0, 7, (12,), generator=gen(4)).to(device)
    a = logits.clone().requires_grad_()
    b = logits.clone().requires_grad_()
    mine = smoothed_cross_entropy(a, target, eps)
    ref = F.cross_entropy(b, target, label_smoothing=eps)
    assert torch.isfinite(mine)
    torch.testing.assert_close(mine, ref, rtol=1e-12, atol=1e-9)
    mine.backward()
    ref.backward()
    torch.testing.assert_close(a.grad, b.grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("eps", [0.0, 0.2, 1.0])
def test_smoothed_cross_entropy_matches_torch_soft_targets(device, eps):
    logits = (torch.randn(9, 5, dtype=F64, generator=gen(5)) * 1e4).to(device)
    target = torch.softmax(torch.randn(9, 5, dtype=F64, generator=gen(6)), 1).to(device)
    mine = smoothed_cross_entropy(logits, target, eps)
    ref = F.cross_entropy(logits, target, label_smoothing=eps)
    torch.testing.assert_close(mine, ref, rtol=1e-12, atol=1e-9)


def test_smoothed_cross_entropy_extra_dims_and_single_example():
    logits = torch.randn(3, 4, 5, 2, dtype=F64)
    target = torch.randint(0, 4, (3, 5, 2))
    torch.testing.assert_close(
        smoothed_cross_entropy(logits, target, 0.1),
        F.cross_entropy(logits, target, label_smoothing=0.1),
    )
    torch.testing.assert_close(
        smoothed_cross_entropy(logits[0, :, 0, 0], target[0, 0, 0], 0.3),
        F.cross_entropy(logits[0, :, 0, 0], target[0, 0, 0], label_smoothing=0.3),
    )
    soft = label_smoothing(torch.tensor([1, 3]), 4, 0.2).to(F64)
    z = torch.randn(2, 4, dtype=F64)
    # smoothing one-hot targets first equals smoothing inside the loss
    torch.testing.assert_close(
        smoothed_cross_entropy(z, soft), smoothed_cross_entropy(z, torch.tensor([1, 3]), 0.2)
    )


# --------------------------------------------------------------------------- penalties
def test_penalties_values():
    w = [torch.tensor([[1.0, -2.0], [3.0, 0.0]]), torch.tensor([-0.5])]
    assert float(l2_penalty(w)) == pytest.approx(1 + 4 + 9 + 0.25)
    assert float(l1_penalty(w)) == pytest.approx(1 + 2 + 3 + 0.5)
    assert float(elastic_net_penalty(w, l1=0.5, l2=2.0)) == pytest.approx(0.5 * 6.5 + 2 * 14.25)
    model = nn.Linear(3, 2)
    expected = sum(float(p.detach().pow(2).sum()) for p in model.parameters())
    assert l2_penalty(model).item() == pytest.approx(expected)
    assert float(l2_penalty([])) == 0.0


def test_l2_penalty_equals_sgd_weight_decay():
    """Gradient descent on loss + wd/2·||w||² takes torch SGD's weight_decay=wd step."""
    torch.manual_seed(0)
    x, y = torch.randn(20, 4, dtype=F64), torch.randn(20, 1, dtype=F64)
    a, b = nn.Linear(4, 1, dtype=F64), nn.Linear(4, 1, dtype=F64)
    b.load_state_dict(a.state_dict())
    wd, lr = 0.1, 0.05
    opt_a = torch.optim.SGD(a.parameters(), lr=lr)
    opt_b = torch.optim.SGD(b.parameters(), lr=lr, weight_decay=wd)
    for _ in range(5):
        opt_a.zero_grad()
        opt_b.zero_grad()
        (F.mse_loss(a(x), y) + wd / 2 * l2_penalty(a)).backward()
        F.mse_loss(b(x), y).backward()
        opt_a.step()
        opt_b.step()
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(pa, pb, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- early stopping
def test_early_stopping_min_mode():
    stopper = EarlyStopping(patience=2, min_delta=0.01)
    decisions = [stopper.step(v) for v in [1.0, 0.9, 0.895, 0.95, 0.5, 0.6, 0.7]]
    # 0.895 is not better by more than min_delta: bad 1; 0.95: bad 2 -> stop
    assert decisions == [False, False, False, True, False, False, True]
    assert stopper.best == 0.5 and stopper.best_step == 4


def test_early_stopping_max_mode_and_patience_zero():
    stopper = EarlyStopping(patience=0, mode="max", monitor="val_acc")
    assert stopper.step(torch.tensor(0.5)) is False
    assert stopper.step(0.6) is False
    assert stopper.step(0.6) is True
    assert stopper.best == pytest.approx(0.6) and stopper.best_step == 1
    stopper.reset()
    assert stopper.best == -math.inf and not stopper.should_stop
    with pytest.raises(ValueError):
        EarlyStopping(mode="lowest")


# --------------------------------------------------------------------------- L1 proximal step
def test_l1_proximal_soft_thresholds_in_place_to_exact_zeros():
    w = torch.tensor([[-0.3, -0.05, 0.0], [0.02, 0.1, 2.0]])
    l1_proximal_([w], 0.1)
    expected = torch.tensor([[-0.2, 0.0, 0.0], [0.0, 0.0, 1.9]])
    assert torch.allclose(w, expected) and int((w == 0).sum()) == 4


def test_l1_proximal_is_the_minimiser_of_the_prox_objective():
    # prox_t(v) = argmin_w 0.5 (w - v)^2 + t |w|: compare with a fine grid search
    v = torch.linspace(-1, 1, 41, dtype=torch.float64)
    w = v.clone()
    l1_proximal_(w, 0.3)
    grid = torch.linspace(-2, 2, 40001, dtype=torch.float64)
    objective = 0.5 * (grid[None, :] - v[:, None]) ** 2 + 0.3 * grid.abs()[None, :]
    assert torch.allclose(w, grid[objective.argmin(1)], atol=1e-4)


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf")])
def test_l1_proximal_rejects_bad_thresholds(bad):
    with pytest.raises(ValueError, match="threshold"):
        l1_proximal_(torch.zeros(2), bad)


# --------------------------------------------------------------------------- stochastic depth
class _Counting(nn.Module):
    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return torch.ones_like(x)


def test_stochastic_depth_batch_mode_skips_the_branch_for_the_whole_batch():
    branch = _Counting()
    block = StochasticDepth(branch, p=0.5, mode="batch",
                            generator=torch.Generator().manual_seed(0))
    x = torch.zeros(8, 3)
    outs = [block(x) for _ in range(400)]
    kept = [o for o in outs if o.abs().sum() > 0]
    # a dropped batch is the identity and the branch is not run; a kept one is x + f(x)/(1-p)
    assert branch.calls == len(kept) == block.calls
    assert all(torch.equal(o, torch.full_like(x, 2.0)) for o in kept)
    assert all(torch.equal(o, x) for o in outs if o.abs().sum() == 0)
    assert 160 < len(kept) < 240  # Binomial(400, 0.5): mean 200, std 10


def test_stochastic_depth_row_mode_runs_the_branch_and_drops_per_example():
    branch = _Counting()
    block = StochasticDepth(branch, p=0.5, mode="row", generator=torch.Generator().manual_seed(1))
    out = block(torch.zeros(1000, 4))
    assert branch.calls == 1
    rows = out[:, 0]
    assert set(rows.unique().tolist()) == {0.0, 2.0}
    assert torch.equal(out, rows[:, None].expand_as(out))  # one draw per example
    assert 400 < int((rows == 2.0).sum()) < 600


def test_stochastic_depth_eval_is_the_whole_block():
    block = StochasticDepth(_Counting(), p=0.9, mode="batch").eval()
    x = torch.randn(5, 2)
    assert torch.equal(block(x), x + 1.0)


def test_stochastic_depth_rejects_bad_arguments():
    with pytest.raises(ValueError, match="mode"):
        StochasticDepth(nn.Identity(), 0.5, mode="layer")
    with pytest.raises(ValueError, match="probability"):
        StochasticDepth(nn.Identity(), 1.5)
