"""File readers: IDX (gzip or not), the Kaggle digit CSV and MedMNIST .npz, with their bad inputs."""

import gzip
import struct

import numpy as np
import pandas as pd
import pytest
from shared_data import SHARED_DATA

from glassnet.datasets import load_npz, read_digit_csv, read_idx


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding, written out from the format's definition (not from the reader)."""
    code = {np.dtype("uint8"): 0x08, np.dtype("int16"): 0x0B, np.dtype("float32"): 0x0D}[array.dtype]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@pytest.mark.parametrize("dtype", ["uint8", "int16", "float32"])
@pytest.mark.parametrize("compress", [True, False])
def test_idx_round_trip_gzip_or_not(tmp_path, dtype, compress):
    array = (np.arange(2 * 3 * 4) * 7 % 251).astype(dtype).reshape(2, 3, 4)
    payload = idx_bytes(array)
    path = tmp_path / "images.idx"
    path.write_bytes(gzip.compress(payload) if compress else payload)
    read = read_idx(path)
    assert read.dtype == np.dtype(dtype) and read.dtype.isnative
    np.testing.assert_array_equal(read, array)


def test_truncated_or_foreign_idx_files_are_named(tmp_path):
    truncated = tmp_path / "train-images-idx3-ubyte"
    truncated.write_bytes(idx_bytes(np.zeros((3, 2, 2), np.uint8))[:-1])
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte: the header announces shape \(3, 2, 2\)"):
        read_idx(truncated)
    foreign = tmp_path / "photo.png"
    foreign.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(20))
    with pytest.raises(ValueError, match="photo.png is not an IDX file"):
        read_idx(foreign)
    cut = tmp_path / "t10k-images-idx3-ubyte"
    cut.write_bytes(idx_bytes(np.zeros((3, 2, 2), np.uint8))[:9])  # inside the 16-byte header
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte: the file ends inside its header \(9 of 16"):
        read_idx(cut)
    broken = tmp_path / "labels.gz"
    broken.write_bytes(gzip.compress(idx_bytes(np.arange(50, dtype=np.uint8)))[:-12])
    with pytest.raises(ValueError, match="labels.gz: the gzip data is corrupt or truncated"):
        read_idx(broken)


def write_digit_csv(path, n=3, labels=True):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (n, 784))
    frame = pd.DataFrame(pixels, columns=[f"pixel{i}" for i in range(784)])
    if labels:
        frame.insert(0, "label", np.arange(n) % 10)
    frame.to_csv(path, index=False)
    return pixels


def test_kaggle_digit_csv_with_and_without_labels(tmp_path):
    pixels = write_digit_csv(tmp_path / "train.csv")
    x, y = read_digit_csv(tmp_path / "train.csv")
    assert x.shape == (3, 28, 28) and x.dtype == np.uint8
    np.testing.assert_array_equal(x.reshape(3, -1), pixels)
    np.testing.assert_array_equal(y, [0, 1, 2])
    write_digit_csv(tmp_path / "test.csv", labels=False)
    x_test, y_test = read_digit_csv(tmp_path / "test.csv")
    assert x_test.shape == (3, 28, 28) and y_test is None


@pytest.mark.parametrize("rows, match", [
    (["3,0,,255,7", "5,1,2,3,4"], r"pixel values must be whole numbers; row 1 .* column 'pixel1' holds an empty cell"),
    (["3,0,1.9,255,7"], r"pixel values must be whole numbers; row 1 .* 'pixel1' holds 1.9"),
    (["3,0,1,2,3", ",0,1,2,3"], r"labels must be whole numbers; row 2 .* 'label' holds an empty cell"),
    ([], "no rows of images"),
])
def test_csv_cells_that_would_be_cast_silently_are_named(tmp_path, rows, match):
    header = "label," + ",".join(f"pixel{i}" for i in range(4))
    (tmp_path / "d.csv").write_text("\n".join([header, *rows]) + "\n")
    with pytest.raises(ValueError, match=match):
        read_digit_csv(tmp_path / "d.csv", image_shape=(2, 2))


def test_csv_in_another_layout_names_the_columns(tmp_path):
    pd.DataFrame({"label": [1], "x": [0]}).to_csv(tmp_path / "other.csv", index=False)
    pattern = r"not in the digit-recognizer layout.*missing \['pixel0'.*unexpected columns \['x'\]"
    with pytest.raises(ValueError, match=pattern):
        read_digit_csv(tmp_path / "other.csv")


def test_npz_in_medmnist_layout(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {"train_images": rng.integers(0, 256, (5, 4, 4), dtype=np.uint8),
              "train_labels": np.array([[0], [1], [1], [0], [1]], dtype=np.uint8),
              "test_images": rng.integers(0, 256, (2, 4, 4), dtype=np.uint8),
              "test_labels": np.array([[1], [0]], dtype=np.uint8)}
    np.savez(tmp_path / "set.npz", **arrays)
    data = load_npz(tmp_path / "set.npz")
    assert list(data) == ["train", "test"]  # no validation split in this file
    np.testing.assert_array_equal(data["train"][0], arrays["train_images"])
    np.testing.assert_array_equal(data["train"][1], [0, 1, 1, 0, 1])  # (N, 1) -> (N,)
    assert list(load_npz(tmp_path / "set.npz", splits="test")) == ["test"]  # one name, not its letters


def test_npz_errors_name_the_keys_and_never_unpickle(tmp_path):
    np.savez(tmp_path / "plain.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match=r"not in the MedMNIST layout.*found \['x'\]"):
        load_npz(tmp_path / "plain.npz")
    np.savez(tmp_path / "short.npz", train_images=np.zeros((3, 2, 2)), train_labels=np.zeros((2, 1)))
    with pytest.raises(ValueError, match="train_images has 3 images but train_labels has 2 labels"):
        load_npz(tmp_path / "short.npz")
    np.savez(tmp_path / "pickled.npz", train_images=np.array([{"a": 1}], dtype=object), train_labels=np.zeros(1))
    with pytest.raises(ValueError, match="allow_pickle"):
        load_npz(tmp_path / "pickled.npz")


def test_shared_pneumonia_npz():
    path = SHARED_DATA / "pneumoniamnist_balanced.npz"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    data = load_npz(path)
    assert {k: v[0].shape for k, v in data.items()} == {"train": (2428, 28, 28), "val": (270, 28, 28),
                                                       "test": (468, 28, 28)}
    for x, y in data.values():
        assert x.dtype == np.uint8 and set(np.unique(y)) == {0, 1}
        assert (y == 1).sum() == (y == 0).sum()  # the balanced copy: 50/50 in every split
