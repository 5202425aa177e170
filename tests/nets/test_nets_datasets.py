"""IDX loading (small files written here, gz and plain, good and broken) and the embedded digits."""
import gzip
import sys

import numpy as np
import pytest

import nets
from nets.datasets import DatasetError, load_mnist, read_idx
from .nets_testutil import idx_bytes, make_mnist, write_idx


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_reads_plain_and_gzip_files(tmp_path, gz):
    arrays = make_mnist(tmp_path, gz=gz)
    (x, t), (xt, tt) = load_mnist(tmp_path)
    assert x.shape == (6, 784) and x.dtype == np.float32 and xt.shape == (4, 784)
    assert 0.0 <= x.min() and x.max() <= 1.0
    np.testing.assert_allclose(x, arrays["train-images-idx3-ubyte"].reshape(6, -1) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(t, arrays["train-labels-idx1-ubyte"])
    np.testing.assert_array_equal(tt, arrays["t10k-labels-idx1-ubyte"])


def test_load_mnist_options(tmp_path):
    arrays = make_mnist(tmp_path)
    (x, t), _ = load_mnist(tmp_path, normalize=False, flatten=False, one_hot_label=True)
    assert x.shape == (6, 1, 28, 28) and x.dtype == np.uint8
    np.testing.assert_array_equal(x[:, 0], arrays["train-images-idx3-ubyte"])
    assert t.shape == (6, 10) and t.dtype == np.float32
    np.testing.assert_array_equal(t.argmax(1), arrays["train-labels-idx1-ubyte"])
    assert np.all(t.sum(1) == 1)


def test_load_fashion_mnist_default_folder(tmp_path, monkeypatch):
    make_mnist(tmp_path, gz=True, seed=3)
    monkeypatch.setattr(nets.datasets, "FASHION_MNIST_DIR", str(tmp_path))
    (x, t), (xt, tt) = nets.datasets.load_fashion_mnist()
    assert x.shape == (6, 784) and len(tt) == 4
    assert nets.datasets.FASHION_MNIST_DIR == str(tmp_path)


def test_load_fashion_mnist_default_path_is_the_system_folder():
    import inspect
    assert nets.datasets.FASHION_MNIST_DIR == "/usr/share/datasets/fashion-mnist"
    assert inspect.signature(nets.datasets.load_fashion_mnist).parameters["path"].default is None


def test_missing_folder_and_missing_file_are_named(tmp_path):
    with pytest.raises(DatasetError, match="nowhere: data folder not found"):
        load_mnist(tmp_path / "nowhere")
    make_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DatasetError, match=r"t10k-labels-idx1-ubyte\[\.gz\]: file not found"):
        load_mnist(tmp_path)


def test_truncated_file_is_an_error_naming_it(tmp_path):
    make_mnist(tmp_path)
    f = tmp_path / "train-images-idx3-ubyte"
    f.write_bytes(f.read_bytes()[:-100])
    with pytest.raises(DatasetError, match=r"train-images-idx3-ubyte: truncated.*only 4604 bytes follow"):
        load_mnist(tmp_path)
    f.write_bytes(b"\x00\x00")
    with pytest.raises(DatasetError, match="train-images-idx3-ubyte: truncated IDX file"):
        load_mnist(tmp_path)


