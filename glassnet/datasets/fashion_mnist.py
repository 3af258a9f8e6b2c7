"""Fashion-MNIST (Zalando): 60,000 training and 10,000 test images of clothing, 28x28 grayscale.

``load_data()`` searches ``path``, the cache folder (``$GLASSNET_DATA/fashion_mnist`` or
``~/.glassnet/datasets/fashion_mnist``) and Debian's ``/usr/share/datasets/fashion-mnist``
(``apt-get install dataset-fashion-mnist``), then downloads the files when online.
"""

from __future__ import annotations

from glassnet.datasets._files import given_folder
from glassnet.datasets.mnist import load_idx_dataset

#: the canonical gzip IDX files and their SHA-256 (of the official mirror's copies).
FILES = {
    "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}
MIRRORS = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
           "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"]
#: where Debian's dataset-fashion-mnist package installs the four files.
SYSTEM_FOLDER = "/usr/share/datasets/fashion-mnist"

#: label index -> name, from the dataset's README.
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]


def load_data(path=None, download: bool = True):
    """Load Fashion-MNIST like ``keras.datasets.fashion_mnist.load_data()``.

    Args:
        path: a folder holding the four IDX files (gzip-compressed or not); searched first.
        download: fetch missing files from the canonical mirrors when online.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: x uint8 (N, 28, 28) with values 0..255,
        y uint8 (N,) classes 0..9 (names in ``CLASS_NAMES``); N = 60,000 and 10,000.

    Raises:
        FileNotFoundError: offline and the files are not found; says where to put which files.

    Example:
        >>> from glassnet.datasets import fashion_mnist
        >>> (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()  # doctest: +SKIP
        >>> fashion_mnist.CLASS_NAMES[y_train[0]]  # doctest: +SKIP
        'Ankle boot'
    """
    folders = given_folder(path, "fashion_mnist") + [SYSTEM_FOLDER]
    return load_idx_dataset("fashion_mnist", FILES, MIRRORS, folders, download)
