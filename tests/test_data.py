"""Tests of nntrain.data: digits splits and loaders, sample photographs, the CIFAR-10 loader.

The CIFAR-10 tests write a small archive in the official format (never download anything).
"""

from __future__ import annotations

import hashlib
import io
import pickle
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits as sk_load_digits

from nntrain import data

# ------------------------------------------------------------------ digits


def test_digits_split_sizes_stratified_and_disjoint():
    splits = data.load_digits(normalize=False)
    sizes = [len(s) for s in splits]
    assert sum(sizes) == 1797
    assert sizes[1] == pytest.approx(0.15 * 1797, abs=10)
    assert sizes[2] == pytest.approx(0.15 * 1797, abs=10)
    for split in splits:
        counts = torch.bincount(split.tensors[1], minlength=10)
        assert counts.min() > 0  # every class in every split (stratified)
    # the three splits together are exactly the data set (no example lost or duplicated)
    x = torch.cat([s.tensors[0] for s in splits]).numpy()
    expected = sk_load_digits().data / 16.0
    np.testing.assert_array_equal(
        np.sort(x.view([("", x.dtype)] * 64), axis=0),
        np.sort(expected.astype(np.float32).view([("", np.float32)] * 64), axis=0),
    )


def test_digits_dtypes_range_and_shapes():
    splits = data.load_digits(normalize=False)
    x, y = splits.train.tensors
    assert x.dtype == torch.float32 and y.dtype == torch.int64
    assert x.shape[1:] == (64,)
    assert x.min() >= 0 and x.max() <= 1
    images = data.load_digits(normalize=False, flatten=False)
    assert images.train.tensors[0].shape[1:] == (1, 8, 8)
    torch.testing.assert_close(images.train.tensors[0].flatten(1), x, rtol=0, atol=0)


def test_digits_normalize_uses_training_statistics_only():
    raw = data.load_digits(normalize=False)
    norm = data.load_digits(normalize=True)
    x_train = raw.train.tensors[0]
    mean, std = x_train.mean(), x_train.std()
    torch.testing.assert_close(norm.train.tensors[0], (x_train - mean) / std)
    torch.testing.assert_close(norm.test.tensors[0], (raw.test.tensors[0] - mean) / std)
    assert float(norm.train.tensors[0].mean()) == pytest.approx(0.0, abs=1e-5)


def test_digits_split_seed():
    a, b = data.load_digits(split_seed=0), data.load_digits(split_seed=0)
    torch.testing.assert_close(a.test.tensors[1], b.test.tensors[1], rtol=0, atol=0)
    c = data.load_digits(split_seed=1)
    assert not torch.equal(a.test.tensors[0], c.test.tensors[0])


def test_digits_bad_fractions():
    with pytest.raises(ValueError, match="fraction"):
        data.load_digits(val_fraction=0.6, test_fraction=0.5)


def test_digits_loaders_batches_and_seeded_order():
    train, val, test = data.digits_loaders(batch_size=32, seed=3)
    first = [b[1] for b in train]
    x, y = next(iter(train))
    assert x.shape == (32, 64) and y.shape == (32,)
    again = [b[1] for b in data.digits_loaders(batch_size=32, seed=3)[0]]
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))  # same seed
    second_epoch = [b[1] for b in train]
    assert not torch.equal(torch.cat(first), torch.cat(second_epoch))  # reshuffled each epoch
    assert sum(len(b[1]) for b in val) == len(data.load_digits().val)
    assert sum(len(b[1]) for b in test) == len(data.load_digits().test)


def test_subset_by_labels_relabels_in_given_order():
    ds = data.load_digits().train
    sub = data.subset_by_labels(ds, [7, 5])
    x, y = sub.tensors
    original = ds.tensors[1][torch.isin(ds.tensors[1], torch.tensor([5, 7]))]
    assert set(y.tolist()) == {0, 1}
    assert torch.equal(y == 0, original == 7)
    kept = data.subset_by_labels(ds, [7, 5], relabel=False)
    assert torch.equal(kept.tensors[1], original)
    assert len(x) == len(original)


