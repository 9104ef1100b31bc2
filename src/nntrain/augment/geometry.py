"""Data augmentation on batched image tensors (N, C, H, W), on any device.

Chapter 5 of the book (``book/05_augment.md``) runs on this module; the graded parts of
``a2_regularization`` it teaches are :func:`mixup`, :func:`cutmix`, :func:`cutout`, and
(from :mod:`nntrain.regularization`, re-exported here) :func:`label_smoothing` and
:func:`smoothed_cross_entropy`.

Augmentation is the "add randomness in training, marginalise at test" pattern applied to
the inputs: train on random transforms of each image, and at test time either use the
plain image or average the predictions over a fixed set of transforms (:func:`tta_predict`).

Conventions: images are floating point in [0, 1] (colour ops clamp to that range); a
single image (C, H, W) is accepted wherever a batch is; every random function takes an
optional ``torch.Generator`` and gives the same result for the same generator state (its
numbers are drawn on the generator's device, so a CPU generator gives the same
augmentation of CPU and CUDA batches); inputs are never modified in place. No torchvision:
geometry uses ``affine_grid``/``grid_sample``.

Public names
------------
Geometry: :func:`hflip`, :func:`random_hflip`, :func:`resize`, :func:`crop_resize`,
:func:`random_crop`, :func:`random_resized_crop`, :func:`scale_jitter`,
:func:`center_crop`, :func:`five_crop`, :func:`ten_crop`, :func:`tta_predict`,
:func:`rotate`, :func:`shear`, :func:`translate`.
Colour: :func:`grayscale`, :func:`adjust_brightness`, :func:`adjust_contrast`,
:func:`adjust_saturation`, :func:`adjust_hue`, :func:`color_jitter`, :func:`rgb_pca`,
:func:`fancy_pca`, :func:`autocontrast`, :func:`equalize`, :func:`solarize`,
:func:`posterize`, :func:`adjust_sharpness`.
RandAugment: :data:`RAND_AUGMENT_OPS`, :data:`MAX_MAGNITUDE`, :func:`rand_augment`,
:class:`RandAugment`.
Erasing and mixing: :func:`cutout`, :func:`random_erasing`, :func:`mixup`, :func:`cutmix`,
:func:`label_smoothing`, :func:`smoothed_cross_entropy`, :class:`BatchTransformLoader`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nntrain.regularization import (
    label_smoothing,
    one_hot,
    smoothed_cross_entropy,
    uniform,
)

__all__ = [
    "hflip",
    "random_hflip",
    "resize",
    "crop_resize",
    "random_crop",
    "random_resized_crop",
    "scale_jitter",
    "center_crop",
    "five_crop",
    "ten_crop",
    "tta_predict",
    "rotate",
    "shear",
    "translate",
    "grayscale",
    "adjust_brightness",
    "adjust_contrast",
    "adjust_saturation",
    "adjust_hue",
    "color_jitter",
    "rgb_pca",
    "fancy_pca",
    "autocontrast",
    "equalize",
    "solarize",
    "posterize",
    "adjust_sharpness",
    "MAX_MAGNITUDE",
    "RAND_AUGMENT_OPS",
    "rand_augment",
    "RandAugment",
    "cutout",
    "random_erasing",
    "mixup",
    "cutmix",
    "label_smoothing",
    "smoothed_cross_entropy",
    "BatchTransformLoader",
]

Number = float | torch.Tensor
Size = int | tuple[int, int]


# --------------------------------------------------------------------------- helpers
def _as_batch(x: torch.Tensor) -> tuple[torch.Tensor, bool]:
    """(N, C, H, W) view of ``x`` and whether it was a single (C, H, W) image."""
    if x.dim() == 3:
        return x.unsqueeze(0), True
    if x.dim() != 4:
        raise ValueError(f"expected (C, H, W) or (N, C, H, W) images, got {tuple(x.shape)}")
    return x, False


def _unbatch(x: torch.Tensor, single: bool) -> torch.Tensor:
    return x.squeeze(0) if single else x


def _pair(size: Size) -> tuple[int, int]:
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


def _per_image(value: Number, x: torch.Tensor) -> torch.Tensor:
    """A scalar or (N,) tensor of per-image values, shaped (N, 1, 1, 1) in x's dtype/device."""
    v = torch.as_tensor(value, dtype=x.dtype, device=x.device)
    return v.reshape(-1, 1, 1, 1) if v.dim() > 0 else v


