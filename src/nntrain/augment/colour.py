"""Colour augmentations: brightness, contrast, saturation and hue, colour jitter, fancy PCA,
and the PIL-defined intensity operations of AutoAugment / RandAugment.

Images are floating point in [0, 1]; the colour operations clamp to that range (except
:func:`fancy_pca`, which is not clamped, as in the paper).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from nntrain.augment._common import (
    Number,
    _as_batch,
    _normal,
    _per_image,
    _unbatch,
    _uniform,
    _vector,
)

__all__ = [
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
]

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