def test_truncated_and_corrupt_gzip_are_errors_naming_the_file(tmp_path):
    make_mnist(tmp_path, gz=True)
    f = tmp_path / "train-labels-idx1-ubyte.gz"
    good = f.read_bytes()
    f.write_bytes(good[: len(good) // 2])
    with pytest.raises(DatasetError, match=r"train-labels-idx1-ubyte\.gz: corrupt or truncated gzip"):
        load_mnist(tmp_path)
    f.write_bytes(good[:10] + b"\xff" * 20 + good[30:])
    with pytest.raises(DatasetError, match=r"train-labels-idx1-ubyte\.gz: corrupt or truncated gzip"):
        load_mnist(tmp_path)
    f.write_bytes(b"plain text, not gzip")
    with pytest.raises(DatasetError, match=r"train-labels-idx1-ubyte\.gz: not a gzip file"):
        load_mnist(tmp_path)


def test_wrong_magic_number_is_an_error_naming_the_file(tmp_path):
    make_mnist(tmp_path)
    labels = np.arange(6, dtype=np.uint8) % 10
    # a label file (1 dimension) where the images belong
    write_idx(tmp_path / "train-images-idx3-ubyte", labels)
    with pytest.raises(DatasetError, match=r"train-images-idx3-ubyte: wrong magic number 0x00000801, "
                                           r"expected 0x00000803"):
        load_mnist(tmp_path)
    write_idx(tmp_path / "train-images-idx3-ubyte", raw=b"\x12\x34\x08\x03" + bytes(12))
    with pytest.raises(DatasetError, match="wrong magic number 0x12340803"):
        load_mnist(tmp_path)


def test_trailing_garbage_is_an_error(tmp_path):
    make_mnist(tmp_path)
    f = tmp_path / "t10k-images-idx3-ubyte"
    f.write_bytes(f.read_bytes() + b"junk")
    with pytest.raises(DatasetError, match="t10k-images-idx3-ubyte: corrupt: 4 unexpected bytes"):
        load_mnist(tmp_path)


def test_mismatched_image_and_label_counts(tmp_path):
    make_mnist(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(5, dtype=np.uint8))
    with pytest.raises(DatasetError, match=r"train-images-idx3-ubyte holds 6 images but .*"
                                           r"train-labels-idx1-ubyte holds 5 labels"):
        load_mnist(tmp_path)


def test_out_of_range_labels(tmp_path):
    make_mnist(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.array([0, 1, 2, 3, 4, 12], dtype=np.uint8))
    with pytest.raises(DatasetError, match="train-labels-idx1-ubyte: label 12 out of range"):
        load_mnist(tmp_path)


@pytest.mark.parametrize("labels,message", [
    ([0, -1, 2, 3, 4, 5], r"label -1 out of range 0\.\.9 \(1 of 6 labels\)"),
    ([0, -1, 2, -1, 4, 5], r"label -1 out of range 0\.\.9 \(2 of 6 labels\)"),
    ([0, 1, 12, 3, -3, 5], r"labels -3, 12 out of range 0\.\.9 \(2 of 6 labels\)"),
])
def test_out_of_range_labels_report_the_bad_values(tmp_path, labels, message):
    make_mnist(tmp_path)
    signed = idx_bytes(np.array(labels, dtype=np.int8), type_byte=0x09)  # signed bytes can hold -1
    write_idx(tmp_path / "train-labels-idx1-ubyte", raw=signed)
    with pytest.raises(DatasetError, match="train-labels-idx1-ubyte: " + message):
        load_mnist(tmp_path)


def test_non_integer_labels_are_an_error(tmp_path):
    make_mnist(tmp_path)
    floats = idx_bytes(np.array([0.5, 1, 2, 3], dtype=">f4"), type_byte=0x0D)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", raw=floats)
    with pytest.raises(DatasetError, match="t10k-labels-idx1-ubyte: labels must be integers, found float32"):
        load_mnist(tmp_path)


@pytest.mark.parametrize("side", ["train", "t10k"])
def test_image_file_with_no_images_is_an_error_naming_it(tmp_path, side):
    make_mnist(tmp_path)
    write_idx(tmp_path / f"{side}-images-idx3-ubyte", np.zeros((0, 28, 28), dtype=np.uint8))
    write_idx(tmp_path / f"{side}-labels-idx1-ubyte", np.zeros(0, dtype=np.uint8))  # the counts agree
    with pytest.raises(DatasetError, match=f"{side}-images-idx3-ubyte: no images"):
        load_mnist(tmp_path)


def test_images_of_no_pixels_are_an_error_naming_the_file(tmp_path):
    make_mnist(tmp_path)
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((6, 0, 28), dtype=np.uint8))
    with pytest.raises(DatasetError, match=r"train-images-idx3-ubyte: images of 0 x 28 pixels"):
        load_mnist(tmp_path)


def test_train_and_test_images_of_different_shapes_are_an_error(tmp_path):
    make_mnist(tmp_path)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((4, 8, 98), dtype=np.uint8))  # 784 pixels too
    with pytest.raises(DatasetError, match=r"train-images-idx3-ubyte holds 28 x 28 images but "
                                           r".*t10k-images-idx3-ubyte holds 8 x 98 images"):
        load_mnist(tmp_path)
    with pytest.raises(DatasetError, match="8 x 98"):
        load_mnist(tmp_path, flatten=False)


def test_read_idx_generic(tmp_path):
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    p = tmp_path / "a.idx"
    p.write_bytes(gzip.compress(idx_bytes(arr)))  # gzip detected by content, not by name
    np.testing.assert_array_equal(read_idx(p), arr)


def test_load_digits_split_and_scaling():
    (x, t), (xt, tt) = nets.datasets.load_digits()
    assert x.shape == (1437, 64) and xt.shape == (360, 64)
    assert x.dtype == np.float32 and x.min() == 0.0 and x.max() == 1.0
    assert set(np.unique(t)) == set(range(10))
    (x2, t2), _ = nets.datasets.load_digits()
    np.testing.assert_array_equal(x, x2)  # deterministic
    np.testing.assert_array_equal(t, t2)
    (x3, t3), (xt3, tt3) = nets.datasets.load_digits(seed=1, flatten=False, one_hot_label=True, test_size=100)
    assert x3.shape == (1697, 1, 8, 8) and tt3.shape == (100, 10)
    assert not np.array_equal(t3.argmax(1)[:50], t[:50])


def test_load_digits_matches_scikit_learn():
    from sklearn.datasets import load_digits as sk
    b = sk()
    (x, t), (xt, tt) = nets.datasets.load_digits(normalize=False)
    order = np.random.default_rng(0).permutation(1797)
    np.testing.assert_array_equal(xt, b.data[order[:360]])
    np.testing.assert_array_equal(t, b.target[order[360:]])


def test_load_digits_without_scikit_learn_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(DatasetError, match="needs scikit-learn.*pip install scikit-learn"):
        nets.datasets.load_digits()


def test_load_by_name(tmp_path):
    make_mnist(tmp_path)
    (x, _), _ = nets.datasets.load("mnist", tmp_path)
    assert x.shape == (6, 784)
    (x, _), _ = nets.datasets.load("digits")
    assert x.shape == (1437, 64)
    with pytest.raises(DatasetError, match="unknown dataset 'cifar'"):
        nets.datasets.load("cifar")
