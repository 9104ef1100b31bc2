"""Test-time augmentation: centre, five and ten crops, and predictions averaged over views.

The "marginalise at test" half of augmentation: average the model's predictions over a fixed
set of transforms of each image, the multi-crop evaluation of Krizhevsky et al. (2012) and
He et al. (2016).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from nntrain.augment._common import Size, _as_batch, _pair
from nntrain.augment.geometry import hflip, resize
from nntrain.regularization import one_hot

__all__ = ["center_crop", "five_crop", "ten_crop", "tta_predict"]


def center_crop(x: torch.Tensor, size: Size) -> torch.Tensor:
    """The central ``size`` window (top = round((H − h)/2), as torchvision)."""
    ch, cw = _pair(size)
    h, w = x.shape[-2:]
    top, left = int(round((h - ch) / 2.0)), int(round((w - cw) / 2.0))
    return x[..., top : top + ch, left : left + cw]


def five_crop(x: torch.Tensor, size: Size) -> torch.Tensor:
    """The four corner windows and the centre window, stacked first: (5, N, C, h, w).

    Order: top-left, top-right, bottom-left, bottom-right, centre.
    """
    ch, cw = _pair(size)
    h, w = x.shape[-2:]
    if ch > h or cw > w:
        raise ValueError(f"crop {ch}×{cw} is larger than the image {h}×{w}")
    return torch.stack(
        [
            x[..., :ch, :cw],
            x[..., :ch, w - cw :],
            x[..., h - ch :, :cw],
            x[..., h - ch :, w - cw :],
            center_crop(x, (ch, cw)),
        ]
    )


def ten_crop(x: torch.Tensor, size: Size) -> torch.Tensor:
    """Ten test-time views: :func:`five_crop` and the same five of the mirrored image,
    stacked first: (10, N, C, h, w).

    The multi-crop evaluation of Krizhevsky et al. (2012) and He et al. (2016), where it is
    repeated at several scales (:func:`tta_predict`).
    """
    crops = five_crop(x, size)
    return torch.cat([crops, crops.flip(-1)])


@torch.no_grad()
def tta_predict(
    model: nn.Module,
    x: torch.Tensor,
    crop_size: Size | None = None,
    scales: Sequence[int] | None = None,
    flip: bool = True,
    reduce: str = "mean",
) -> torch.Tensor:
    r"""Test-time augmentation: class probabilities averaged over a fixed set of views.

    Views: without ``crop_size``, the image (and its mirror if ``flip``); with it, for every
    short-side size in ``scales`` (default: the image as it is) the 5 crops of
    :func:`five_crop`, or the 10 of :func:`ten_crop` if ``flip``. ``reduce="mean"`` averages
    the softmax probabilities, :math:`\bar p = \tfrac1V\sum_v \mathrm{softmax}(f(T_v x))` — a
    Monte-Carlo estimate of :math:`\mathbb{E}_T[f(Tx)]`; ``"vote"`` returns the fraction of
    views voting for each class (the majority vote is its argmax). The model runs in eval
    mode, restored afterwards. He et al. (2016) use 10 crops at 5 scales.

    Returns:
        (N, K) probabilities.
    """
    if reduce not in ("mean", "vote"):
        raise ValueError(f"reduce must be 'mean' or 'vote', got {reduce!r}")
    xb, _ = _as_batch(x)
    views: list[torch.Tensor] = []
    for s in scales if scales is not None else [None]:
        xs = xb if s is None else resize(xb, s)
        if crop_size is None:
            views.extend([xs, hflip(xs)] if flip else [xs])
        else:
            views.extend((ten_crop if flip else five_crop)(xs, crop_size).unbind(0))
    was_training = model.training
    model.eval()
    try:
        probs = torch.stack([torch.softmax(model(v), dim=-1) for v in views])
    finally:
        model.train(was_training)
    if reduce == "mean":
        return probs.mean(0)
    votes = one_hot(probs.argmax(-1), probs.shape[-1], dtype=probs.dtype)
    return votes.mean(0)
