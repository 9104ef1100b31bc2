"""Geometric augmentations: flips, resizing, crops, scale jitter and affine warps.

The label-preserving transforms of image classification: mirror images
(Krizhevsky et al., 2012), pad-and-crop (He et al., 2016), the Inception crop
(Szegedy et al., 2015), the ResNet scale jitter (He et al., 2016), and the rotations,
shears and translations of RandAugment (:mod:`nntrain.augment.randaugment`). No
torchvision: every resampling is one ``affine_grid``/``grid_sample``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from nntrain.augment._common import (
    Number,
    Size,
    _as_batch,
    _pair,
    _randint,
    _unbatch,
    _uniform,
    _vector,
)
from nntrain.regularization import uniform

__all__ = [
    "hflip",
    "random_hflip",
    "resize",
    "crop_resize",
    "random_crop",
    "random_resized_crop",
    "scale_jitter",
    "rotate",
    "shear",
    "translate",
]


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


def _affine(
    x: torch.Tensor, matrix: torch.Tensor, fill: float = 0.0, mode: str = "nearest"
) -> torch.Tensor:
    """Apply an inverse map in centred pixel coordinates (see :func:`_affine_theta`)."""
    xb, single = _as_batch(x)
    h, w = xb.shape[-2:]
    matrix = matrix.to(device=xb.device, dtype=torch.float64).expand(xb.shape[0], 2, 3)
    return _unbatch(_warp(xb, _affine_theta(matrix, h, w), (h, w), mode, fill), single)


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
