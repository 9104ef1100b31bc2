"""Data preprocessing: centring and standardising, PCA, PCA- and ZCA-whitening, image statistics.

Every transform is *fitted on training data* and then *applied* unchanged to validation and
test data (fitting on all data would leak information about the test set).  Data matrices are
(N, D) with one example per row; ``Standardizer`` also takes other reduction dimensions, e.g.
``dim=(0, 2, 3)`` for per-channel statistics of (N, C, H, W) images.

Conventions: standard deviations are population ones (divide by N, as ``np.std`` and
scikit-learn's ``StandardScaler``); covariances for PCA and whitening divide by N - 1 (as
scikit-learn's ``PCA``), so whitened training data has unbiased sample covariance exactly I.

Public names
------------
``Standardizer``, ``PCAResult``, ``pca``, ``Whitener``, ``pca_whiten``, ``zca_whiten``,
``per_channel_mean_std``, ``mean_image``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import Tensor

__all__ = [
    "PCAResult",
    "Standardizer",
    "Whitener",
    "mean_image",
    "pca",
    "pca_whiten",
    "per_channel_mean_std",
    "zca_whiten",
]


def _as_dims(dim: int | Sequence[int], ndim: int) -> tuple[int, ...]:
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    return tuple(sorted(d % ndim for d in dims))


class Standardizer:
    r"""Zero-centring and normalisation fitted on training data:
    :math:`\hat x = (x - \mu) / \sigma` with :math:`\mu`, :math:`\sigma` the mean and
    (population) standard deviation over ``dim`` of the data given to ``fit``.

    ``center_only=True`` only subtracts the mean (the lectures' ``X -= np.mean(X, axis=0)``).
    Features with zero spread are left unscaled (σ treated as 1), as scikit-learn does.
    ``dim=0`` (default) gives per-feature statistics of an (N, D) matrix; for (N, C, H, W)
    images ``dim=(0, 2, 3)`` gives per-channel mean/std (the ResNet convention) and ``dim=0``
    the mean image (the AlexNet convention, with ``center_only=True``).
    See LeCun et al. (1998), "Efficient BackProp", for why centred, equally scaled inputs
    make gradient descent better conditioned.
    """

    def __init__(self, center_only: bool = False, dim: int | Sequence[int] = 0) -> None:
        self.center_only = center_only
        self.dim = dim
        self.mean_: Tensor | None = None
        self.std_: Tensor | None = None

    def fit(self, x: Tensor) -> Standardizer:
        """Estimate the mean (and std) over ``dim`` of ``x``; returns ``self``."""
        dims = _as_dims(self.dim, x.dim())
        self.mean_ = x.mean(dim=dims, keepdim=True)
        if not self.center_only:
            std = x.std(dim=dims, correction=0, keepdim=True)
            self.std_ = torch.where(std > 0, std, torch.ones_like(std))
        return self

    def _check_fitted(self) -> None:
        if self.mean_ is None:
            raise RuntimeError("call fit(x_train) before transform")

    def transform(self, x: Tensor) -> Tensor:
        """Apply the fitted statistics: :math:`(x - \\mu)/\\sigma` (or :math:`x - \\mu`)."""
        self._check_fitted()
        out = x - self.mean_
        return out if self.center_only else out / self.std_

    def inverse_transform(self, x: Tensor) -> Tensor:
        """Undo ``transform``: :math:`\\hat x\\,\\sigma + \\mu`."""
        self._check_fitted()
        return (x if self.center_only else x * self.std_) + self.mean_

    def fit_transform(self, x: Tensor) -> Tensor:
        return self.fit(x).transform(x)

    def __call__(self, x: Tensor) -> Tensor:
        return self.transform(x)


class PCAResult(NamedTuple):
    """``components``: (k, D), orthonormal rows, the principal directions by decreasing
    variance; ``explained_variance``: (k,), the variance along each (divisor N - 1);
    ``mean``: (D,), the mean removed before projecting."""

    components: Tensor
    explained_variance: Tensor
    mean: Tensor

    def transform(self, x: Tensor) -> Tensor:
        """Coordinates in the principal basis: :math:`(x - \\mu) U_k`, shape (N, k)."""
        return (x - self.mean) @ self.components.T

    def inverse_transform(self, z: Tensor) -> Tensor:
        """Back to the input space: :math:`z U_k^\\top + \\mu` (exact when k = D)."""
        return z @ self.components + self.mean


def pca(x: Tensor, k: int | None = None) -> PCAResult:
    r"""Principal component analysis of an (N, D) data matrix.

    With :math:`X_c = X - \bar x` and the covariance :math:`C = X_c^\top X_c / (N-1) =
    U \Lambda U^\top`, the top-``k`` eigenvectors (rows of ``components``) and eigenvalues
    (``explained_variance``) in decreasing order; computed from the SVD of :math:`X_c`.  Each
    direction's sign is fixed so its largest-magnitude entry is positive.  Projecting onto
    the components decorrelates the data (diagonal covariance).  Pearson (1901), "On lines
    and planes of closest fit to systems of points in space".
    """
    if x.dim() != 2:
        raise ValueError(f"pca expects an (N, D) matrix, got shape {tuple(x.shape)}")
    n, d = x.shape
    if n < 2:
        raise ValueError("pca needs at least 2 examples")
    k = min(n, d) if k is None else k
    if not 1 <= k <= min(n, d):
        raise ValueError(f"k must be in [1, {min(n, d)}], got {k}")
    mean = x.mean(dim=0)
    _, s, vh = torch.linalg.svd(x - mean, full_matrices=False)
    components = vh[:k]
    # deterministic signs: the largest |entry| of each component is positive
    rows = torch.arange(k, device=x.device)
    signs = torch.sign(components[rows, components.abs().argmax(dim=1)])
    components = components * torch.where(signs == 0, 1.0, signs).unsqueeze(1)
    return PCAResult(components, s[:k] ** 2 / (n - 1), mean)


class Whitener:
    r"""PCA- or ZCA-whitening fitted on training data.

    With the training covariance :math:`C = U \Lambda U^\top` (divisor N - 1):

    - PCA whitening: :math:`z = (x - \mu)\,U_k (\Lambda_k + \epsilon)^{-1/2}` — rotate onto the
      principal axes, then scale each to unit variance (optionally keeping ``k`` axes);
    - ZCA whitening: :math:`z = (x - \mu)\,U (\Lambda + \epsilon)^{-1/2} U^\top` — the same, then
      rotated back, the whitening closest to the original data (the matrix is symmetric).

    With :math:`\epsilon = 0` the whitened training data has covariance exactly I; a small
    :math:`\epsilon` keeps directions of (near-)zero variance from being blown up.
    Bell and Sejnowski (1997), "The 'independent components' of natural scenes are edge
    filters" (ZCA); Krizhevsky (2009), "Learning Multiple Layers of Features from Tiny
    Images" (whitening CIFAR-10); Kessy, Lewin and Strimmer (2018), "Optimal Whitening and
    Decorrelation".
    """

    def __init__(self, method: str = "zca", k: int | None = None, eps: float = 1e-5) -> None:
        if method not in ("pca", "zca"):
            raise ValueError(f"method must be 'pca' or 'zca', got {method!r}")
        if method == "zca" and k is not None:
            raise ValueError("ZCA whitening keeps every direction; k is for method='pca'")
        if eps < 0:
            raise ValueError(f"eps must be >= 0, got {eps}")
        self.method, self.k, self.eps = method, k, eps
        self.mean_: Tensor | None = None
        self.matrix_: Tensor | None = None  # (D, k) for PCA, (D, D) for ZCA

    def fit(self, x: Tensor) -> Whitener:
        """Estimate the mean and whitening matrix from (N, D) training data; returns ``self``."""
        result = pca(x, self.k)
        scale = torch.rsqrt(result.explained_variance + self.eps)
        u = result.components.T  # (D, k)
        self.mean_ = result.mean
        self.matrix_ = u * scale if self.method == "pca" else (u * scale) @ u.T
        return self

    def transform(self, x: Tensor) -> Tensor:
        """Whiten ``x`` (training or new data) with the fitted statistics."""
        if self.matrix_ is None:
            raise RuntimeError("call fit(x_train) before transform")
        return (x - self.mean_) @ self.matrix_

    def fit_transform(self, x: Tensor) -> Tensor:
        return self.fit(x).transform(x)

    def __call__(self, x: Tensor) -> Tensor:
        return self.transform(x)


def pca_whiten(
    x: Tensor, k: int | None = None, eps: float = 1e-5, fit_on: Tensor | None = None
) -> Tensor:
    r"""PCA-whiten ``x``: :math:`(x - \mu) U_k (\Lambda_k + \epsilon)^{-1/2}`, statistics from
    ``fit_on`` (the training data; default ``x`` itself).  See ``Whitener``."""
    return Whitener("pca", k, eps).fit(x if fit_on is None else fit_on).transform(x)


def zca_whiten(x: Tensor, eps: float = 1e-5, fit_on: Tensor | None = None) -> Tensor:
    r"""ZCA-whiten ``x``: :math:`(x - \mu) U (\Lambda + \epsilon)^{-1/2} U^\top`, statistics from
    ``fit_on`` (the training data; default ``x`` itself).  See ``Whitener``."""
    return Whitener("zca", None, eps).fit(x if fit_on is None else fit_on).transform(x)


def _check_images(images: Tensor) -> None:
    if images.dim() != 4:
        raise ValueError(f"expected images of shape (N, C, H, W), got {tuple(images.shape)}")


def per_channel_mean_std(images: Tensor) -> tuple[Tensor, Tensor]:
    """Mean and (population) std of each channel over all images and pixels of an
    (N, C, H, W) batch: two (C,) tensors.  Subtracting the mean is VGG's convention
    (Simonyan and Zisserman 2015); dividing by the std too is ResNet's (He et al. 2016)."""
    _check_images(images)
    dims = (0, 2, 3)
    return images.mean(dim=dims), images.std(dim=dims, correction=0)


def mean_image(images: Tensor) -> Tensor:
    """The mean image of an (N, C, H, W) batch, shape (C, H, W); subtracting it is AlexNet's
    convention (Krizhevsky, Sutskever and Hinton 2012)."""
    _check_images(images)
    return images.mean(dim=0)
