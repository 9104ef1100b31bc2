"""nntrain.preprocessing against scikit-learn / NumPy and on exact algebraic properties:
whitened training covariance is the identity, the ZCA matrix is symmetric, statistics are
fitted on training data and applied unchanged to new data."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

from nntrain import preprocessing as P

TIGHT = {"rtol": 1e-10, "atol": 1e-10}


def _correlated(n: int, d: int, seed: int, device="cpu", dtype=torch.float64) -> torch.Tensor:
    """Gaussian data with a random, strongly anisotropic covariance and a non-zero mean."""
    gen = torch.Generator().manual_seed(seed)
    mix = torch.randn(d, d, generator=gen, dtype=torch.float64) * torch.logspace(0, 2, d).double()
    x = torch.randn(n, d, generator=gen, dtype=torch.float64) @ mix + 5.0
    return x.to(device=device, dtype=dtype)


def _cov(z: torch.Tensor) -> torch.Tensor:
    zc = z - z.mean(dim=0)
    return zc.T @ zc / (z.shape[0] - 1)


# ------------------------------------------------------------------ Standardizer
@pytest.mark.parametrize("center_only", [False, True])
def test_standardizer_matches_sklearn(center_only):
    train, test = _correlated(200, 6, 0), _correlated(50, 6, 1)
    train[:, 2] = 3.0  # a constant feature: left unscaled, as sklearn does
    ours = P.Standardizer(center_only=center_only).fit(train)
    ref = StandardScaler(with_std=not center_only).fit(train.numpy())
    for x in (train, test):
        expected = torch.from_numpy(ref.transform(x.numpy()))
        torch.testing.assert_close(ours.transform(x), expected, **TIGHT)
        torch.testing.assert_close(ours.inverse_transform(ours.transform(x)), x, **TIGHT)
    torch.testing.assert_close(ours.mean_.squeeze(0), torch.from_numpy(ref.mean_), **TIGHT)
    z = ours.transform(train)
    torch.testing.assert_close(z.mean(0), torch.zeros(6, dtype=torch.float64), **TIGHT)
    if not center_only:
        torch.testing.assert_close(ours.std_.squeeze(0), torch.from_numpy(ref.scale_), **TIGHT)
        expected_std = torch.tensor([1.0, 1, 0, 1, 1, 1], dtype=torch.float64)
        torch.testing.assert_close(z.std(0, correction=0), expected_std, **TIGHT)


def test_standardizer_applies_training_statistics_to_new_data(device):
    train = _correlated(100, 4, 0, device)
    scaler = P.Standardizer().fit(train)
    new = train[:10] * 2.0 + 1.0  # different statistics: they must not be used
    expected = (new - train.mean(0)) / train.std(0, correction=0)
    torch.testing.assert_close(scaler(new), expected, **TIGHT)
    assert scaler(new).device == train.device
    with pytest.raises(RuntimeError):
        P.Standardizer().transform(train)


def test_standardizer_per_channel_and_mean_image_conventions(device):
    gen = torch.Generator().manual_seed(0)
    images = (torch.rand(8, 3, 5, 7, generator=gen, dtype=torch.float64) * 0.3).to(device)
    images[:, 1] += 0.5
    channel = P.Standardizer(dim=(0, 2, 3)).fit(images)
    out = channel.transform(images)
    mean, std = P.per_channel_mean_std(out)
    torch.testing.assert_close(mean, torch.zeros(3, dtype=mean.dtype, device=device), **TIGHT)
    torch.testing.assert_close(std, torch.ones(3, dtype=std.dtype, device=device), **TIGHT)
    centred = P.Standardizer(center_only=True, dim=0).fit_transform(images)
    torch.testing.assert_close(P.mean_image(centred), torch.zeros_like(images[0]), **TIGHT)


def test_image_statistics_match_numpy():
    gen = torch.Generator().manual_seed(1)
    images = torch.rand(4, 3, 6, 5, generator=gen, dtype=torch.float64)
    mean, std = P.per_channel_mean_std(images)
    a = images.numpy()
    np.testing.assert_allclose(mean.numpy(), a.mean(axis=(0, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(std.numpy(), a.std(axis=(0, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(P.mean_image(images).numpy(), a.mean(axis=0), rtol=1e-12)
    for fn in (P.per_channel_mean_std, P.mean_image):
        with pytest.raises(ValueError):
            fn(images[0])


# ------------------------------------------------------------------ PCA
@pytest.mark.parametrize("k", [None, 1, 3])
def test_pca_matches_sklearn(k):
    x = _correlated(300, 5, 2)
    ours = P.pca(x, k)
    ref = PCA(n_components=k, svd_solver="full").fit(x.numpy())
    comps = torch.from_numpy(ref.components_)
    # same directions up to sign
    signs = torch.sign((ours.components * comps).sum(dim=1, keepdim=True))
    torch.testing.assert_close(ours.components, comps * signs, **TIGHT)
    torch.testing.assert_close(ours.explained_variance, torch.from_numpy(ref.explained_variance_),
                               **TIGHT)  # fmt: skip
    kk = ours.components.shape[0]
    torch.testing.assert_close(ours.components @ ours.components.T,
                               torch.eye(kk, dtype=torch.float64), **TIGHT)  # fmt: skip
    # projecting decorrelates: covariance of the scores is diag(explained variance)
    torch.testing.assert_close(_cov(ours.transform(x)), torch.diag(ours.explained_variance),
                               rtol=1e-9, atol=1e-8)  # fmt: skip


def test_pca_round_trip_and_arguments():
    x = _correlated(40, 4, 3)
    full = P.pca(x)
    torch.testing.assert_close(full.inverse_transform(full.transform(x)), x, **TIGHT)
    assert torch.all(full.explained_variance[:-1] >= full.explained_variance[1:])
    with pytest.raises(ValueError):
        P.pca(x, k=5)
    with pytest.raises(ValueError):
        P.pca(x[0])


# ------------------------------------------------------------------ whitening
@pytest.mark.parametrize("method", ["pca", "zca"])
def test_whitened_training_covariance_is_identity(method, device):
    x = _correlated(500, 6, 4, device)
    z = P.Whitener(method, eps=0.0).fit_transform(x)
    eye = torch.eye(6, dtype=torch.float64, device=device)
    torch.testing.assert_close(_cov(z), eye, **TIGHT)
    torch.testing.assert_close(z.mean(0), torch.zeros(6, dtype=z.dtype, device=device), **TIGHT)


def test_pca_whitening_matches_sklearn_up_to_sign():
    x, new = _correlated(400, 5, 5), _correlated(30, 5, 6)
    ref = PCA(whiten=True, svd_solver="full").fit(x.numpy())
    for data in (x, new):
        ours = P.pca_whiten(data, eps=0.0, fit_on=x)
        expected = torch.from_numpy(ref.transform(data.numpy()))
        signs = torch.sign((ours * expected).sum(0))
        torch.testing.assert_close(ours, expected * signs, rtol=1e-9, atol=1e-9)


def test_pca_whitening_keeps_k_directions():
    x = _correlated(300, 6, 7)
    z = P.pca_whiten(x, k=2, eps=0.0)
    assert z.shape == (300, 2)
    torch.testing.assert_close(_cov(z), torch.eye(2, dtype=torch.float64), **TIGHT)


def test_zca_matrix_is_symmetric_inverse_square_root_of_covariance():
    x = _correlated(400, 5, 8)
    w = P.Whitener("zca", eps=0.0).fit(x).matrix_
    torch.testing.assert_close(w, w.T, **TIGHT)
    assert torch.linalg.eigvalsh(w).min() > 0  # symmetric positive definite
    c = _cov(x)
    torch.testing.assert_close(w @ c @ w, torch.eye(5, dtype=torch.float64), **TIGHT)
    torch.testing.assert_close(w @ w, torch.linalg.inv(c), rtol=1e-8, atol=1e-12)


def test_zca_is_the_whitening_closest_to_the_data():
    # Any whitening is an orthogonal rotation Q of another; ZCA minimises ||z - (x - mu)||.
    x = _correlated(300, 4, 9)
    xc = x - x.mean(0)
    zca = P.zca_whiten(x, eps=0.0)
    pca = P.pca_whiten(x, eps=0.0)
    best = (zca - xc).norm()
    gen = torch.Generator().manual_seed(0)
    for _ in range(20):
        q, _ = torch.linalg.qr(torch.randn(4, 4, generator=gen, dtype=torch.float64))
        other = pca @ q
        torch.testing.assert_close(_cov(other), torch.eye(4, dtype=torch.float64), **TIGHT)
        assert best <= (other - xc).norm()


@pytest.mark.parametrize("method", ["pca", "zca"])
def test_whitening_fitted_on_train_is_a_fixed_affine_map_on_new_data(method, device):
    train = _correlated(200, 4, 10, device)
    new = _correlated(25, 4, 11, device) * 3.0
    white = P.Whitener(method, eps=0.0).fit(train)
    expected = (new - train.mean(0)) @ white.matrix_
    torch.testing.assert_close(white(new), expected, **TIGHT)
    fn = P.zca_whiten if method == "zca" else P.pca_whiten
    torch.testing.assert_close(fn(new, eps=0.0, fit_on=train), expected, **TIGHT)
    # fitting on the new data instead would give a different result
    assert not torch.allclose(fn(new, eps=0.0), expected)


def test_eps_regularises_degenerate_directions():
    x = _correlated(100, 4, 12)
    x[:, 3] = 1.0  # zero variance along one axis
    z = P.zca_whiten(x, eps=1e-2)
    assert torch.isfinite(z).all()
    result = P.pca(x)
    # variance along each principal axis becomes lambda / (lambda + eps) <= 1
    expected = result.explained_variance / (result.explained_variance + 1e-2)
    zp = P.pca_whiten(x, eps=1e-2)
    torch.testing.assert_close(zp.var(0), expected, rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError):
        P.Whitener("zca", k=2)
    with pytest.raises(ValueError):
        P.Whitener("cholesky")
    with pytest.raises(ValueError):
        P.Whitener("pca", eps=-1.0)
    with pytest.raises(RuntimeError):
        P.Whitener().transform(x)


def test_float32_whitening_is_close_to_identity():
    x = _correlated(1000, 8, 13, dtype=torch.float32)
    x = (x - x.mean(0)) / x.std(0)  # keep the float32 condition number moderate
    z = P.zca_whiten(x, eps=0.0)
    assert z.dtype == torch.float32
    torch.testing.assert_close(_cov(z), torch.eye(8), rtol=0, atol=1e-3)
