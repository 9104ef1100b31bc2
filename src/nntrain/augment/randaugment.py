"""RandAugment: ``n`` random operations at one shared magnitude ``m``.

Cubuk, Zoph, Shlens & Le (2020), "RandAugment: Practical Automated Data Augmentation with a
Reduced Search Space", CVPR Workshops. The 14 operations are the geometric warps of
:mod:`nntrain.augment.geometry` and the colour operations of :mod:`nntrain.augment.colour`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from nntrain.augment._common import Number, _as_batch, _randint, _unbatch, _vector
from nntrain.augment.colour import (
    adjust_brightness,
    adjust_contrast,
    adjust_saturation,
    adjust_sharpness,
    autocontrast,
    equalize,
    posterize,
    solarize,
)
from nntrain.augment.geometry import rotate, shear, translate
from nntrain.regularization import uniform

__all__ = ["MAX_MAGNITUDE", "RAND_AUGMENT_OPS", "rand_augment", "RandAugment"]

MAX_MAGNITUDE = 30
"""RandAugment magnitudes run over the integers 0..30 (torchvision's 31 bins); the lectures'
example is M = 9."""


def _fraction(magnitude: Number, x: torch.Tensor) -> torch.Tensor:
    """Magnitude on the 0..30 scale as a per-image float64 fraction of the maximum."""
    xb, _ = _as_batch(x)
    return _vector(magnitude, xb.shape[0], xb.device) / MAX_MAGNITUDE


# Each op: (x, magnitude) -> x. ``magnitude`` is on the 0..MAX_MAGNITUDE scale (a float or a
# per-image (N,) tensor); a negative magnitude reverses the direction of the signed ops
# (rotations, shears, translations and the enhance factors). Maximum strengths follow
# torchvision's RandAugment: rotate 30°, shear 0.3, translate 150/331 of the size,
# enhance factors 1 ± 0.9, posterize down to 4 bits, solarize threshold down to 0.
RAND_AUGMENT_OPS: dict[str, Callable[[torch.Tensor, Number], torch.Tensor]] = {
    "Identity": lambda x, m: x.clone(),
    "AutoContrast": lambda x, m: autocontrast(x),
    "Equalize": lambda x, m: equalize(x),
    "Rotate": lambda x, m: rotate(x, 30.0 * _fraction(m, x)),
    "Solarize": lambda x, m: solarize(x, (1.0 - _fraction(m, x).abs()).to(x.dtype)),
    "Color": lambda x, m: adjust_saturation(x, 1.0 + 0.9 * _fraction(m, x)),
    "Posterize": lambda x, m: posterize(x, 8 - (4 * _fraction(m, x).abs()).round().long()),
    "Contrast": lambda x, m: adjust_contrast(x, 1.0 + 0.9 * _fraction(m, x)),
    "Brightness": lambda x, m: adjust_brightness(x, 1.0 + 0.9 * _fraction(m, x)),
    "Sharpness": lambda x, m: adjust_sharpness(x, 1.0 + 0.9 * _fraction(m, x)),
    "ShearX": lambda x, m: shear(x, 0.3 * _fraction(m, x), "x"),
    "ShearY": lambda x, m: shear(x, 0.3 * _fraction(m, x), "y"),
    "TranslateX": lambda x, m: translate(x, dx=150 / 331 * x.shape[-1] * _fraction(m, x)),
    "TranslateY": lambda x, m: translate(x, dy=150 / 331 * x.shape[-2] * _fraction(m, x)),
}
_SIGNED_OPS = frozenset(
    {"Rotate", "Color", "Contrast", "Brightness", "Sharpness", "ShearX", "ShearY",
     "TranslateX", "TranslateY"}
)


def rand_augment(
    x: torch.Tensor,
    n: int = 2,
    m: float = 9,
    generator: torch.Generator | None = None,
    ops: Sequence[str] | None = None,
) -> torch.Tensor:
    """RandAugment: apply ``n`` operations drawn uniformly (with replacement) from the 14 of
    :data:`RAND_AUGMENT_OPS`, all at the one magnitude ``m`` (0..30).

    Ops and signs (for the signed ops, ± with probability 1/2) are drawn independently for
    each image. Two hyperparameters replace AutoAugment's searched policy. Cubuk, Zoph,
    Shlens & Le (2020), "RandAugment: Practical Automated Data Augmentation with a Reduced
    Search Space", CVPR Workshops.
    """
    names = list(RAND_AUGMENT_OPS) if ops is None else list(ops)
    xb, single = _as_batch(x)
    out = xb.clone()
    count = xb.shape[0]
    for _ in range(n):
        choice = _randint(len(names), (count,), generator, xb.device)
        sign = torch.where(uniform((count,), generator, xb.device) < 0.5, -1.0, 1.0)
        for k, name in enumerate(names):
            idx = (choice == k).nonzero().flatten()
            if idx.numel() == 0:
                continue
            mag = m * (sign[idx].double() if name in _SIGNED_OPS else 1.0)
            out[idx] = RAND_AUGMENT_OPS[name](out[idx], mag).to(out.dtype)
    return _unbatch(out, single)


class RandAugment(nn.Module):
    """:func:`rand_augment` as a module (applies in train and eval mode alike: use it as a
    transform of the training data, not as a layer of the model)."""

    def __init__(self, n: int = 2, m: float = 9, generator: torch.Generator | None = None):
        super().__init__()
        self.n, self.m, self.generator = n, m, generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return rand_augment(x, self.n, self.m, self.generator)

    def extra_repr(self) -> str:
        return f"n={self.n}, m={self.m}"
