"""Erasing augmentations: Cutout (a zeroed square) and random erasing (a filled rectangle).

Both hide a random region of each image so that the network cannot rely on any one part of
the object (DeVries & Taylor, 2017; Zhong et al., 2020).
"""

from __future__ import annotations

import torch

from nntrain.augment._common import _as_batch, _randint, _unbatch, _uniform
from nntrain.regularization import uniform

__all__ = ["cutout", "random_erasing"]


def _box_mask(
    top: torch.Tensor, left: torch.Tensor, bh: torch.Tensor, bw: torch.Tensor, h: int, w: int
) -> torch.Tensor:
    """(N, H, W) boolean mask of the boxes rows [top, top+bh) × cols [left, left+bw)."""
    rows = torch.arange(h, device=top.device)
    cols = torch.arange(w, device=top.device)
    in_rows = (rows >= top[:, None]) & (rows < (top + bh)[:, None])
    in_cols = (cols >= left[:, None]) & (cols < (left + bw)[:, None])
    return in_rows[:, :, None] & in_cols[:, None, :]


def cutout(
    x: torch.Tensor, size: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Cutout: zero one ``size``×``size`` square per image, centred at a uniformly random
    pixel and clipped at the border (so it can be partly outside the image).

    The square covers rows ``cy - size//2 .. cy - size//2 + size - 1`` (and the same for
    columns). DeVries & Taylor (2017), "Improved Regularization of Convolutional Neural
    Networks with Cutout", arXiv:1708.04552.
    """
    xb, single = _as_batch(x)
    n, _, h, w = xb.shape
    cy = _randint(h, (n,), generator, xb.device)
    cx = _randint(w, (n,), generator, xb.device)
    top, left = cy - size // 2, cx - size // 2
    mask = _box_mask(top, left, torch.full_like(top, size), torch.full_like(left, size), h, w)
    return _unbatch(torch.where(mask[:, None], 0.0, xb), single)


def random_erasing(
    x: torch.Tensor,
    p: float = 0.5,
    scale: tuple[float, float] = (0.02, 0.4),
    ratio: tuple[float, float] = (0.3, 1 / 0.3),
    value: float | torch.Tensor | str = "random",
    generator: torch.Generator | None = None,
    attempts: int = 100,
) -> torch.Tensor:
    r"""Random erasing: with probability ``p`` per image, fill a random rectangle.

    Algorithm 1 of the paper: area :math:`S_e \sim U(s_l, s_h)\cdot HW`, aspect
    :math:`r_e \sim U(r_1, r_2)`, :math:`H_e = \sqrt{S_e r_e}`, :math:`W_e = \sqrt{S_e/r_e}`,
    top-left corner uniform over the image; retried (up to ``attempts`` times) until the
    rectangle fits. Defaults are the paper's :math:`p=0.5, s_l=0.02, s_h=0.4, r_1=0.3`.
    ``value``: ``"random"`` (uniform [0, 1] noise per pixel, the paper's choice), a number,
    or a per-channel tensor (C,) such as the dataset mean.
    Zhong, Zheng, Kang, Li & Yang (2020), "Random Erasing Data Augmentation", AAAI.
    """
    xb, single = _as_batch(x)
    n, c, h, w = xb.shape
    dev = xb.device
    chosen = uniform((n,), generator, dev) < p
    area = h * w * _uniform((n, attempts), scale[0], scale[1], generator, dev)
    r = _uniform((n, attempts), ratio[0], ratio[1], generator, dev)
    bh = (area * r).sqrt().round().long()
    bw = (area / r).sqrt().round().long()
    top = _randint(h, (n, attempts), generator, dev)
    left = _randint(w, (n, attempts), generator, dev)
    ok = (bh > 0) & (bw > 0) & (top + bh <= h) & (left + bw <= w)
    first = ok.long().argmax(1, keepdim=True)
    chosen = chosen & ok.any(1)
    pick = [t.gather(1, first)[:, 0] for t in (top, left, bh, bw)]
    mask = _box_mask(*pick, h, w) & chosen[:, None, None]
    if isinstance(value, str):
        if value != "random":
            raise ValueError(f"value must be 'random', a number or a (C,) tensor, got {value!r}")
        fill = uniform(tuple(xb.shape), generator, dev, xb.dtype)
    else:
        fill = torch.as_tensor(value, dtype=xb.dtype, device=dev)
        fill = fill.reshape(1, -1, 1, 1) if fill.dim() > 0 else fill
    return _unbatch(torch.where(mask[:, None], fill, xb), single)