def test_sample_images():
    full = data.sample_images()
    assert full.shape == (2, 3, 427, 640) and full.dtype == torch.float32
    assert float(full.min()) >= 0 and float(full.max()) <= 1
    small = data.sample_images(32)
    assert small.shape == (2, 3, 32, 32)
    assert float(small.min()) >= 0 and float(small.max()) <= 1
    assert data.sample_images((20, 30)).shape == (2, 3, 20, 30)


def test_get_dataset():
    digits = data.get_dataset("digits")
    assert digits.train.tensors[0].shape[1:] == (1, 8, 8)
    with pytest.raises(ValueError, match="unknown dataset"):
        data.get_dataset("imagenet")


# ------------------------------------------------------------------ CIFAR-10

PER_BATCH = 20  # 2 images per class in each batch


def _batch(seed: int, n: int = PER_BATCH) -> dict:
    rng = np.random.default_rng(seed)
    return {
        b"batch_label": f"batch {seed}".encode(),
        b"labels": [i % 10 for i in range(n)],
        b"data": rng.integers(0, 256, size=(n, 3072), dtype=np.uint8),
        b"filenames": [f"img_{seed}_{i}.png".encode() for i in range(n)],
    }


def _write_cifar(root: Path, as_folder: bool = False) -> dict[str, dict]:
    """Write a tiny CIFAR-10 in the official layout; returns the batches written."""
    batches = {f"data_batch_{i}": _batch(i) for i in range(1, 6)}
    batches["test_batch"] = _batch(99)
    meta = {b"label_names": [c.encode() for c in data.CIFAR10_CLASSES],
            b"num_cases_per_batch": PER_BATCH, b"num_vis": 3072}
    files = {name: pickle.dumps(b, protocol=2) for name, b in batches.items()}
    files["batches.meta"] = pickle.dumps(meta, protocol=2)
    root.mkdir(parents=True, exist_ok=True)
    if as_folder:
        folder = root / "cifar-10-batches-py"
        folder.mkdir()
        for name, raw in files.items():
            (folder / name).write_bytes(raw)
    else:
        with tarfile.open(root / "cifar-10-python.tar.gz", "w:gz") as tar:
            for name, raw in files.items():
                info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
                info.size = len(raw)
                tar.addfile(info, io.BytesIO(raw))
    return batches


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to download fails the way it does offline (and is recorded)."""
    calls = []

    def offline(*args, **kwargs):
        calls.append(args)
        raise urllib.error.URLError("no network in tests")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    return calls


def test_official_md5_is_documented():
    assert data.CIFAR10_MD5 == "c58f30108f718f92721af3b95e74349a"
    assert data.CIFAR10_MD5 in data.load_cifar10.__doc__
    assert data.CIFAR10_URL.endswith("cifar-10-python.tar.gz")


def test_cifar_archive_is_read_exactly(tmp_path, no_network):
    batches = _write_cifar(tmp_path)
    splits = data.load_cifar10(tmp_path, md5=None, val_fraction=0.0, normalize=False)
    x, y = splits.train.tensors
    assert x.shape == (5 * PER_BATCH, 3, 32, 32) and x.dtype == torch.float32
    expected = np.concatenate([batches[f"data_batch_{i}"][b"data"] for i in range(1, 6)])
    np.testing.assert_array_equal(
        (x * 255).round().to(torch.uint8).numpy().reshape(-1, 3072), expected
    )
    expected_labels = np.concatenate([batches[f"data_batch_{i}"][b"labels"] for i in range(1, 6)])
    np.testing.assert_array_equal(y.numpy(), expected_labels)
    x_test, y_test = splits.test.tensors
    np.testing.assert_array_equal(
        (x_test * 255).round().to(torch.uint8).numpy().reshape(-1, 3072),
        batches["test_batch"][b"data"],
    )
    assert y_test.dtype == torch.int64
    assert no_network == []


def test_cifar_channel_major_layout(tmp_path):
    _write_cifar(tmp_path)
    x = data.load_cifar10(tmp_path, md5=None, val_fraction=0.0, normalize=False).train.tensors[0]
    raw = _batch(1)[b"data"][0]
    # the first 1024 bytes are the red channel, row-major: pixel (row 0, col 1) is byte 1
    assert round(float(x[0, 0, 0, 1]) * 255) == raw[1]
    assert round(float(x[0, 1, 0, 0]) * 255) == raw[1024]
    assert round(float(x[0, 2, 31, 31]) * 255) == raw[3071]


def test_cifar_validation_split_and_normalisation(tmp_path):
    _write_cifar(tmp_path)
    splits = data.load_cifar10(tmp_path, md5=None, val_fraction=0.2)
    assert len(splits.train) == 80 and len(splits.val) == 20 and len(splits.test) == PER_BATCH
    assert torch.bincount(splits.val.tensors[1], minlength=10).tolist() == [2] * 10
    x = splits.train.tensors[0]
    torch.testing.assert_close(x.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(x.std(dim=(0, 2, 3)), torch.ones(3), atol=1e-5, rtol=0)


def test_cifar_md5_checked_against_official_by_default(tmp_path):
    _write_cifar(tmp_path)
    with pytest.raises(RuntimeError, match="md5"):
        data.load_cifar10(tmp_path)  # the home-made archive is not the official file


def test_cifar_md5_given_explicitly(tmp_path):
    _write_cifar(tmp_path)
    digest = hashlib.md5((tmp_path / "cifar-10-python.tar.gz").read_bytes()).hexdigest()
    splits = data.load_cifar10(tmp_path, md5=digest, val_fraction=0.0)
    assert len(splits.train) == 5 * PER_BATCH


def test_cifar_corrupted_archive_rejected(tmp_path):
    _write_cifar(tmp_path)
    archive = tmp_path / "cifar-10-python.tar.gz"
    good = archive.read_bytes()
    digest = hashlib.md5(good).hexdigest()
    archive.write_bytes(good[: len(good) // 2])  # a truncated download
    with pytest.raises(RuntimeError, match="md5 .* expected"):
        data.load_cifar10(tmp_path, md5=digest)
    with pytest.raises(RuntimeError, match="corrupted"):
        data.load_cifar10(tmp_path, md5=None)
    archive.write_bytes(b"this is not a tar.gz file")
    with pytest.raises(RuntimeError, match="corrupted"):
        data.load_cifar10(tmp_path, md5=None)


def test_cifar_corrupted_batch_rejected(tmp_path):
    _write_cifar(tmp_path, as_folder=True)
    (tmp_path / "cifar-10-batches-py" / "data_batch_3").write_bytes(b"\x80\x02garbage")
    with pytest.raises(RuntimeError, match="data_batch_3"):
        data.load_cifar10(tmp_path)


def test_cifar_wrong_shape_rejected(tmp_path):
    _write_cifar(tmp_path, as_folder=True)
    bad = _batch(3)
    bad[b"data"] = bad[b"data"][:, :100]
    (tmp_path / "cifar-10-batches-py" / "test_batch").write_bytes(pickle.dumps(bad))
    with pytest.raises(RuntimeError, match="3072"):
        data.load_cifar10(tmp_path)


def test_cifar_extracted_folder(tmp_path):
    batches = _write_cifar(tmp_path, as_folder=True)
    splits = data.load_cifar10(tmp_path, val_fraction=0.0)
    assert len(splits.train) == 5 * PER_BATCH
    np.testing.assert_array_equal(splits.test.tensors[1].numpy(), batches["test_batch"][b"labels"])


def test_cifar_missing_never_downloads_unless_asked(tmp_path, no_network):
    with pytest.raises(FileNotFoundError, match="download=True"):
        data.load_cifar10(tmp_path / "empty")
    assert no_network == []


def test_cifar_download_offline_gives_clear_error(tmp_path, no_network):
    with pytest.raises(RuntimeError, match="could not download"):
        data.load_cifar10(tmp_path, download=True)
    assert len(no_network) == 1
    assert not (tmp_path / "cifar-10-python.tar.gz").exists()  # no half-written archive left


def test_get_dataset_cifar10(tmp_path):
    _write_cifar(tmp_path)
    splits = data.get_dataset("cifar10", root=tmp_path, md5=None, val_fraction=0.1)
    assert splits.train.tensors[0].shape[1:] == (3, 32, 32)
    assert len(splits.val) == 10


# ------------------------------------------------------------------ procedurally distorted digits

IDENTITY = dict(rotation=0.0, scale=(1.0, 1.0), shear=0.0, shift=0.0)


def test_distort_identity_centres_the_image_on_the_canvas():
    from nntrain.synthetic import distort

    x = torch.rand(5, 1, 8, 8)
    before = x.clone()
    out = distort(x, 12, **IDENTITY)
    assert out.shape == (5, 1, 12, 12) and out.dtype == torch.float32
    expected = torch.nn.functional.pad(x, (2, 2, 2, 2))
    torch.testing.assert_close(out, expected, atol=1e-6, rtol=0)
    assert torch.equal(x, before), "distort modified its input"


def test_distort_is_seeded_stays_in_range_and_moves_pixels():
    from nntrain.synthetic import distort

    x = torch.rand(50, 1, 8, 8)
    a = distort(x, 14, elastic_alpha=1.0, generator=torch.Generator().manual_seed(3))
    b = distort(x, 14, elastic_alpha=1.0, generator=torch.Generator().manual_seed(3))
    c = distort(x, 14, elastic_alpha=1.0, generator=torch.Generator().manual_seed(4))
    assert torch.equal(a, b), "the same generator seed gave different images"
    assert not torch.equal(a, c), "different seeds gave the same images"
    assert torch.isfinite(a).all()
    # bilinear sampling with a zero background is a convex combination of pixels and 0
    assert float(a.min()) >= 0.0 and float(a.max()) <= float(x.max()) + 1e-6
    centred = torch.nn.functional.pad(x, (3, 3, 3, 3))
    assert float((a - centred).abs().mean()) > 0.05, "the distortions left the images unchanged"
    assert distort(x[:0], 14).shape == (0, 1, 14, 14)


def test_distort_rejects_bad_shapes():
    from nntrain.synthetic import distort

    with pytest.raises(ValueError, match="N, C, H, W"):
        distort(torch.rand(8, 8), 12)
    with pytest.raises(ValueError, match="smaller"):
        distort(torch.rand(1, 1, 8, 8), 6)


def test_gaussian_blur_equals_the_convolution_with_replicated_edges():
    from nntrain.synthetic import _gaussian_blur

    field = torch.rand(3, 2, 9, 11, dtype=torch.float64)
    sigma, radius = 1.5, 5
    t = torch.arange(-radius, radius + 1, dtype=torch.float64)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    k = k / k.sum()
    padded = torch.nn.functional.pad(field.reshape(-1, 1, 9, 11), (radius,) * 4,
                                     mode="replicate")
    reference = torch.nn.functional.conv2d(padded, (k[:, None] * k[None, :])[None, None])
    torch.testing.assert_close(_gaussian_blur(field, sigma), reference.reshape(3, 2, 9, 11))


def test_distorted_digits_sizes_labels_and_normalisation():
    from nntrain.synthetic import distorted_digits

    splits = distorted_digits(600, 100, 50, canvas=12, labels=[5, 6, 7], seed=1)
    sizes = [len(s) for s in splits]
    assert sizes == [600, 100, 50]
    x, y = splits.train.tensors
    assert x.shape == (600, 1, 12, 12) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert set(y.tolist()) == {0, 1, 2}, "labels 5, 6, 7 must be renumbered 0, 1, 2"
    assert abs(float(x.mean())) < 1e-4 and abs(float(x.std()) - 1) < 1e-4
    again = distorted_digits(600, 100, 50, canvas=12, labels=[5, 6, 7], seed=1)
    assert torch.equal(again.test.tensors[0], splits.test.tensors[0])
    flat = distorted_digits(10, 0, 0, flatten=True)
    assert flat.train.tensors[0].shape == (10, 144) and len(flat.val) == 0


def test_distorted_digits_split_comes_from_its_own_writers():
    from nntrain.synthetic import distorted_digits

    gen = distorted_digits(300, 0, 300, canvas=8, normalize=False, **IDENTITY)
    originals = data.load_digits(flatten=True, normalize=False)

    def nearest(made, pool):  # distance of each generated image to its closest original
        return torch.cdist(made.tensors[0].flatten(1).double(), pool.tensors[0].double()).amin(1)

    # identity distortions on an 8x8 canvas reproduce originals (up to float rounding)
    assert float(nearest(gen.train, originals.train).max()) < 1e-5
    assert float(nearest(gen.train, originals.test).min()) > 1e-3
    assert float(nearest(gen.test, originals.test).max()) < 1e-5
    assert float(nearest(gen.test, originals.train).min()) > 1e-3
