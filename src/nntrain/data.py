"""Datasets the book trains on: scikit-learn's digits and sample photographs, and CIFAR-10.

Nothing here downloads anything unless it is explicitly asked to (``download=True``).
The book runs on data that ships with scikit-learn; the same chapters run on CIFAR-10
where the user has the official archive.

Public names
------------
Splits
    ``NamedTuple(train, val, test)`` of datasets.
load_digits
    The 1797 8×8 handwritten digits of scikit-learn (Alpaydin & Kaynak, 1998, UCI "Optical
    Recognition of Handwritten Digits"), split into stratified train/val/test ``TensorDataset``.
digits_loaders
    ``(train_loader, val_loader, test_loader)`` for the digits.
make_loaders
    ``DataLoader`` s for any ``Splits`` (seeded shuffling of the training set).
subset_by_labels
    Keep only some classes of a ``TensorDataset`` (and renumber them 0..k-1).
sample_images
    scikit-learn's two sample photographs as a float tensor (2, 3, H, W) in [0, 1].
load_cifar10
    CIFAR-10 (Krizhevsky, 2009, "Learning Multiple Layers of Features from Tiny Images") from the
    official python archive ``cifar-10-python.tar.gz`` or its extracted folder.
get_dataset
    ``"digits"`` or ``"cifar10"`` by name, as ``Splits``.
CIFAR10_URL, CIFAR10_MD5, CIFAR10_MEAN, CIFAR10_STD
    Where the official archive lives, its md5 checksum, and its per-channel statistics.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tarfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from torch.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    RandomSampler,
    SequentialSampler,
    TensorDataset,
)

__all__ = [
    "CIFAR10_CLASSES",
    "CIFAR10_MD5",
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "CIFAR10_URL",
    "Splits",
    "digits_loaders",
    "get_dataset",
    "load_cifar10",
    "load_digits",
    "make_loaders",
    "sample_images",
    "subset_by_labels",
]

#: The official archive (Krizhevsky, 2009), python version, and its md5 as published on
#: https://www.cs.toronto.edu/~kriz/cifar.html
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
CIFAR10_TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)
#: Per-channel mean and standard deviation of the 50 000 training images, in [0, 1] units.
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)


class Splits(NamedTuple):
    """Train, validation and test sets (any ``torch.utils.data.Dataset``)."""

    train: Dataset
    val: Dataset
    test: Dataset


def _stratified_split(
    y: np.ndarray, val_fraction: float, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices of a stratified three-way split (each class keeps its proportion)."""
    from sklearn.model_selection import train_test_split

    fractions_ok = 0.0 <= val_fraction < 1 and 0.0 < test_fraction < 1
    if not (fractions_ok and val_fraction + test_fraction < 1):
        raise ValueError(
            f"need 0 <= val_fraction, 0 < test_fraction and val_fraction + test_fraction < 1, "
            f"got {val_fraction} and {test_fraction}"
        )
    index = np.arange(len(y))
    rest, test = train_test_split(index, test_size=test_fraction, random_state=seed, stratify=y)
    if val_fraction == 0:
        return rest, rest[:0], test
    val_of_rest = val_fraction / (1.0 - test_fraction)
    train, val = train_test_split(
        rest, test_size=val_of_rest, random_state=seed + 1, stratify=y[rest]
    )
    return train, val, test


