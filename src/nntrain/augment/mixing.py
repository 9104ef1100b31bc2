"""Mixing augmentations: mixup and CutMix, which combine pairs of examples and their labels,
and :class:`BatchTransformLoader`, which applies such a batch transform inside any loader.

Both return soft targets (N, K); train on them with
:func:`nntrain.regularization.smoothed_cross_entropy` (re-exported by
:mod:`nntrain.augment`, with :func:`~nntrain.regularization.label_smoothing`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator

import numpy as np
import torch

from nntrain.augment._common import _permutation, _randint
from nntrain.regularization import one_hot

__all__ = ["mixup", "cutmix", "BatchTransformLoader"]


def _beta(alpha: float, generator: torch.Generator | None) -> float:
    """One draw of Beta(alpha, alpha), 1.0 when alpha <= 0.

    Seeded from ``generator`` (or torch's global generator) and drawn by NumPy's Beta sampler,
    which stays exact for very small alpha (draws close to 0 or 1).
    """
    if alpha <= 0:
        return 1.0
    if generator is None:
        seed = int(torch.randint(0, 2**62, (1,)))
    else:
        seed = int(torch.randint(0, 2**62, (1,), generator=generator, device=generator.device))
    return float(np.random.default_rng(seed).beta(alpha, alpha))


def _targets(y: torch.Tensor, num_classes: int, dtype: torch.dtype) -> torch.Tensor:
    """One-hot rows of integer labels, or soft (N, K) targets as given."""
    if y.is_floating_point():
        return y.to(dtype)
    return one_hot(y, num_classes, dtype=dtype)


def _target_dtype(x: torch.Tensor) -> torch.dtype:
    return x.dtype if x.is_floating_point() else torch.get_default_dtype()


def mixup(
    x: torch.Tensor,
    y: torch.Tensor,
    num_classes: int,
    alpha: float = 1.0,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor, float]:
    r"""mixup: train on convex combinations of pairs of examples and of their labels.

    One :math:`\lambda \sim \mathrm{Beta}(\alpha, \alpha)` per batch (:math:`\lambda = 1`
    when :math:`\alpha \le 0`) and a random permutation :math:`\pi` of the batch:

    .. math:: \tilde x_i = \lambda x_i + (1-\lambda)\,x_{\pi(i)}, \qquad
              \tilde y_i = \lambda\,\mathrm{onehot}(y_i) + (1-\lambda)\,\mathrm{onehot}(y_{\pi(i)}).

    Small :math:`\alpha` puts most draws near 0 or 1 (mild mixing); :math:`\alpha = 1` is
    uniform. Train with :func:`smoothed_cross_entropy` on the soft targets. Zhang, Cisse,
    Dauphin & Lopez-Paz (2018), "mixup: Beyond Empirical Risk Minimization", ICLR.

    Args:
        x: batch (N, ...) of any shape.
        y: integer labels (N,) or soft targets (N, K).
        num_classes: K.

    Returns:
        ``(x_mixed, y_soft, lam)`` with ``y_soft`` (N, K) in x's floating dtype.
    """
    lam = _beta(alpha, generator)
    perm = _permutation(x.shape[0], generator, x.device)
    targets = _targets(y, num_classes, _target_dtype(x)).to(x.device)
    x_mixed = lam * x + (1.0 - lam) * x[perm]
    y_soft = lam * targets + (1.0 - lam) * targets[perm]
    return x_mixed, y_soft, lam


def cutmix(
    x: torch.Tensor,
    y: torch.Tensor,
    num_classes: int,
    alpha: float = 1.0,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor, float]:
    r"""CutMix: paste a box of another image of the batch and mix labels by area.

    Draw :math:`\lambda_0 \sim \mathrm{Beta}(\alpha,\alpha)`; the box has sides
    :math:`\lfloor H\sqrt{1-\lambda_0}\rfloor \times \lfloor W\sqrt{1-\lambda_0}\rfloor`,
    is centred at a uniformly random pixel and clipped to the image; every image
    :math:`i` gets the box's pixels from :math:`x_{\pi(i)}` (one box and one permutation
    per batch). Because clipping can shrink the box, the label weight is the *kept area*

    .. math:: \lambda = 1 - \frac{|\text{box}|}{HW}, \qquad
              \tilde y_i = \lambda\,\mathrm{onehot}(y_i) + (1-\lambda)\,\mathrm{onehot}(y_{\pi(i)}),

    which is what is returned. :math:`\alpha \le 0` gives no box and :math:`\lambda = 1`.
    Yun, Han, Oh, Chun, Choe & Yoo (2019), "CutMix: Regularization Strategy to Train Strong
    Classifiers with Localizable Features", ICCV.

    Args:
        x: batch (N, C, H, W).
        y: integer labels (N,) or soft targets (N, K).
        num_classes: K.

    Returns:
        ``(x_mixed, y_soft, lam)``.
    """
    if x.dim() != 4:
        raise ValueError(f"cutmix expects a batch (N, C, H, W), got {tuple(x.shape)}")
    n, _, h, w = x.shape
    lam0 = _beta(alpha, generator)
    perm = _permutation(n, generator, x.device)
    targets = _targets(y, num_classes, _target_dtype(x)).to(x.device)
    cut = math.sqrt(1.0 - lam0)
    ch, cw = int(h * cut), int(w * cut)
    cy = int(_randint(h, (1,), generator, "cpu"))
    cx = int(_randint(w, (1,), generator, "cpu"))
    y0, y1 = max(cy - ch // 2, 0), min(cy - ch // 2 + ch, h)
    x0, x1 = max(cx - cw // 2, 0), min(cx - cw // 2 + cw, w)
    x_mixed = x.clone()
    x_mixed[:, :, y0:y1, x0:x1] = x[perm][:, :, y0:y1, x0:x1]
    lam = 1.0 - (y1 - y0) * (x1 - x0) / (h * w)
    y_soft = lam * targets + (1.0 - lam) * targets[perm]
    return x_mixed, y_soft, lam


class BatchTransformLoader:
    """Wrap a data loader so every batch ``(x, y)`` becomes ``transform(x, y)``.

    Lets a training loop that knows nothing about augmentation train on augmented batches,
    e.g. ``BatchTransformLoader(train_loader, lambda x, y: mixup(x, y, 10)[:2])`` (with a
    loss that accepts soft targets, such as :func:`smoothed_cross_entropy`).
    """

    def __init__(
        self,
        loader: Iterable,
        transform: Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]],
    ) -> None:
        self.loader = loader
        self.transform = transform

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for x, y in self.loader:
            yield self.transform(x, y)

    def __len__(self) -> int:
        return len(self.loader)  # type: ignore[arg-type]

    def __getattr__(self, name: str):
        # behave like the wrapped loader otherwise (batch_size, dataset, ...)
        return getattr(self.__dict__["loader"], name)
