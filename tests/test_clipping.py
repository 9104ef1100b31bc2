"""nntrain.clipping against torch.nn.utils.clip_grad_norm_ / clip_grad_value_."""

from __future__ import annotations

import math

import pytest
import torch

from nntrain import clipping as C


def _params(device, scale=1.0, seed=0):
    """Three parameters with gradients and one without (it must be skipped)."""
    g = torch.Generator().manual_seed(seed)
    params = []
    for shape in [(4, 5), (5,), (2, 3, 3)]:
        p = torch.nn.Parameter(torch.randn(shape, generator=g, dtype=torch.float64).to(device))
        p.grad = scale * torch.randn(shape, generator=g, dtype=torch.float64).to(device)
        params.append(p)
    params.append(torch.nn.Parameter(torch.ones(3, dtype=torch.float64, device=device)))
    return params


def _clone(params):
    out = []
    for p in params:
        q = torch.nn.Parameter(p.detach().clone())
        q.grad = None if p.grad is None else p.grad.clone()
        out.append(q)
    return out


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 3.0])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])  # clips / does not clip
def test_clip_grad_norm_matches_torch(norm_type, max_norm, device):
    ours = _params(device, scale=3.0)
    theirs = _clone(ours)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type, foreach=False)
    got = C.clip_grad_norm(ours, max_norm, norm_type)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=0)
    assert got.device == expected.device and got.dtype == expected.dtype
    for a, b in zip(ours[:3], theirs[:3], strict=True):
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-12, atol=0)
    assert ours[3].grad is None
    after = C.total_norm(ours, norm_type)
    if max_norm < got:
        assert after == pytest.approx(max_norm, rel=1e-5)  # clipped to the threshold
    else:
        assert after == pytest.approx(got.item(), rel=1e-12)  # untouched


def test_total_norm_is_the_norm_of_the_concatenated_vector(device):
    params = _params(device)
    flat = torch.cat([p.grad.reshape(-1) for p in params[:3]])
    for p in (1.0, 2.0, math.inf):
        assert C.total_norm(params, p).item() == pytest.approx(
            torch.linalg.vector_norm(flat, p).item(), rel=1e-12)
    assert C.total_norm([], 2.0).item() == 0.0


def test_clip_grad_norm_accepts_gradient_tensors_and_a_single_tensor(device):
    params = _params(device, scale=2.0)
    grads = [p.grad.clone() for p in params[:3]]
    expected = torch.nn.utils.clip_grad_norm_(params, 1.0)
    norm = C.clip_grad_norm(grads, 1.0)  # plain gradient tensors are clipped in place
    torch.testing.assert_close(norm, expected)
    for g, p in zip(grads, params, strict=False):
        torch.testing.assert_close(g, p.grad)
    p = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64, device=device))
    p.grad = torch.tensor([3.0, 4.0, 0.0], dtype=torch.float64, device=device)
    assert C.clip_grad_norm(p, 1.0).item() == pytest.approx(5.0)
    torch.testing.assert_close(p.grad, torch.tensor([0.6, 0.8, 0.0], dtype=torch.float64,
                                                    device=device), rtol=1e-5, atol=0)
    assert C.clip_grad_norm([torch.nn.Parameter(torch.ones(2))], 1.0).item() == 0.0


def test_clip_grad_norm_nonfinite():
    p = torch.nn.Parameter(torch.zeros(2))
    p.grad = torch.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError):
        C.clip_grad_norm([p], 1.0, error_if_nonfinite=True)
    q = torch.nn.Parameter(torch.zeros(2))
    q.grad = torch.tensor([float("inf"), 1.0])
    expected = torch.nn.utils.clip_grad_norm_([q], 1.0)
    assert C.clip_grad_norm([p], 1.0).item() == expected.item() == math.inf
    torch.testing.assert_close(p.grad, q.grad, equal_nan=True)


@pytest.mark.parametrize("clip_value", [0.1, 1.0, 100.0])
def test_clip_grad_value_matches_torch(clip_value, device):
    ours = _params(device, scale=2.0)
    theirs = _clone(ours)
    torch.nn.utils.clip_grad_value_(theirs, clip_value, foreach=False)
    assert C.clip_grad_value(ours, clip_value) is None
    for a, b in zip(ours[:3], theirs[:3], strict=True):
        torch.testing.assert_close(a.grad, b.grad, rtol=0, atol=0)
        assert a.grad.abs().max() <= clip_value
    assert ours[3].grad is None