def load_digits(
    split_seed: int = 0,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    flatten: bool = True,
    normalize: bool = True,
) -> Splits:
    """scikit-learn's handwritten digits as stratified train/val/test ``TensorDataset`` s.

    1797 grey 8×8 images of the digits 0–9 (Alpaydin & Kaynak, 1998). Pixels (integers 0..16)
    are scaled to :math:`x / 16 \\in [0, 1]`. With ``normalize=True`` they are then standardised,
    :math:`(x - \\mu) / \\sigma`, with the single mean and standard deviation of the *training*
    pixels (the per-channel convention for one grey channel), so no statistic leaks from the
    validation or test sets.

    Args:
        split_seed: seed of the stratified split (the same seed gives the same split).
        val_fraction, test_fraction: fractions of the 1797 examples held out.
        flatten: ``x`` of shape (N, 64) if True, else images (N, 1, 8, 8).
        normalize: standardise with training statistics (else keep [0, 1]).

    Returns:
        ``Splits(train, val, test)``, each a ``TensorDataset(x float32, y int64)``.
    """
    from sklearn.datasets import load_digits as _sk_load_digits

    bunch = _sk_load_digits()
    x = torch.as_tensor(bunch.data, dtype=torch.float32) / 16.0
    y = torch.as_tensor(bunch.target, dtype=torch.int64)
    train, val, test = _stratified_split(bunch.target, val_fraction, test_fraction, split_seed)
    if normalize:
        mean, std = x[train].mean(), x[train].std()
        x = (x - mean) / std
    if not flatten:
        x = x.reshape(-1, 1, 8, 8)
    return Splits(*(TensorDataset(x[i], y[i]) for i in (train, val, test)))


def make_loaders(
    splits: Splits,
    batch_size: int = 64,
    seed: int | None = 0,
    eval_batch_size: int = 512,
    num_workers: int = 0,
    drop_last: bool = False,
) -> tuple[DataLoader, DataLoader, DataLoader]:
    """``DataLoader`` s for ``splits``: the training set shuffled, val/test in order.

    Shuffling draws from its own ``torch.Generator`` seeded with ``seed``, so the order of the
    batches does not depend on what else consumed the global random stream (``seed=None``
    uses the global stream, which :func:`nntrain.train.set_seed` controls).

    For in-memory ``TensorDataset`` s the loaders fetch a whole batch with one indexing
    operation (a ``BatchSampler`` as sampler, ``batch_size=None``) instead of collating
    examples one by one: the same batches, many times faster for small models.
    """
    generator = None
    if seed is not None:
        generator = torch.Generator().manual_seed(seed)
    pin = torch.cuda.is_available()

    def loader(dataset: Dataset, size: int, shuffle: bool, drop: bool) -> DataLoader:
        if isinstance(dataset, TensorDataset):
            order = (RandomSampler(dataset, generator=generator) if shuffle
                     else SequentialSampler(dataset))
            return DataLoader(dataset, batch_size=None, sampler=BatchSampler(order, size, drop),
                              num_workers=num_workers, pin_memory=pin)
        return DataLoader(dataset, batch_size=size, shuffle=shuffle, generator=generator,
                          drop_last=drop, num_workers=num_workers, pin_memory=pin)

    return (
        loader(splits.train, batch_size, True, drop_last),
        loader(splits.val, eval_batch_size, False, False),
        loader(splits.test, eval_batch_size, False, False),
    )


def digits_loaders(
    batch_size: int = 64,
    split_seed: int = 0,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    flatten: bool = True,
    normalize: bool = True,
    seed: int | None = 0,
) -> tuple[DataLoader, DataLoader, DataLoader]:
    """``(train_loader, val_loader, test_loader)`` of :func:`load_digits`.

    See :func:`make_loaders` for ``seed`` (shuffling) and :func:`load_digits` for the rest.
    """
    splits = load_digits(split_seed, val_fraction, test_fraction, flatten, normalize)
    return make_loaders(splits, batch_size=batch_size, seed=seed)


def subset_by_labels(
    dataset: TensorDataset, labels: Sequence[int], relabel: bool = True
) -> TensorDataset:
    """The examples of ``dataset`` whose label is in ``labels``.

    With ``relabel=True`` the kept classes are renumbered ``0..len(labels)-1`` in the order
    given (e.g. digits 5–9 become classes 0–4), so a model with ``len(labels)`` outputs fits them.
    """
    x, y = dataset.tensors[0], dataset.tensors[1]
    wanted = torch.as_tensor(list(labels), dtype=y.dtype)
    keep = torch.isin(y, wanted)
    y_kept = y[keep]
    if relabel:
        lookup = torch.full((int(y.max()) + 1,), -1, dtype=y.dtype)
        lookup[wanted] = torch.arange(len(wanted), dtype=y.dtype)
        y_kept = lookup[y_kept]
    return TensorDataset(x[keep], y_kept)


