"""mnist / fashion_mnist / digits loaders: search order, checked downloads and the offline message."""

import gzip
import hashlib
import re
import struct
from pathlib import Path

import numpy as np
import pytest

from glassnet.datasets import data_home, digits, fashion_mnist, mnist

DEBIAN = Path(fashion_mnist.SYSTEM_FOLDER)
UNREACHABLE = ["http://127.0.0.1:9/"]  # the discard port: refused at once, like an offline machine


def fake_idx_set(folder: Path, n_train=6, n_test=4, compress=True) -> dict:
    """Four small MNIST-style files; returns {file name: sha256}."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    arrays = {"train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
              "train-labels-idx1-ubyte.gz": np.arange(n_train, dtype=np.uint8) % 10,
              "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
              "t10k-labels-idx1-ubyte.gz": np.arange(n_test, dtype=np.uint8) % 10}
    digests = {}
    for name, a in arrays.items():
        raw = bytes([0, 0, 8, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape) + a.tobytes()
        payload = gzip.compress(raw) if compress else raw
        (folder / (name if compress else name.removesuffix(".gz"))).write_bytes(payload)
        digests[name] = hashlib.sha256(payload).hexdigest()
    return digests


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_data_home_follows_glassnet_data(cache, monkeypatch):
    assert data_home() == cache
    monkeypatch.delenv("GLASSNET_DATA")
    assert data_home() == Path.home() / ".glassnet" / "datasets"


def test_offline_error_says_which_files_go_where(cache, monkeypatch):
    monkeypatch.setattr(mnist, "MIRRORS", UNREACHABLE)
    with pytest.raises(FileNotFoundError) as info:
        mnist.load_data()
    message = str(info.value)
    for name in mnist.FILES:
        assert name in message
    assert f"into {cache / 'mnist'}" in message and "GLASSNET_DATA" in message
    assert "http://127.0.0.1:9/train-images-idx3-ubyte.gz" in message  # why the download failed


def test_offline_error_names_the_files_a_folder_lacks(cache, tmp_path, monkeypatch):
    """A folder with three of the four files got the same message as an empty one: all four listed."""
    monkeypatch.setattr(mnist, "MIRRORS", UNREACHABLE)
    fake_idx_set(tmp_path / "mine")
    (tmp_path / "mine" / "t10k-labels-idx1-ubyte.gz").unlink()
    lacks = f"Incomplete folders:\n  {tmp_path / 'mine'} lacks t10k-labels-idx1-ubyte.gz\n"
    with pytest.raises(FileNotFoundError, match=re.escape(lacks)):
        mnist.load_data(path=tmp_path / "mine", download=False)


def test_a_given_path_that_is_not_a_folder_is_named(cache, tmp_path, monkeypatch):
    """A mistyped path was passed over for the cache (or the system folder) without a word."""
    fake_idx_set(cache / "mnist")
    for module in (mnist, fashion_mnist):
        with pytest.raises(FileNotFoundError, match=f"{module.__name__.split('.')[-1]}.load_data: path "
                                                    f".*absent does not exist; pass the folder"):
            module.load_data(path=tmp_path / "absent", download=False)
    (tmp_path / "file").write_text("")
    with pytest.raises(FileNotFoundError, match="is a file, not a folder"):
        mnist.load_data(path=tmp_path / "file", download=False)


def test_files_in_the_cache_or_a_given_path_are_used_gzip_or_not(cache, tmp_path, monkeypatch):
    monkeypatch.setattr(mnist, "MIRRORS", UNREACHABLE)
    fake_idx_set(cache / "mnist")
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert x_train.shape == (6, 28, 28) and x_train.dtype == np.uint8 and y_test.tolist() == [0, 1, 2, 3]
    fake_idx_set(tmp_path / "mine", n_train=3, compress=False)
    (x_train, _), _ = mnist.load_data(path=tmp_path / "mine")
    assert x_train.shape == (3, 28, 28)


def test_download_is_checked_against_sha256_before_it_is_kept(cache, tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    digests = fake_idx_set(mirror)
    monkeypatch.setattr(mnist, "MIRRORS", [mirror.as_uri() + "/"])  # urllib reads file:// like http
    monkeypatch.setattr(mnist, "FILES", digests)
    (x_train, _), _ = mnist.load_data()
    assert x_train.shape == (6, 28, 28)
    assert sorted(p.name for p in (cache / "mnist").iterdir()) == sorted(digests)

    tampered = {**digests, "t10k-labels-idx1-ubyte.gz": "0" * 64}
    monkeypatch.setattr(mnist, "FILES", tampered)
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path / "fresh"))
    with pytest.raises(FileNotFoundError, match=r"SHA-256 [0-9a-f]{64} does not match the expected 0{64}"):
        mnist.load_data()
    assert not (tmp_path / "fresh" / "mnist" / "t10k-labels-idx1-ubyte.gz").exists()


def test_fashion_mnist_from_debian_package():
    if not DEBIAN.is_dir():
        pytest.skip("dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)")
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data(download=False)
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert np.bincount(y_train).tolist() == [6000] * 10 and np.bincount(y_test).tolist() == [1000] * 10
    assert fashion_mnist.CLASS_NAMES[y_train[0]] == "Ankle boot"  # the first training image, per the README


def test_digits_is_a_fixed_stratified_split():
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    assert x_train.shape == (1437, 8, 8) and x_test.shape == (360, 8, 8) and x_train.max() == 16
    assert np.abs(np.bincount(y_test) - 36).max() <= 1
    (again, _), _ = digits.load_data()
    np.testing.assert_array_equal(again, x_train)


def test_mnist_reads_keras_cached_npz(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {"x_train": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8), "y_train": np.arange(5, dtype=np.uint8),
              "x_test": rng.integers(0, 256, (2, 28, 28), dtype=np.uint8), "y_test": np.arange(2, dtype=np.uint8)}
    np.savez(tmp_path / "mnist.npz", **arrays)
    (x_train, y_train), (x_test, y_test) = mnist.load_data(path=tmp_path / "mnist.npz")
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])
    np.savez(tmp_path / "other.npz", images=arrays["x_train"])
    with pytest.raises(ValueError, match=r"not Keras' mnist.npz: it lacks \['x_train'"):
        mnist.load_data(path=tmp_path / "other.npz")
    with pytest.raises(FileNotFoundError, match="missing.npz does not exist"):
        mnist.load_data(path=tmp_path / "missing.npz")