def _normal(shape: tuple[int, ...], generator: torch.Generator | None, device) -> torch.Tensor:
    if generator is None:
        return torch.randn(shape, device=device)
    return torch.randn(shape, generator=generator, device=generator.device).to(device)


def _uniform(shape, low, high, generator, device) -> torch.Tensor:
    """U[low, high) in float64 (low/high may be tensors broadcasting with ``shape``)."""
    return low + (high - low) * uniform(shape, generator, device, torch.float64)


def _randint(high: torch.Tensor | int, shape, generator, device) -> torch.Tensor:
    """Integers uniform in {0, ..., high-1} (``high`` may be a tensor broadcasting with shape)."""
    u = uniform(shape, generator, device, torch.float64)
    high = torch.as_tensor(high, device=device)
    return torch.minimum((u * high).floor(), high - 1).long()


def _permutation(n: int, generator: torch.Generator | None, device) -> torch.Tensor:
    if generator is None:
        return torch.randperm(n).to(device)
    return torch.randperm(n, generator=generator, device=generator.device).to(device)


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


# --------------------------------------------------------------------------- geometry
def hflip(x: torch.Tensor) -> torch.Tensor:
    """Mirror images left-right: :math:`y[..., i, j] = x[..., i, W-1-j]`."""
    return x.flip(-1)


