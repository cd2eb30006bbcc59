import gzip

import numpy as np
import pytest

from pyqhn import datasets as ds


def test_gaussian_mixture_is_seeded_and_matches_the_paper():
    a = ds.gaussian_mixture(4000, seed=3)
    b = ds.gaussian_mixture(4000, seed=3)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.x, ds.gaussian_mixture(4000, seed=4).x)
    assert a.x.shape == (4000, 2) and a.x.dtype == np.float64
    assert abs(a.y.mean() - 0.5) < 0.05
    # class 0 centred on (-1, -2) with variance 0.1 per coordinate
    x0 = a.x[a.y == 0]
    assert np.allclose(x0.mean(0), [-1, -2], atol=0.05)
    assert np.allclose(x0.var(0), 0.1, atol=0.02)


def test_gaussian_scale_moves_the_means_closer():
    near = ds.gaussian_mixture(2000, seed=1, scale=0.5)
    assert np.allclose(near.x[near.y == 0].mean(0), [-0.5, -1.0], atol=0.05)


def test_moons_and_ring_are_two_class_2d():
    for data in (ds.two_moons(300, seed=0), ds.ring(300, seed=0)):
        assert data.x.shape == (300, 2) and set(np.unique(data.y)) == {0, 1}
    r = ds.ring(500, seed=0, noise=0.0)
    radius = np.linalg.norm(r.x, axis=1)
    assert radius[r.y == 1].max() <= 0.5 + 1e-12 and np.allclose(radius[r.y == 0], 1.5)


def test_bilinear_resize_28_to_4_picks_rows_3_10_17_24():
    rng = np.random.default_rng(0)
    img = rng.uniform(size=(3, 28, 28))
    pick = img[:, [3, 10, 17, 24]][:, :, [3, 10, 17, 24]]
    assert np.allclose(ds.resize_bilinear(img, 4), pick)


def test_bilinear_matches_hand_interpolation_for_2_to_3():
    img = np.array([[[0.0, 1.0], [2.0, 3.0]]])
    out = ds.resize_bilinear(img, 3)
    # source coordinates (i + .5)·2/3 − .5 = −1/6 (clamped 0), 1/2, 7/6 (clamped 1)
    assert np.allclose(out[0, 1], [1.0, 1.5, 2.0])
    assert np.allclose(out[0, :, 1], [0.5, 1.5, 2.5])


def test_area_resize_averages_blocks():
    img = np.arange(16.0).reshape(1, 4, 4)
    assert np.allclose(ds.resize_area(img, 2)[0], [[2.5, 4.5], [10.5, 12.5]])
    assert np.isclose(ds.resize_area(img, 3).mean(), img.mean())


def test_mnist_pair_counts_labels_and_range():
    d = ds.mnist_pair((0, 1))
    assert d.x.shape == (1001 + 1127, 16)
    assert d.y.sum() == 1127  # digit 1 → label 1
    assert d.x.min() >= 0 and d.x.max() <= 1
    d37 = ds.mnist_pair("3,7", size=8, method="area")
    assert d37.x.shape == (1032 + 1070, 64) and d37.y.sum() == 1070
    with pytest.raises(ValueError, match="two different digits"):
        ds.mnist_pair((3, 3))


def test_idx_loader_round_trip(tmp_path):
    images = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    labels = np.array([0, 1], dtype=np.uint8)
    p_img, p_lab = tmp_path / "img.idx.gz", tmp_path / "lab.idx"
    with gzip.open(p_img, "wb") as fh:
        fh.write(bytes([0, 0, 8, 3]) + b"".join(v.to_bytes(4, "big") for v in (2, 3, 3))
                 + images.tobytes())
    p_lab.write_bytes(bytes([0, 0, 8, 1]) + (2).to_bytes(4, "big") + labels.tobytes())
    assert np.array_equal(ds.load_idx(p_img), images)
    d = ds.mnist_pair_from_idx(p_img, p_lab, (0, 1), size=3)
    assert np.allclose(d.x, images.reshape(2, 9) / 255) and list(d.y) == [0, 1]
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="IDX"):
        ds.load_idx(tmp_path / "bad")


def test_splits_are_disjoint_and_seeded():
    d = ds.gaussian_mixture(100, seed=0)
    s = ds.train_val_test_split(d, val=0.1, test=20, seed=5)
    assert (s.train.n_samples, s.val.n_samples, s.test.n_samples) == (70, 10, 20)
    rows = np.concatenate([s.train.x, s.val.x, s.test.x])
    assert len(np.unique(rows, axis=0)) == 100
    with pytest.raises(ValueError, match="no training samples"):
        ds.train_val_test_split(d, val=60, test=40)


def test_dataset_rejects_bad_input():
    with pytest.raises(ValueError, match="NaN"):
        ds.Dataset(np.array([[np.nan]]), np.array([0]))
    with pytest.raises(ValueError, match="shape"):
        ds.Dataset(np.zeros((3, 2)), np.zeros(2))
