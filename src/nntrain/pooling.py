"""Fractional max pooling (Graham, 2014, "Fractional Max-Pooling", arXiv:1412.6071).

Chapter 4 of the book (``book/04_regularization.md``) uses it as one more instance of "add
randomness in training, average it out at test time".

A 2×2 max pooling halves each side. Fractional max pooling shrinks a side of length
:math:`N_\\text{in}` to any :math:`N_\\text{out}` with :math:`N_\\text{in}/2 \\le N_\\text{out}
\\le N_\\text{in}`, i.e. by a factor :math:`\\alpha = N_\\text{in}/N_\\text{out} \\in [1, 2]`
such as :math:`\\sqrt2`. It draws boundaries :math:`0 = a_0 < a_1 < \\dots < a_{N_\\text{out}} =
N_\\text{in}` whose increments are all 1 or 2, and pools over

* disjoint regions :math:`P_i = [a_{i-1}, a_i - 1]`, or
* overlapping regions :math:`P_i = [a_{i-1}, a_i]` (the last one clipped to the input),

in each direction; an output pixel is the maximum over the rectangle :math:`P_i \\times Q_j`.
The increments are either a *random* permutation of the right number of 1s and 2s, or
*pseudo-random*, :math:`a_i = \\lceil \\alpha (i + u) \\rceil - \\lceil \\alpha u \\rceil` with
one :math:`u \\sim U(0, 1)`. Each call draws new regions (one draw per direction, shared by all
examples and channels of the batch); Graham averages the predictions of several draws at test
time.

Public names: :func:`fmp_boundaries`, :func:`fractional_max_pool2d`,
:class:`FractionalMaxPool2d`. Output sizes follow ``torch.nn.functional.fractional_max_pool2d``:
``output_ratio`` r gives :math:`\\lfloor N_\\text{in} \\cdot r \\rfloor`.
"""

from __future__ import annotations

import math
from fractions import Fraction

import torch
from torch import nn

__all__ = ["FractionalMaxPool2d", "fmp_boundaries", "fractional_max_pool2d"]

Pair = int | tuple[int, int]
RatioPair = float | tuple[float, float]


def _pair(value, name: str) -> tuple:
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2:
        raise ValueError(f"{name} must be a number or a pair, got {value!r}")
    return pair


