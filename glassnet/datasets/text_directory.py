"""Texts from a class-per-folder tree, as ``keras.utils.text_dataset_from_directory``.

``reviews/train/neg/*.txt`` and ``reviews/train/pos/*.txt`` become strings with labels 0 and 1
(folders in alphanumeric order). Files are read as UTF-8; one that is not is reported by path.
The folder walk, labels and split are image_dataset_from_directory's (glassnet/datasets/directory.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from glassnet.datasets.directory import (LABEL_MODES, FolderData, FolderSource, check_split_arguments, class_files,
                                         encode_labels, split_order)
from glassnet.utils import check_positive_int

TEXT_EXTENSIONS = (".txt",)  # the files Keras reads; others in the tree are ignored


class TextData(FolderData):
    """Texts with their labels (``FolderData``); ``x`` is an (N,) object array of Python strings."""


def read_texts(paths, max_length: int | None = None) -> np.ndarray:
    """The files' contents as an (N,) object array of strings, each cut to ``max_length`` characters.

    Raises a ValueError listing every file that is not UTF-8 text.
    """
    texts, bad = np.empty(len(paths), dtype=object), []
    for i, path in enumerate(paths):
        try:
            texts[i] = Path(path).read_text(encoding="utf-8")[:max_length]
        except UnicodeDecodeError as err:
            bad.append(f"{path}: {err}")
    if bad:
        listing = "\n  ".join(bad[:20]) + (f"\n  ... and {len(bad) - 20} more" if len(bad) > 20 else "")
        raise ValueError(f"{len(bad)} file(s) are not UTF-8 text:\n  {listing}\nConvert them "
                         f"(e.g. iconv -f latin1 -t utf-8) or move them out of the folder.")
    return texts


class TextFolderSource(FolderSource):
    """A lazy text dataset: reads only the files of the batch asked for.

    Made by ``text_dataset_from_directory(..., batch_size=n)``; pass it to ``model.fit`` or to
    ``TextVectorization.adapt`` (which reads every batch once).

    Args:
        file_paths, labels, class_names, batch_size, shuffle, seed: as ``FolderSource``.
        max_length: cut every text to this many characters (None: whole files).
    """

    def __init__(self, file_paths, labels, class_names, batch_size: int, max_length: int | None = None,
                 shuffle: bool = True, seed: int | None = None):
        super().__init__(file_paths, labels, class_names, batch_size, shuffle, seed)
        self.max_length = max_length

    def read_batch(self, paths):
        return read_texts(paths, self.max_length), slice(None)


def text_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None,
                                batch_size: int | None = 32, max_length: int | None = None, shuffle: bool = True,
                                seed: int | None = None, validation_split: float | None = None,
                                subset: str | None = None, follow_links: bool = False, verbose: bool = True):
    """Texts and labels from a folder with one subfolder per class (Keras' function and arguments).

    Args:
        directory: the root, e.g. ``reviews/train`` holding ``neg/`` and ``pos/`` with ``.txt`` files.
        labels: "inferred" (from the subfolders), None (no labels), or a list of non-negative
            integers, one per ``.txt`` file, in the order of the folders sorted by path, then each
            folder's files sorted by name (``TextData.file_paths`` shows it).
        label_mode: "int" (N,), "categorical" (one-hot), "binary" (float (N, 1), two classes) or None.
        class_names: the subfolders to use, in this order (default: all, alphanumeric).
        batch_size: texts per batch of a lazy ``TextFolderSource`` (Keras' default 32); None reads
            everything into a ``TextData`` of arrays.
        max_length: cut every text to this many characters (Keras cuts bytes: the same for ASCII).
        shuffle: shuffle the files (seeded by ``seed``).
        seed: seed of the shuffle and the validation split; required with ``validation_split``.
        validation_split: fraction of the (shuffled) files kept for validation, taken from the end.
        subset: "training", "validation" or "both" (then a pair is returned), with validation_split.
        follow_links: also walk folders that symbolic links point to.
        verbose: print how many files and classes were found, as Keras does.

    Returns:
        A ``TextFolderSource`` (batches of (strings (B,), labels)), a ``TextData`` when
        ``batch_size`` is None, or a (training, validation) pair of them.

    Example:
        >>> import glassnet as gn
        >>> train, val = gn.datasets.text_dataset_from_directory(  # doctest: +SKIP
        ...     "reviews/train", validation_split=0.2, subset="both", seed=0)
        >>> vectorizer = gn.layers.TextVectorization(output_mode="tf_idf")  # doctest: +SKIP
        >>> vectorizer.adapt(train)  # doctest: +SKIP
    """
    root = Path(directory)
    if not root.is_dir():
        raise FileNotFoundError(f"text_dataset_from_directory: {root} is not a directory.")
    if label_mode not in LABEL_MODES:
        raise ValueError(f"label_mode must be one of {LABEL_MODES}; got {label_mode!r}.")
    for arg, value in (("batch_size", batch_size), ("max_length", max_length)):
        check_positive_int(value, arg, "text_dataset_from_directory", none_ok=True)
    validation_split = check_split_arguments(validation_split, subset, shuffle, seed)
    paths, label_list, names = class_files(root, labels, class_names, follow_links, TEXT_EXTENSIONS, "text")
    if label_list is None:
        label_mode = None
    if verbose:
        print(f"Found {len(paths)} files" + (f" belonging to {len(names)} classes." if names else "."))
    label_array = None if label_list is None else np.asarray(label_list, dtype=np.int64)
    order = np.random.default_rng(seed).permutation(len(paths)) if shuffle else np.arange(len(paths))
    subsets = split_order(order, validation_split, "text files")

    def build(rows):
        files = [paths[i] for i in rows]
        encoded = None if label_array is None else encode_labels(label_array[rows], label_mode, len(names))
        if batch_size is not None:
            return TextFolderSource(files, encoded, names, batch_size, max_length, shuffle, seed)
        return TextData(read_texts(files, max_length), encoded, names, [str(f) for f in files])

    if subset == "both":
        return build(subsets["training"]), build(subsets["validation"])
    return build(subsets[subset or "all"])