def random_hflip(
    x: torch.Tensor, p: float = 0.5, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Flip each image left-right independently with probability ``p``.

    The label-preserving transform used for natural images since Krizhevsky, Sutskever &
    Hinton (2012), "ImageNet Classification with Deep Convolutional Neural Networks".
    """
    xb, single = _as_batch(x)
    flip = uniform((xb.shape[0],), generator, xb.device) < p
    return _unbatch(torch.where(flip.view(-1, 1, 1, 1), xb.flip(-1), xb), single)


def resize(x: torch.Tensor, size: Size, antialias: bool = True) -> torch.Tensor:
    """Bilinear resize. An int ``size`` sets the *shorter* side (aspect ratio kept, as in the
    ResNet recipe); a pair sets (H, W). Antialiased when shrinking."""
    xb, single = _as_batch(x)
    h, w = xb.shape[-2:]
    if isinstance(size, int):
        short = min(h, w)
        out = (size, max(1, round(w * size / short))) if h <= w else (
            max(1, round(h * size / short)), size)
    else:
        out = _pair(size)
    y = F.interpolate(xb, size=out, mode="bilinear", align_corners=False, antialias=antialias)
    return _unbatch(y, single)


def _affine_theta(matrix: torch.Tensor, h: int, w: int) -> torch.Tensor:
    r"""``affine_grid``'s theta from an inverse map in *centred pixel* coordinates.

    ``matrix`` (N, 2, 3) maps an output pixel position :math:`p` (measured from the image
    centre, x right, y down) to the input position :math:`A p + t` it samples. With
    ``align_corners=False`` the normalised coordinate is :math:`u = 2p_x / W`.
    """
    a, t = matrix[:, :, :2], matrix[:, :, 2]
    theta = torch.empty_like(matrix)
    theta[:, 0, 0] = a[:, 0, 0]
    theta[:, 0, 1] = a[:, 0, 1] * h / w
    theta[:, 1, 0] = a[:, 1, 0] * w / h
    theta[:, 1, 1] = a[:, 1, 1]
    theta[:, 0, 2] = 2 * t[:, 0] / w
    theta[:, 1, 2] = 2 * t[:, 1] / h
    return theta


def _warp(
    x: torch.Tensor,
    theta: torch.Tensor,
    out_size: tuple[int, int],
    mode: str = "bilinear",
    fill: float = 0.0,
) -> torch.Tensor:
    """Sample ``x`` (N, C, H, W) on the grid of ``theta`` (N, 2, 3); outside pixels get ``fill``."""
    n, c = x.shape[:2]
    grid = F.affine_grid(theta.to(x.dtype), [n, c, *out_size], align_corners=False)
    out = F.grid_sample(x, grid, mode=mode, padding_mode="zeros", align_corners=False)
    if fill != 0.0:
        inside = F.grid_sample(
            torch.ones_like(x[:, :1]), grid, mode=mode, padding_mode="zeros", align_corners=False
        )
        out = out + (1.0 - inside) * fill
    return out


def crop_resize(
    x: torch.Tensor, boxes: torch.Tensor, size: Size, mode: str = "bilinear"
) -> torch.Tensor:
    """Crop one box per image and resize it to ``size`` in a single ``grid_sample``.

    ``boxes`` (N, 4) holds (top, left, height, width) in pixels (floats allowed). A box of
    integer coordinates whose size equals ``size`` reproduces plain slicing. Bilinear
    sampling does not antialias, so strong shrinking aliases (use :func:`resize` first).
    """
    xb, single = _as_batch(x)
    _, _, h, w = xb.shape
    boxes = boxes.to(device=xb.device, dtype=torch.float64).reshape(-1, 4)
    top, left, bh, bw = boxes.unbind(1)
    theta = torch.zeros(boxes.shape[0], 2, 3, dtype=torch.float64, device=xb.device)
    theta[:, 0, 0] = bw / w
    theta[:, 1, 1] = bh / h
    theta[:, 0, 2] = (2 * left + bw) / w - 1
    theta[:, 1, 2] = (2 * top + bh) / h - 1
    return _unbatch(_warp(xb, theta, _pair(size), mode), single)


def random_crop(
    x: torch.Tensor,
    size: Size,
    padding: int = 0,
    fill: float = 0.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """A random ``size`` window of each image, after padding every side by ``padding``.

    The "pad 4 and crop 32" recipe of CIFAR ResNets (He et al., 2016, "Deep Residual Learning
    for Image Recognition"); the window's top-left corner is uniform over valid positions.
    """
    xb, single = _as_batch(x)
    if padding > 0:
        xb = F.pad(xb, (padding,) * 4, value=fill)
    n, c, h, w = xb.shape
    ch, cw = _pair(size)
    if ch > h or cw > w:
        raise ValueError(f"crop {ch}×{cw} is larger than the (padded) image {h}×{w}")
    top = _randint(h - ch + 1, (n,), generator, xb.device)
    left = _randint(w - cw + 1, (n,), generator, xb.device)
    rows = (top[:, None] + torch.arange(ch, device=xb.device))[:, :, None]
    cols = (left[:, None] + torch.arange(cw, device=xb.device))[:, None, :]
    out = xb[torch.arange(n, device=xb.device)[:, None, None], :, rows, cols]  # (N, ch, cw, C)
    return _unbatch(out.permute(0, 3, 1, 2).contiguous(), single)


def random_resized_crop(
    x: torch.Tensor,
    size: Size,
    scale: tuple[float, float] = (0.08, 1.0),
    ratio: tuple[float, float] = (3 / 4, 4 / 3),
    generator: torch.Generator | None = None,
    attempts: int = 10,
) -> torch.Tensor:
    r"""Crop a random area fraction and aspect ratio of each image and resize it to ``size``.

    Per image: area :math:`a \sim U(\text{scale})\cdot HW`, aspect
    :math:`r = e^{U(\log r_0, \log r_1)}`, box :math:`\sqrt{ar}\times\sqrt{a/r}` (w × h) at a
    uniform position; the first of ``attempts`` draws that fits is used, else the central
    crop of the largest allowed aspect. The "Inception" crop of Szegedy et al. (2015),
    "Going Deeper with Convolutions", as in torchvision's ``RandomResizedCrop``.
    """
    xb, single = _as_batch(x)
    n, _, h, w = xb.shape
    dev = xb.device
    area = h * w * _uniform((n, attempts), scale[0], scale[1], generator, dev)
    log_r = _uniform((n, attempts), math.log(ratio[0]), math.log(ratio[1]), generator, dev)
    r = log_r.exp()
    bw = (area * r).sqrt().round()
    bh = (area / r).sqrt().round()
    ok = (bw > 0) & (bw <= w) & (bh > 0) & (bh <= h)
    first = torch.where(ok.any(1), ok.long().argmax(1), -1)
    # fallback: the whole image cropped to the nearest allowed aspect ratio
    in_ratio = w / h
    if in_ratio < min(ratio):
        fw, fh = w, round(w / min(ratio))
    elif in_ratio > max(ratio):
        fh, fw = h, round(h * max(ratio))
    else:
        fw, fh = w, h
    idx = first.clamp(min=0)[:, None]
    bw = torch.where(first >= 0, bw.gather(1, idx)[:, 0], float(fw))
    bh = torch.where(first >= 0, bh.gather(1, idx)[:, 0], float(fh))
    top = _randint((h - bh + 1).long(), (n,), generator, dev).double()
    left = _randint((w - bw + 1).long(), (n,), generator, dev).double()
    top = torch.where(first >= 0, top, ((h - bh) / 2).floor())
    left = torch.where(first >= 0, left, ((w - bw) / 2).floor())
    boxes = torch.stack([top, left, bh, bw], 1)
    return _unbatch(crop_resize(xb, boxes, size), single)


def scale_jitter(
    x: torch.Tensor,
    crop_size: Size,
    scale_range: tuple[int, int] = (256, 480),
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""The ResNet training crop: resize so the short side is :math:`L \sim U\{L_0..L_1\}`,
    then take a random ``crop_size`` patch (one L per image).

    Done as one crop of side ``crop · min(H, W) / L`` in the original image, resampled to
    ``crop_size``. He, Zhang, Ren & Sun (2016), "Deep Residual Learning for Image
    Recognition" (following Simonyan & Zisserman, 2015, "Very Deep Convolutional Networks").
    """
    xb, single = _as_batch(x)
    n, _, h, w = xb.shape
    ch, cw = _pair(crop_size)
    lo, hi = scale_range
    if lo < max(ch, cw):
        raise ValueError(f"the smallest scale {lo} is smaller than the crop {ch}×{cw}")
    L = lo + _randint(hi - lo + 1, (n,), generator, xb.device).double()
    factor = min(h, w) / L  # original pixels per resized pixel
    bh, bw = ch * factor, cw * factor
    top = (h - bh) * uniform((n,), generator, xb.device, torch.float64)
    left = (w - bw) * uniform((n,), generator, xb.device, torch.float64)
    boxes = torch.stack([top, left, bh, bw], 1)
    return _unbatch(crop_resize(xb, boxes, (ch, cw)), single)


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


def _affine(
    x: torch.Tensor, matrix: torch.Tensor, fill: float = 0.0, mode: str = "nearest"
) -> torch.Tensor:
    """Apply an inverse map in centred pixel coordinates (see :func:`_affine_theta`)."""
    xb, single = _as_batch(x)
    h, w = xb.shape[-2:]
    matrix = matrix.to(device=xb.device, dtype=torch.float64).expand(xb.shape[0], 2, 3)
    return _unbatch(_warp(xb, _affine_theta(matrix, h, w), (h, w), mode, fill), single)


def _vector(value: Number, n: int, device) -> torch.Tensor:
    return torch.as_tensor(value, dtype=torch.float64, device=device).expand(n).clone()


def rotate(
    x: torch.Tensor, angle: Number, fill: float = 0.0, mode: str = "nearest"
) -> torch.Tensor:
    """Rotate about the image centre by ``angle`` degrees counter-clockwise (per image if a
    (N,) tensor); pixels from outside the image get ``fill``."""
    xb, _ = _as_batch(x)
    a = torch.deg2rad(_vector(angle, xb.shape[0], xb.device))
    c, s = a.cos(), a.sin()
    z = torch.zeros_like(a)
    # output pixel (x, y) (y down) shows the input at R(angle)^{-1} (x, y)
    matrix = torch.stack([torch.stack([c, -s, z], 1), torch.stack([s, c, z], 1)], 1)
    return _affine(x, matrix, fill, mode)


def shear(
    x: torch.Tensor, factor: Number, axis: str = "x", fill: float = 0.0, mode: str = "nearest"
) -> torch.Tensor:
    """Shear about the centre: along x, output pixel (x, y) shows input (x + f·y, y)."""
    xb, _ = _as_batch(x)
    f = _vector(factor, xb.shape[0], xb.device)
    one, z = torch.ones_like(f), torch.zeros_like(f)
    if axis == "x":
        rows = [torch.stack([one, f, z], 1), torch.stack([z, one, z], 1)]
    elif axis == "y":
        rows = [torch.stack([one, z, z], 1), torch.stack([f, one, z], 1)]
    else:
        raise ValueError(f"axis must be 'x' or 'y', got {axis!r}")
    return _affine(x, torch.stack(rows, 1), fill, mode)


def translate(
    x: torch.Tensor, dx: Number = 0.0, dy: Number = 0.0, fill: float = 0.0, mode: str = "nearest"
) -> torch.Tensor:
    """Shift the content by (dx, dy) pixels (right, down); uncovered pixels get ``fill``."""
    xb, _ = _as_batch(x)
    n = xb.shape[0]
    tx, ty = _vector(dx, n, xb.device), _vector(dy, n, xb.device)
    one, z = torch.ones_like(tx), torch.zeros_like(tx)
    matrix = torch.stack([torch.stack([one, z, -tx], 1), torch.stack([z, one, -ty], 1)], 1)
    return _affine(x, matrix, fill, mode)


# --------------------------------------------------------------------------- colour
_LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601, as PIL's "L" conversion


def grayscale(x: torch.Tensor) -> torch.Tensor:
    """Luma :math:`0.299R + 0.587G + 0.114B` of RGB images, (N, 1, H, W); grey images as is."""
    if x.shape[-3] == 1:
        return x
    r, g, b = x.unbind(-3)
    return (_LUMA[0] * r + _LUMA[1] * g + _LUMA[2] * b).unsqueeze(-3)


def _blend(x: torch.Tensor, other: torch.Tensor, factor: Number) -> torch.Tensor:
    """:math:`\\mathrm{clamp}(o + f\\,(x - o), 0, 1)`: f = 0 gives ``other``, f = 1 gives ``x``."""
    xb, single = _as_batch(x)
    ob, _ = _as_batch(other)
    f = _per_image(factor, xb)
    return _unbatch((ob + f * (xb - ob)).clamp(0.0, 1.0), single)


def adjust_brightness(x: torch.Tensor, factor: Number) -> torch.Tensor:
    """:math:`\\mathrm{clamp}(f x)` — blend with black; f = 1 is the identity."""
    return _blend(x, torch.zeros_like(x), factor)


def adjust_contrast(x: torch.Tensor, factor: Number) -> torch.Tensor:
    """Blend with the image's mean grey level; f = 1 is the identity, 0 a flat grey image."""
    mean = grayscale(x).mean(dim=(-3, -2, -1), keepdim=True)
    return _blend(x, mean.expand_as(x), factor)


def adjust_saturation(x: torch.Tensor, factor: Number) -> torch.Tensor:
    """Blend with the grey version of the image; f = 1 is the identity, 0 removes colour."""
    return _blend(x, grayscale(x).expand_as(x), factor)


_RGB_TO_YIQ = torch.tensor(
    [[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]], dtype=torch.float64
)


def adjust_hue(x: torch.Tensor, shift: Number) -> torch.Tensor:
    """Rotate the hue by ``shift`` turns (in [−0.5, 0.5]): a rotation of the chroma plane
    (I, Q) of the YIQ colour space, which keeps luma. Grey images are returned unchanged."""
    xb, single = _as_batch(x)
    if xb.shape[1] != 3:
        return x
    m = _RGB_TO_YIQ.to(xb.device)
    a = 2 * math.pi * _vector(shift, xb.shape[0], xb.device)
    c, s = a.cos(), a.sin()
    rot = torch.zeros(xb.shape[0], 3, 3, dtype=torch.float64, device=xb.device)
    rot[:, 0, 0] = 1
    rot[:, 1, 1], rot[:, 1, 2], rot[:, 2, 1], rot[:, 2, 2] = c, -s, s, c
    full = (torch.linalg.inv(m) @ rot @ m).to(xb.dtype)  # (N, 3, 3) in RGB
    out = torch.einsum("nij,njhw->nihw", full, xb).clamp(0.0, 1.0)
    return _unbatch(out, single)


def color_jitter(
    x: torch.Tensor,
    brightness: float = 0.4,
    contrast: float = 0.4,
    saturation: float = 0.4,
    hue: float = 0.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Random brightness, contrast, saturation (factors :math:`U[\max(0,1-b), 1+b]`) and hue
    (shift :math:`U[-h, h]` turns), one draw per image, applied in that order.

    The simple colour augmentation of the lectures (Howard, 2013, "Some Improvements on Deep
    Convolutional Neural Network Based Image Classification"; torchvision's ``ColorJitter``).
    """
    xb, single = _as_batch(x)
    n, dev = xb.shape[0], xb.device
    out = xb
    for amount, fn in ((brightness, adjust_brightness), (contrast, adjust_contrast),
                       (saturation, adjust_saturation)):
        if amount > 0:
            out = fn(out, _uniform((n,), max(0.0, 1 - amount), 1 + amount, generator, dev))
    if hue > 0:
        out = adjust_hue(out, _uniform((n,), -hue, hue, generator, dev))
    return _unbatch(out, single)


def rgb_pca(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigen-decomposition of the 3×3 covariance of all RGB pixels of ``images`` (N, 3, H, W).

    Returns ``(eigvals, eigvecs)``: eigenvalues in decreasing order and the matching unit
    eigenvectors as the *columns* of ``eigvecs``, in ``images``' dtype.
    """
    pixels = images.movedim(-3, -1).reshape(-1, images.shape[-3]).double()
    cov = torch.cov(pixels.T)
    vals, vecs = torch.linalg.eigh(cov)
    order = vals.argsort(descending=True)
    return vals[order].to(images.dtype), vecs[:, order].to(images.dtype)


def fancy_pca(
    x: torch.Tensor,
    eigvals: torch.Tensor | None = None,
    eigvecs: torch.Tensor | None = None,
    alpha_std: float = 0.1,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""PCA colour augmentation ("fancy PCA") of Krizhevsky, Sutskever & Hinton (2012).

    To every pixel of an image add the same colour offset

    .. math:: \delta = [p_1, p_2, p_3]\,[\alpha_1\lambda_1, \alpha_2\lambda_2,
              \alpha_3\lambda_3]^\top, \qquad \alpha_i \sim \mathcal N(0, \sigma^2),

    where :math:`p_i, \lambda_i` are the eigenvectors and eigenvalues of the covariance of
    the training set's RGB pixels (:func:`rgb_pca`; computed from ``x`` when not given),
    :math:`\sigma` = ``alpha_std`` = 0.1 in the paper, and the :math:`\alpha_i` are drawn
    once per image. The offset follows the directions in which natural colours vary, so
    the augmentation changes illumination intensity and colour but not object identity.
    (Many implementations, e.g. fb.resnet.torch, pass the square roots of the eigenvalues
    instead.) The result is not clamped.
    """
    xb, single = _as_batch(x)
    if eigvals is None or eigvecs is None:
        eigvals, eigvecs = rgb_pca(xb)
    alpha = alpha_std * _normal((xb.shape[0], eigvals.shape[0]), generator, xb.device)
    alpha = alpha.to(xb.dtype)
    delta = (alpha * eigvals.to(xb)) @ eigvecs.to(xb).T  # (N, 3): sum_i alpha_i lambda_i p_i
    return _unbatch(xb + delta[:, :, None, None], single)


# -- the PIL-style operations of AutoAugment / RandAugment, on [0, 1] images
def _levels(x: torch.Tensor) -> torch.Tensor:
    """8-bit levels 0..255 of a [0, 1] image."""
    return (x.clamp(0.0, 1.0) * 255.0).round()


def autocontrast(x: torch.Tensor) -> torch.Tensor:
    """Stretch each channel of each image to span [0, 1] (constant channels unchanged)."""
    lo = x.amin(dim=(-2, -1), keepdim=True)
    hi = x.amax(dim=(-2, -1), keepdim=True)
    span = hi - lo
    flat = span <= 0
    return torch.where(flat, x, (x - lo) / torch.where(flat, torch.ones_like(span), span))


def equalize(x: torch.Tensor) -> torch.Tensor:
    """Histogram equalisation of each channel on 256 levels, PIL's ``ImageOps.equalize``.

    With histogram :math:`h`, step :math:`s = \\lfloor (\\sum h - h_{\\text{last}})/255
    \\rfloor` (:math:`h_{\\text{last}}` the count of the highest level present), level
    :math:`v` maps to :math:`\\min(255, \\lfloor (\\sum_{u<v} h_u + \\lfloor s/2 \\rfloor)/s
    \\rfloor)`; channels with :math:`s = 0` are unchanged. Output is on the 8-bit grid.
    """
    xb, single = _as_batch(x)
    n, c, h, w = xb.shape
    v = _levels(xb).long().reshape(n * c, h * w)
    hist = torch.zeros(n * c, 256, dtype=torch.long, device=xb.device)
    hist.scatter_add_(1, v, torch.ones_like(v))
    last = 255 - (hist.flip(1) > 0).long().argmax(1, keepdim=True)
    step = (hist.sum(1, keepdim=True) - hist.gather(1, last)) // 255
    cum = hist.cumsum(1) - hist
    lut = ((cum + step // 2) // step.clamp(min=1)).clamp(max=255)
    out = torch.where(step > 0, lut.gather(1, v), v)
    return _unbatch((out.to(xb.dtype) / 255.0).reshape(n, c, h, w), single)


def solarize(x: torch.Tensor, threshold: Number) -> torch.Tensor:
    """Invert the pixels *above* ``threshold``: :math:`x > t \\Rightarrow 1 - x`
    (t = 1 is the identity on [0, 1] images)."""
    xb, single = _as_batch(x)
    t = _per_image(threshold, xb)
    return _unbatch(torch.where(xb > t, 1.0 - xb, xb), single)


def posterize(x: torch.Tensor, bits: int | torch.Tensor) -> torch.Tensor:
    """Keep the ``bits`` most significant bits of each 8-bit level (8 bits: the image rounded
    to the 8-bit grid, i.e. the identity for 8-bit images)."""
    xb, single = _as_batch(x)
    b = torch.as_tensor(bits, device=xb.device)
    q = (2.0 ** (8 - b)).to(xb.dtype)
    q = q.reshape(-1, 1, 1, 1) if q.dim() > 0 else q
    levels = _levels(xb)
    return _unbatch((levels - torch.remainder(levels, q)) / 255.0, single)


def adjust_sharpness(x: torch.Tensor, factor: Number) -> torch.Tensor:
    """Blend with PIL's SMOOTH-filtered image (kernel [[1,1,1],[1,5,1],[1,1,1]]/13, border
    pixels kept): f = 1 is the identity, f > 1 sharpens, f < 1 blurs."""
    xb, single = _as_batch(x)
    c = xb.shape[1]
    kernel = torch.ones(3, 3, dtype=xb.dtype, device=xb.device)
    kernel[1, 1] = 5.0
    kernel = (kernel / 13.0).expand(c, 1, 3, 3)
    smooth = xb.clone()
    if xb.shape[-1] > 2 and xb.shape[-2] > 2:
        smooth[..., 1:-1, 1:-1] = F.conv2d(xb, kernel, groups=c)
    return _unbatch(_blend(xb, smooth, factor), single)


# --------------------------------------------------------------------------- RandAugment
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


# --------------------------------------------------------------------------- erasing
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


# --------------------------------------------------------------------------- mixing
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
