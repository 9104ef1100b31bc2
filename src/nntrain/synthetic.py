"""Procedurally generated training sets: many distorted copies of scikit-learn's digits.

The 1797 digits that ship with scikit-learn are too few for experiments whose effect needs
data, such as large-batch training (a batch must be a small fraction of the training set) or
transfer learning (the source task must be much larger than the target). This module makes as
many examples as asked for by warping the digits onto a larger canvas with random affine maps
and, optionally, elastic distortions, the two augmentations with which Simard et al. (2003,
"Best Practices for Convolutional Neural Networks Applied to Visual Document Analysis")
enlarged MNIST. Nothing is downloaded.

Each split of :func:`distorted_digits` is generated only from the *original* images of the same
split of :func:`nntrain.data.load_digits`, so validation and test images come from writers the
training set never saw: a model must generalise across writers, not only across distortions.

Public names
------------
distort
    Random affine (rotation, scale, shear, shift) and elastic warps of images onto a canvas.
distorted_digits
    ``Splits`` of ``n_train``/``n_val``/``n_test`` distorted digits (optionally some classes only).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset

from nntrain.data import Splits, load_digits, subset_by_labels

__all__ = ["distort", "distorted_digits"]


def _gaussian_blur(field: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian smoothing (standard deviation ``sigma`` pixels, edges replicated) of the last
    two axes of ``field``, as two matrix products (much faster than a grouped convolution)."""

    def blur_matrix(size: int) -> torch.Tensor:
        radius = max(1, math.ceil(3 * sigma))
        t = torch.arange(-radius, radius + 1, dtype=field.dtype, device=field.device)
        kernel = torch.exp(-0.5 * (t / sigma) ** 2)
        kernel = kernel / kernel.sum()
        rows = torch.arange(size, device=field.device).unsqueeze(1)
        cols = (rows + torch.arange(-radius, radius + 1, device=field.device)).clamp(0, size - 1)
        matrix = torch.zeros(size, size, dtype=field.dtype, device=field.device)
        return matrix.index_put_((rows.expand_as(cols), cols), kernel.expand_as(cols),
                                 accumulate=True)

    return blur_matrix(field.shape[-2]) @ field @ blur_matrix(field.shape[-1]).T


def distort(
    images: torch.Tensor,
    canvas: int = 12,
    *,
    rotation: float = 15.0,
    scale: tuple[float, float] = (0.85, 1.15),
    shear: float = 0.2,
    shift: float = 2.0,
    elastic_alpha: float = 0.0,
    elastic_sigma: float = 1.5,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Warp each image of ``images`` (N, C, h, w) onto a ``canvas`` × ``canvas`` background.

    The image is centred on the canvas and resampled bilinearly at
    :math:`p' = A^{-1}(p - t) + d(p)`, where :math:`A = R(\theta)\,S(s)\,H(\gamma)` is a rotation
    by :math:`\theta \sim U(-\text{rotation}, \text{rotation})` degrees, an isotropic scaling by
    :math:`s \sim U(\text{scale})` and a horizontal shear :math:`\gamma \sim U(-\text{shear},
    \text{shear})`, :math:`t \sim U(-\text{shift}, \text{shift})^2` a shift in pixels, and
    :math:`d` an elastic displacement field: i.i.d. :math:`U(-1, 1)` displacements per pixel,
    smoothed by a Gaussian of width ``elastic_sigma`` and scaled by ``elastic_alpha`` pixels
    (Simard et al., 2003). Pixels that fall outside the image are 0 (the digits' background).

    Returns a float tensor (N, C, canvas, canvas); the input is not modified.
    """
    if images.ndim != 4:
        raise ValueError(f"images must be (N, C, H, W), got shape {tuple(images.shape)}")
    if canvas < max(images.shape[-2:]):
        raise ValueError(f"canvas {canvas} is smaller than the images {tuple(images.shape[-2:])}")
    n, c, h, w = images.shape
    if n == 0:
        return images.new_zeros((0, c, canvas, canvas), dtype=torch.float32)
    x = images.float()
    pad_h, pad_w = canvas - h, canvas - w
    x = F.pad(x, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2))

    def uniform(low: float, high: float, *shape: int) -> torch.Tensor:
        return low + (high - low) * torch.rand(n, *shape, generator=generator)

    angle = torch.deg2rad(uniform(-rotation, rotation))
    s = uniform(*scale)
    g = uniform(-shear, shear)
    t = uniform(-shift, shift, 2)
    cos, sin = torch.cos(angle), torch.sin(angle)
    # forward map A = R S H with H = [[1, g], [0, 1]]; the grid needs its inverse
    forward = torch.stack([torch.stack([cos * s, (cos * g - sin) * s], -1),
                           torch.stack([sin * s, (sin * g + cos) * s], -1)], -2)
    inverse = torch.linalg.inv(forward)
    # centred pixel coordinates -> normalised [-1, 1] (align_corners=False): u = 2 p / canvas
    theta = torch.cat([inverse, (-inverse @ (2 * t / canvas).unsqueeze(-1))], -1)
    grid = F.affine_grid(theta, [n, 1, canvas, canvas], align_corners=False)
    if elastic_alpha > 0:
        field = uniform(-1.0, 1.0, 2, canvas, canvas)
        field = _gaussian_blur(field, elastic_sigma)
        field = field / field.abs().amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-12)
        grid = grid + (2 * elastic_alpha / canvas) * field.permute(0, 2, 3, 1)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def distorted_digits(
    n_train: int = 20_000,
    n_val: int = 2_000,
    n_test: int = 2_000,
    *,
    canvas: int = 12,
    labels: Sequence[int] | None = None,
    seed: int = 0,
    split_seed: int = 0,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    normalize: bool = True,
    flatten: bool = False,
    **distortion: float,
) -> Splits:
    r"""``n_train``/``n_val``/``n_test`` distorted digits, each split from its own writers.

    The 1797 digits are first split by :func:`nntrain.data.load_digits` (stratified,
    ``split_seed``, ``val_fraction``, ``test_fraction``); every example of a split is then a
    random original *of that split* (drawn with replacement) warped by :func:`distort` onto a
    ``canvas`` × ``canvas`` image with the keyword arguments ``distortion``. With ``labels``
    only those classes are kept and renumbered 0..k-1 (as :func:`nntrain.data.subset_by_labels`).
    Pixels are in [0, 1]; with ``normalize=True`` they are standardised,
    :math:`(x - \mu)/\sigma`, with the mean and standard deviation of the generated *training*
    pixels. ``seed`` fixes the draws and the distortions (the same arguments give the same data).

    Returns ``Splits`` of ``TensorDataset(x float32 (N, 1, canvas, canvas), y int64)``, or
    ``x`` of shape (N, canvas²) with ``flatten=True``.
    """
    originals = load_digits(split_seed, val_fraction, test_fraction, flatten=False,
                            normalize=False)
    generator = torch.Generator().manual_seed(seed)
    made = []
    for split, n in zip(originals, (n_train, n_val, n_test), strict=True):
        if labels is not None:
            split = subset_by_labels(split, labels)
        x, y = split.tensors
        if n > 0 and len(y) == 0:
            raise ValueError("no original images of the requested labels in this split")
        pick = torch.randint(len(y), (n,), generator=generator)
        made.append([distort(x[pick], canvas, generator=generator, **distortion), y[pick]])
    if normalize:
        mean, std = made[0][0].mean(), made[0][0].std()
        for pair in made:
            pair[0] = (pair[0] - mean) / std
    if flatten:
        for pair in made:
            pair[0] = pair[0].flatten(1)
    return Splits(*(TensorDataset(x, y) for x, y in made))
