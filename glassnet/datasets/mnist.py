"""MNIST handwritten digits (60,000 training and 10,000 test images, 28x28 grayscale), as Keras'.

``load_data()`` looks for the four IDX files in ``path``, then in the cache folder
(``$GLASSNET_DATA/mnist`` or ``~/.glassnet/datasets/mnist``), and downloads them there when
online, checking each file's SHA-256. Kaggle's digit-recognizer CSV is read by
``glassnet.datasets.read_digit_csv``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from glassnet.datasets._files import fetch, given_folder
from glassnet.datasets.readers import read_idx

#: the canonical gzip IDX files (LeCun, Cortes & Burges) and their SHA-256.
FILES = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
#: yann.lecun.com often refuses downloads now; PyTorch's mirror serves the same files.
MIRRORS = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]


def load_idx_dataset(name: str, files: dict, mirrors: list, folders=(), download: bool = True):
    """``(x_train, y_train), (x_test, y_test)`` from the four MNIST-style IDX files."""
    paths = fetch(name, files, mirrors, folders, download)
    train_x, train_y, test_x, test_y = (read_idx(paths[f]) for f in files)
    for x, y, split in ((train_x, train_y, "training"), (test_x, test_y, "test")):
        if x.shape[0] != y.shape[0]:
            raise ValueError(f"{name}: the {split} images ({x.shape[0]}) and labels ({y.shape[0]}) "
                             f"differ in number.")
    return (train_x, train_y), (test_x, test_y)


def load_data(path=None, download: bool = True):
    """Load MNIST like ``keras.datasets.mnist.load_data()``.

    Args:
        path: a folder holding the four IDX files (gzip-compressed or not), searched first; or
            Keras' cached ``mnist.npz`` (keys ``x_train``, ``y_train``, ``x_test``, ``y_test``),
            e.g. ``~/.keras/datasets/mnist.npz``.
        download: fetch missing files from the canonical mirrors when online.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: x uint8 (N, 28, 28) with values 0..255,
        y uint8 (N,) digits 0..9; N = 60,000 and 10,000.

    Raises:
        FileNotFoundError: offline and the files are not found; says where to put which files.

    Example:
        >>> from glassnet.datasets import mnist
        >>> (x_train, y_train), (x_test, y_test) = mnist.load_data()  # doctest: +SKIP
        >>> x_train.shape  # doctest: +SKIP
        (60000, 28, 28)
    """
    if path is not None and str(path).endswith(".npz"):
        return _load_keras_npz(Path(path).expanduser())
    return load_idx_dataset("mnist", FILES, MIRRORS, given_folder(path, "mnist"), download)


def _load_keras_npz(path: Path):
    keys = ("x_train", "y_train", "x_test", "y_test")
    if not path.is_file():
        raise FileNotFoundError(f"mnist.load_data: {path} does not exist. Pass Keras' mnist.npz, a folder "
                                f"with the four IDX files, or nothing (cache folder or download).")
    with np.load(path, allow_pickle=False) as archive:  # no pickle: a file cannot run code
        missing = [k for k in keys if k not in archive.files]
        if missing:
            raise ValueError(f"{path} is not Keras' mnist.npz: it lacks {missing} (has {sorted(archive.files)}).")
        x_train, y_train, x_test, y_test = (archive[k] for k in keys)
    return (x_train, y_train), (x_test, y_test)


__all__ = ["load_data"]