def sample_images(size: int | tuple[int, int] | None = None) -> torch.Tensor:
    """scikit-learn's two sample photographs (``china.jpg``, ``flower.jpg``) as (2, 3, H, W).

    Values are float32 in [0, 1]; the originals are 427×640. With ``size`` (an int for a square
    or ``(H, W)``) they are resized with antialiased bilinear interpolation and clamped to [0, 1].
    """
    from sklearn.datasets import load_sample_images

    images = np.stack(load_sample_images().images)  # (2, H, W, 3) uint8
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0
    if size is not None:
        hw = (size, size) if isinstance(size, int) else tuple(size)
        x = torch.nn.functional.interpolate(
            x, size=hw, mode="bilinear", align_corners=False, antialias=True
        ).clamp_(0.0, 1.0)
    return x.contiguous()


def _md5(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _unpickle_batch(raw: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (N, 3, 32, 32), labels int64 (N,)) of one CIFAR-10 batch file."""
    try:
        # The official batches are pickles of plain dicts of bytes keys, numpy arrays and lists.
        batch = pickle.loads(raw, encoding="bytes")
        data = np.asarray(batch[b"data"], dtype=np.uint8)
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
    except Exception as err:
        raise RuntimeError(f"CIFAR-10 batch {name!r} is unreadable or corrupted: {err}") from err
    if data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data):
        raise RuntimeError(
            f"CIFAR-10 batch {name!r} has data of shape {data.shape} and {len(labels)} labels; "
            "expected (N, 3072) uint8 and N labels"
        )
    return data.reshape(-1, 3, 32, 32), labels


def _read_cifar_members(read) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Read the six batches with ``read(name) -> bytes``."""
    return {name: _unpickle_batch(read(name), name)
            for name in (*CIFAR10_TRAIN_BATCHES, "test_batch")}


def _read_cifar_archive(archive: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    try:
        with tarfile.open(archive, "r:gz") as tar:
            def read(name: str) -> bytes:
                member = tar.extractfile(f"{CIFAR10_FOLDER}/{name}")
                if member is None:
                    raise KeyError(name)
                return member.read()

            return _read_cifar_members(read)
    except (tarfile.TarError, OSError, EOFError, KeyError) as err:
        raise RuntimeError(
            f"{archive} is not a readable CIFAR-10 archive (corrupted or incomplete: {err!r}). "
            f"Delete it and download it again from {CIFAR10_URL}"
        ) from err


def _download(url: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".part")
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(partial, "wb") as f:
            while block := response.read(1 << 20):
                f.write(block)
    except (urllib.error.URLError, OSError) as err:
        partial.unlink(missing_ok=True)
        raise RuntimeError(
            f"could not download {url} ({err}). Without a network connection, copy the official "
            f"archive {CIFAR10_ARCHIVE} (md5 {CIFAR10_MD5}) into {target.parent} by hand."
        ) from err
    partial.replace(target)


def load_cifar10(
    root: str | os.PathLike,
    download: bool = False,
    val_fraction: float = 0.1,
    split_seed: int = 0,
    normalize: bool = True,
    md5: str | None = CIFAR10_MD5,
) -> Splits:
    """CIFAR-10 (Krizhevsky, 2009) from the official python archive, as ``Splits``.

    Looks in ``root`` for the extracted folder ``cifar-10-batches-py/`` (files ``data_batch_1``
    … ``data_batch_5`` and ``test_batch``, pickled dicts with ``b"data"``: uint8 (N, 3072) in
    channel-major order and ``b"labels"``), else for the archive ``cifar-10-python.tar.gz``,
    which is read in place (never extracted). The archive's md5 must equal ``md5`` — by default
    the official ``c58f30108f718f92721af3b95e74349a``; pass ``md5=None`` to skip the check (for
    a home-made archive in the same format). Only with ``download=True`` is the archive fetched
    from :data:`CIFAR10_URL` (then checked); offline this fails with a clear ``RuntimeError``.

    The 50 000 training images are split into train/val (stratified, ``val_fraction``); the
    10 000 test images are the test set. Images are float32 (N, 3, 32, 32) in [0, 1], with
    ``normalize=True`` standardised per channel, :math:`(x_c - \\mu_c)/\\sigma_c`, with the
    training images' statistics.

    Raises:
        FileNotFoundError: neither folder nor archive is in ``root`` and ``download`` is False.
        RuntimeError: checksum mismatch, a corrupted archive or batch, or a failed download.
    """
    root = Path(root).expanduser()
    folder = root / CIFAR10_FOLDER
    archive = root / CIFAR10_ARCHIVE
    names = (*CIFAR10_TRAIN_BATCHES, "test_batch")
    if folder.is_dir() and all((folder / n).is_file() for n in names):
        batches = _read_cifar_members(lambda name: (folder / name).read_bytes())
    else:
        if not archive.is_file():
            if not download:
                raise FileNotFoundError(
                    f"CIFAR-10 not found in {root}: expected {folder} or {archive}. "
                    f"Pass download=True to fetch it from {CIFAR10_URL}, or copy the official "
                    f"archive there (md5 {CIFAR10_MD5})."
                )
            _download(CIFAR10_URL, archive)
        if md5 is not None:
            actual = _md5(archive)
            if actual != md5:
                raise RuntimeError(
                    f"{archive} has md5 {actual}, expected {md5}: the file is corrupted or "
                    f"incomplete. Delete it and download it again from {CIFAR10_URL}."
                )
        batches = _read_cifar_archive(archive)
    x_train = np.concatenate([batches[n][0] for n in CIFAR10_TRAIN_BATCHES])
    y_train = np.concatenate([batches[n][1] for n in CIFAR10_TRAIN_BATCHES])
    x_test, y_test = batches["test_batch"]

    x_all = torch.from_numpy(x_train).float().div_(255.0)
    x_test_t = torch.from_numpy(x_test).float().div_(255.0)
    y_all, y_test_t = torch.from_numpy(y_train), torch.from_numpy(y_test)
    if val_fraction > 0:
        from sklearn.model_selection import train_test_split

        train_idx, val_idx = train_test_split(
            np.arange(len(y_train)), test_size=val_fraction, random_state=split_seed,
            stratify=y_train,
        )
    else:
        train_idx, val_idx = np.arange(len(y_train)), np.arange(0)
    train_idx, val_idx = torch.from_numpy(train_idx), torch.from_numpy(val_idx)
    if normalize:
        x_fit = x_all[train_idx]
        mean = x_fit.mean(dim=(0, 2, 3), keepdim=True)
        std = x_fit.std(dim=(0, 2, 3), keepdim=True)
        x_all = x_all.sub_(mean).div_(std)
        x_test_t = x_test_t.sub_(mean).div_(std)
    return Splits(
        TensorDataset(x_all[train_idx], y_all[train_idx]),
        TensorDataset(x_all[val_idx], y_all[val_idx]),
        TensorDataset(x_test_t, y_test_t),
    )


def default_data_root() -> Path:
    """``$NNTRAIN_DATA`` if set, else ``~/.cache/nntrain``: where :func:`get_dataset` looks."""
    return Path(os.environ.get("NNTRAIN_DATA", Path.home() / ".cache" / "nntrain"))


def get_dataset(
    name: str = "digits", root: str | os.PathLike | None = None, **kwargs
) -> Splits:
    """A dataset by name: ``"digits"`` (:func:`load_digits`, images 1×8×8 unless
    ``flatten=True`` is passed) or ``"cifar10"`` (:func:`load_cifar10` from ``root``, default
    ``default_data_root()``). Extra keyword arguments go to the loader."""
    key = name.lower().replace("-", "").replace("_", "")
    if key == "digits":
        kwargs.setdefault("flatten", False)
        return load_digits(**kwargs)
    if key == "cifar10":
        return load_cifar10(default_data_root() if root is None else root, **kwargs)
    raise ValueError(f"unknown dataset {name!r}; choose 'digits' or 'cifar10'")