def fmp_boundaries(
    n_in: int,
    n_out: int,
    pseudo_random: bool = True,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """The boundaries :math:`a_0 = 0 < \\dots < a_{n_\\text{out}} = n_\\text{in}` (int64, CPU).

    Every increment :math:`a_i - a_{i-1}` is 1 or 2: :math:`n_\\text{in} - n_\\text{out}` twos
    and :math:`2n_\\text{out} - n_\\text{in}` ones, in a uniformly random order
    (``pseudo_random=False``) or as
    :math:`\\lceil\\alpha(i+u)\\rceil - \\lceil\\alpha u\\rceil`,
    :math:`\\alpha = n_\\text{in}/n_\\text{out}`, :math:`u \\sim U(0,1)` (``pseudo_random=True``).

    Raises:
        ValueError: unless :math:`1 \\le n_\\text{out}` and
            :math:`n_\\text{out} \\le n_\\text{in} \\le 2 n_\\text{out}`.
    """
    if not (1 <= n_out <= n_in <= 2 * n_out):
        raise ValueError(
            f"fractional max pooling needs n_out <= n_in <= 2 n_out, got n_in={n_in}, "
            f"n_out={n_out}"
        )
    if pseudo_random:
        u = Fraction(float(torch.rand((), generator=generator, dtype=torch.float64)))
        alpha = Fraction(n_in, n_out)
        # exact rational arithmetic: float rounding could put a boundary one off
        a = [math.ceil(alpha * (i + u)) for i in range(n_out + 1)]
        return torch.tensor(a, dtype=torch.int64) - a[0]
    twos = n_in - n_out
    steps = torch.ones(n_out, dtype=torch.int64)
    steps[torch.randperm(n_out, generator=generator)[:twos]] = 2
    return torch.cat([torch.zeros(1, dtype=torch.int64), steps.cumsum(0)])


def _pool_1d(x: torch.Tensor, dim: int, bounds: torch.Tensor, overlapping: bool) -> torch.Tensor:
    """Max over the regions of ``bounds`` along ``dim`` (regions have 1 to 3 elements)."""
    n_in = x.shape[dim]
    start = bounds[:-1]
    end = bounds[1:] if overlapping else bounds[1:] - 1  # inclusive
    end = end.clamp(max=n_in - 1)
    out = None
    for k in range(3):  # a region is at most 3 long: repeat its last index to fill
        index = torch.minimum(start + k, end).to(x.device)
        part = x.index_select(dim, index)
        out = part if out is None else torch.maximum(out, part)
    return out


def fractional_max_pool2d(
    x: torch.Tensor,
    output_size: Pair | None = None,
    output_ratio: RatioPair | None = None,
    *,
    pseudo_random: bool = True,
    overlapping: bool = True,
    generator: torch.Generator | None = None,
    return_boundaries: bool = False,
):
    """Fractional max pooling of (N, C, H, W) or (C, H, W) ``x`` (see the module docstring).

    Args:
        x: input; dtype and device are kept, gradients flow to the maxima.
        output_size: (H_out, W_out) or one int for both.
        output_ratio: instead of ``output_size``: ``H_out = floor(H * r)`` as in torch.
        pseudo_random: pseudo-random (True) or random (False) boundaries.
        overlapping: regions :math:`[a_{i-1}, a_i]` (True) or :math:`[a_{i-1}, a_i - 1]`.
        generator: CPU ``torch.Generator`` for the draws.
        return_boundaries: also return the row and column boundaries.
    """
    if (output_size is None) == (output_ratio is None):
        raise ValueError("give exactly one of output_size and output_ratio")
    if x.dim() not in (3, 4):
        raise ValueError(f"expected a (N, C, H, W) or (C, H, W) tensor, got shape {tuple(x.shape)}")
    h, w = x.shape[-2:]
    if output_size is not None:
        h_out, w_out = (int(s) for s in _pair(output_size, "output_size"))
    else:
        ratios = _pair(output_ratio, "output_ratio")
        if not all(0 < r <= 1 for r in ratios):
            raise ValueError(f"output_ratio must be in (0, 1], got {output_ratio!r}")
        h_out, w_out = int(h * ratios[0]), int(w * ratios[1])
    rows = fmp_boundaries(h, h_out, pseudo_random, generator)
    cols = fmp_boundaries(w, w_out, pseudo_random, generator)
    out = _pool_1d(_pool_1d(x, x.dim() - 2, rows, overlapping), x.dim() - 1, cols, overlapping)
    return (out, rows, cols) if return_boundaries else out


class FractionalMaxPool2d(nn.Module):
    """:func:`fractional_max_pool2d` as a layer; new regions are drawn on every call, also in
    eval mode (average several passes at test time, as Graham does)."""

    def __init__(
        self,
        output_size: Pair | None = None,
        output_ratio: RatioPair | None = None,
        pseudo_random: bool = True,
        overlapping: bool = True,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if (output_size is None) == (output_ratio is None):
            raise ValueError("give exactly one of output_size and output_ratio")
        self.output_size, self.output_ratio = output_size, output_ratio
        self.pseudo_random, self.overlapping, self.generator = (
            pseudo_random, overlapping, generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return fractional_max_pool2d(
            x, self.output_size, self.output_ratio, pseudo_random=self.pseudo_random,
            overlapping=self.overlapping, generator=self.generator)

    def extra_repr(self) -> str:
        size = (f"output_size={self.output_size}" if self.output_size is not None
                else f"output_ratio={self.output_ratio}")
        return f"{size}, pseudo_random={self.pseudo_random}, overlapping={self.overlapping}"
