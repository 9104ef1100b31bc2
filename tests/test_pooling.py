"""nntrain.pooling: fractional max pooling (Graham, 2014)."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
import torch
import torch.nn.functional as F

from nntrain.pooling import FractionalMaxPool2d, fmp_boundaries, fractional_max_pool2d

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs CUDA"))]
SIZES = [(n_in, n_out) for n_in in (1, 2, 5, 8, 11, 32) for n_out in range(1, n_in + 1)
         if n_in <= 2 * n_out]


@pytest.mark.parametrize("pseudo_random", [True, False])
@pytest.mark.parametrize(("n_in", "n_out"), SIZES)
def test_boundaries_start_at_0_end_at_n_in_with_steps_of_1_or_2(n_in, n_out, pseudo_random):
    g = torch.Generator().manual_seed(n_in * 100 + n_out)
    for _ in range(5):
        a = fmp_boundaries(n_in, n_out, pseudo_random, g)
        steps = a.diff()
        assert a.dtype == torch.int64 and len(a) == n_out + 1
        assert int(a[0]) == 0 and int(a[-1]) == n_in, a.tolist()
        assert set(steps.tolist()) <= {1, 2}, a.tolist()
        assert int((steps == 2).sum()) == n_in - n_out, a.tolist()


def test_pseudo_random_boundaries_follow_grahams_formula():
    n_in, n_out = 25, 18
    u = Fraction(float(torch.rand((), generator=torch.Generator().manual_seed(3),
                                  dtype=torch.float64)))
    a = fmp_boundaries(n_in, n_out, True, torch.Generator().manual_seed(3)).tolist()
    alpha = Fraction(n_in, n_out)
    expected = [math.ceil(alpha * (i + u)) - math.ceil(alpha * u) for i in range(n_out + 1)]
    assert a == expected


def test_random_boundaries_vary_and_cover_every_arrangement_of_twos():
    g = torch.Generator().manual_seed(0)
    seen = {tuple(fmp_boundaries(5, 4, False, g).tolist()) for _ in range(200)}
    # one 2 among four steps: four arrangements, all of them drawn
    assert seen == {(0, 2, 3, 4, 5), (0, 1, 3, 4, 5), (0, 1, 2, 4, 5), (0, 1, 2, 3, 5)}


@pytest.mark.parametrize(("n_in", "n_out"), [(5, 6), (9, 4), (0, 0), (3, 0)])
def test_boundaries_reject_impossible_sizes(n_in, n_out):
    with pytest.raises(ValueError, match="n_out <= n_in <= 2 n_out"):
        fmp_boundaries(n_in, n_out)


@pytest.mark.parametrize("ratio", [0.5, 2**-0.5, 0.75, 0.9, 1.0])
@pytest.mark.parametrize("size", [(8, 8), (13, 10), (32, 27)])
def test_output_ratio_gives_the_output_size_of_torch(size, ratio):
    x = torch.randn(2, 3, *size)
    if any(2 * int(n * ratio) < n for n in size):  # a step of 3 would be needed: not FMP
        with pytest.raises(ValueError, match="n_out <= n_in <= 2 n_out"):
            fractional_max_pool2d(x, output_ratio=ratio)
        return
    ours = fractional_max_pool2d(x, output_ratio=ratio)
    theirs = F.fractional_max_pool2d(x, kernel_size=1, output_ratio=(ratio, ratio))
    assert ours.shape == theirs.shape


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("overlapping", [True, False])
@pytest.mark.parametrize("pseudo_random", [True, False])
def test_each_output_is_the_max_of_its_region(device, overlapping, pseudo_random):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 3, 11, 9, dtype=torch.float64, device=device)
    out, rows, cols = fractional_max_pool2d(
        x, (7, 6), pseudo_random=pseudo_random, overlapping=overlapping, generator=g,
        return_boundaries=True)
    assert out.shape == (2, 3, 7, 6) and out.dtype == x.dtype and out.device == x.device
    extra = 1 if overlapping else 0
    for i in range(7):
        for j in range(6):
            r0, r1 = int(rows[i]), min(int(rows[i + 1]) + extra, 11)
            c0, c1 = int(cols[j]), min(int(cols[j + 1]) + extra, 9)
            expected = x[..., r0:r1, c0:c1].amax(dim=(-2, -1))
            assert torch.equal(out[..., i, j], expected), (i, j)


def test_disjoint_regions_partition_and_overlapping_ones_share_one_row():
    x = torch.arange(10.0).reshape(1, 1, 10, 1)  # the max of a region is its last row
    out, rows, _ = fractional_max_pool2d(x, (7, 1), overlapping=False,
                                         generator=torch.Generator().manual_seed(5),
                                         return_boundaries=True)
    assert out.flatten().tolist() == (rows[1:] - 1).tolist()
    out, rows, _ = fractional_max_pool2d(x, (7, 1), overlapping=True,
                                         generator=torch.Generator().manual_seed(5),
                                         return_boundaries=True)
    assert out.flatten().tolist() == rows[1:].clamp(max=9).tolist()


def test_same_generator_state_gives_same_draw_and_draws_differ():
    x = torch.randn(1, 2, 16, 16)
    a = fractional_max_pool2d(x, output_ratio=2**-0.5, generator=torch.Generator().manual_seed(4))
    b = fractional_max_pool2d(x, output_ratio=2**-0.5, generator=torch.Generator().manual_seed(4))
    assert torch.equal(a, b)
    g = torch.Generator().manual_seed(4)
    draws = [fractional_max_pool2d(x, output_ratio=2**-0.5, generator=g) for _ in range(5)]
    assert any(not torch.equal(draws[0], d) for d in draws[1:])


def test_gradient_reaches_only_the_maxima_and_input_is_unchanged():
    x = torch.randn(1, 1, 6, 6, requires_grad=True)
    before = x.detach().clone()
    out = fractional_max_pool2d(x, (4, 4), overlapping=False,
                                generator=torch.Generator().manual_seed(0))
    out.sum().backward()
    assert torch.equal(x.detach(), before)
    # disjoint regions: each output's maximum gets gradient 1, everything else 0
    assert float(x.grad.sum()) == 16.0 and set(x.grad.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(x.detach()[x.grad == 1].sort().values,
                       out.detach().flatten().sort().values)


def test_unbatched_input_and_module():
    layer = FractionalMaxPool2d(output_ratio=0.5, generator=torch.Generator().manual_seed(0))
    x = torch.randn(3, 8, 8)
    assert layer(x).shape == (3, 4, 4)
    assert "output_ratio=0.5" in repr(layer)


@pytest.mark.parametrize("kwargs", [{}, {"output_size": 3, "output_ratio": 0.5},
                                    {"output_ratio": 1.5}, {"output_size": 1}])
def test_bad_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        fractional_max_pool2d(torch.randn(1, 1, 4, 4), **kwargs)
