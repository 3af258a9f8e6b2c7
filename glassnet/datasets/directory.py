"""Images from a class-per-folder tree, as ``keras.utils.image_dataset_from_directory``.

``chest_xray/train/NORMAL/*.jpeg`` and ``chest_xray/train/PNEUMONIA/*.jpeg`` become images with
labels 0 and 1 (folders in alphanumeric order). With ``batch_size=None`` everything is decoded
into arrays; with a batch size a lazy ``ImageFolderSource`` decodes one batch at a time.
Pillow decodes the files. An image that cannot be decoded is reported by path, never skipped
silently.
"""

from __future__ import annotations

import copy
import os
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from glassnet.datasets.sources import BatchSource
from glassnet.utils import check_positive_int

#: the extensions Keras reads; other files in the tree are ignored.
IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
COLOR_MODES = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}
LABEL_MODES = ("int", "categorical", "binary", None)
INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "lanczos", "area")


def _pillow():
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("Reading image files needs Pillow: pip install pillow") from None
    return Image


@dataclass
class FolderData:
    """Files' contents with their labels, read from a class-per-subfolder tree; unpacks as
    ``x, y = data`` and goes to ``fit`` whole.

    Attributes:
        x: the contents, one row per file.
        y: labels: int (N,), one-hot (N, K) or float (N, 1) for label_mode "binary"; None without labels.
        class_names: folder name of each class index.
        file_paths: the file of each row, in the order of ``x``.
    """

    x: np.ndarray
    y: np.ndarray | None
    class_names: list[str]
    file_paths: list[str] = field(repr=False)

    def __iter__(self):
        yield self.x
        yield self.y


class ImageData(FolderData):
    """Decoded images with their labels (``FolderData``); ``x`` is float32 (N, H, W, C) with values
    0..255 (rescale in the model or before fit)."""


def list_files(root: Path, follow_links: bool = False, extensions=IMAGE_EXTENSIONS) -> list[Path]:
    """Files under ``root`` ending in one of ``extensions``, in Keras' order: folders sorted by
    path, then the files of each folder sorted by name. Hidden folders (``.ipynb_checkpoints``,
    ``.git``) are skipped."""
    walked, seen = [], set()
    for folder, subfolders, names in os.walk(root, followlinks=follow_links):
        subfolders[:] = [d for d in subfolders if not d.startswith(".")]
        if follow_links:  # a link back up the tree would otherwise be walked until ELOOP
            real = os.path.realpath(folder)
            if real in seen:
                subfolders[:] = []
                continue
            seen.add(real)
        walked.append((folder, names))
    return [Path(folder) / n for folder, names in sorted(walked, key=lambda entry: entry[0])
            for n in sorted(names) if n.lower().endswith(extensions)]


def encode_labels(labels: np.ndarray, label_mode, n_classes: int):
    if label_mode is None:
        return None
    if label_mode == "categorical":
        return np.eye(n_classes, dtype=np.float32)[labels]
    if label_mode == "binary":
        if n_classes != 2:
            raise ValueError(f"label_mode='binary' needs exactly 2 classes; found {n_classes}.")
        return labels.astype(np.float32).reshape(-1, 1)
    return labels.astype(np.int64)


def _scan(paths: list[Path], image_size, on_invalid: str, decode: bool = False) -> list[int]:
    """Open every header (cheap: no pixels are decoded), or with ``decode`` every image; the
    indices of readable images.

    Also checks that sizes agree when no ``image_size`` asks for a resize.
    """
    Image = _pillow()
    sizes, bad, keep = {}, [], []
    for i, path in enumerate(paths):
        try:
            with Image.open(path) as img:
                sizes[i] = (img.height, img.width)
                if decode:
                    img.load()
            keep.append(i)
        except Exception as err:  # Pillow raises several types for broken files
            bad.append(f"{path}: {type(err).__name__}: {err}")
    _report_invalid(bad, on_invalid)
    if image_size is None:
        counts = Counter(sizes[i] for i in keep)
        if len(counts) > 1:
            example = {}
            for i in keep:
                example.setdefault(sizes[i], paths[i])
            listing = ", ".join(f"{n} of {h}x{w} (e.g. {example[(h, w)]})" for (h, w), n in counts.most_common(5))
            raise ValueError(
                f"The images have different sizes and no image_size was given: {listing}. Pass "
                f"image_size=(height, width) to resize them all to one size."
            )
    return keep


def _report_invalid(bad: list[str], on_invalid: str) -> None:
    if not bad:
        return
    listing = "\n  ".join(bad[:20]) + (f"\n  ... and {len(bad) - 20} more" if len(bad) > 20 else "")
    message = f"{len(bad)} file(s) could not be decoded as images:\n  {listing}"
    if on_invalid == "raise":
        raise ValueError(message + "\nRemove or replace them, or pass on_invalid='warn' to leave them out.")
    warnings.warn(message + "\nThey were left out.", stacklevel=3)


def _eight_bit(img, Image):
    """16-bit (and 32-bit integer) grayscale as 8 bits, keeping the high byte (v // 256) as
    TensorFlow's decode_image does: Pillow's own convert clips them, so 1000 would become 255."""
    if not img.mode.startswith("I"):
        return img
    values = np.asarray(img).astype(np.int64) // 256
    return Image.fromarray(np.clip(values, 0, 255).astype(np.uint8), "L")


def _check_load_arguments(color_mode, interpolation, on_invalid) -> None:
    if color_mode not in COLOR_MODES:
        raise ValueError(f"color_mode must be one of {tuple(COLOR_MODES)}; got {color_mode!r}.")
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {INTERPOLATIONS}; got {interpolation!r}.")
    if on_invalid not in ("raise", "warn"):
        raise ValueError(f"on_invalid must be 'raise' or 'warn'; got {on_invalid!r}.")


def load_images(paths, image_size=None, color_mode: str = "rgb", interpolation: str = "bilinear",
                on_invalid: str = "raise") -> tuple[np.ndarray, list[int]]:
    """Decode image files into one float32 array (N, H, W, C) with values 0..255.

    Args:
        paths: image files, or one file (a str or Path) for a batch of one, as ``predict`` takes it.
        image_size: (height, width) to resize to, or None when all images share one size.
        color_mode: "grayscale" (C = 1), "rgb" (3) or "rgba" (4); images are converted (16-bit
            grayscale keeps its high byte, v // 256, as TensorFlow decodes it).
        interpolation: the resampling filter for resizing.
        on_invalid: "raise" (list every undecodable file in a ValueError) or "warn" (list
            them in a warning and leave them out).

    Returns:
        (images, kept): the array and the indices into ``paths`` of the images it holds.
    """
    _check_load_arguments(color_mode, interpolation, on_invalid)
    if isinstance(paths, (str, os.PathLike)):  # one file, not a string of one-letter names
        paths = [paths]
    Image = _pillow()
    mode = COLOR_MODES[color_mode]
    resample = {"bilinear": Image.BILINEAR, "nearest": Image.NEAREST, "bicubic": Image.BICUBIC,
                "lanczos": Image.LANCZOS, "area": Image.BOX}[interpolation]
    arrays, kept, bad = [], [], []
    for i, path in enumerate(paths):
        try:
            with Image.open(path) as img:
                img = _eight_bit(img, Image).convert(mode)
                if image_size is not None and img.size != (image_size[1], image_size[0]):
                    img = img.resize((image_size[1], image_size[0]), resample)  # Pillow: (w, h)
                array = np.asarray(img, dtype=np.float32)
        except Exception as err:
            bad.append(f"{path}: {type(err).__name__}: {err}")
            continue
        arrays.append(array[..., None] if array.ndim == 2 else array)
        kept.append(i)
    _report_invalid(bad, on_invalid)
    if not arrays:
        raise ValueError(f"None of the {len(paths)} file(s) could be decoded as images (listed above).")
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise ValueError(f"The images have different sizes {sorted(shapes)[:5]}; pass image_size=(height, width).")
    return np.stack(arrays), kept


class FolderSource(BatchSource):
    """A lazy dataset of files: a subclass reads only the files of the batch asked for
    (``read_batch``). The shuffling, the batches' rows and ``subset`` live here.

    Args:
        file_paths: the files.
        labels: encoded labels per file (or None).
        class_names: name of each class index.
        batch_size: files per batch.
        shuffle: reshuffle the files after every epoch.
        seed: seed of the shuffling.
    """

    def __init__(self, file_paths, labels, class_names, batch_size: int, shuffle: bool = True,
                 seed: int | None = None):
        self.file_paths = [str(p) for p in file_paths]
        self.labels = labels
        self.class_names = list(class_names)
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self._order = np.arange(len(self.file_paths))

    def __len__(self):
        return -(-len(self.file_paths) // self.batch_size)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} is out of range for {len(self)} batches.")
        rows = self._order[index * self.batch_size:(index + 1) * self.batch_size]
        x, kept = self.read_batch([self.file_paths[i] for i in rows])
        return (x,) if self.labels is None else (x, self.labels[rows[kept]])

    def read_batch(self, paths: list[str]) -> tuple[np.ndarray, np.ndarray | slice]:
        """The contents of ``paths`` and which of them were kept (a slice for all)."""
        raise NotImplementedError

    def on_epoch_end(self):
        if self.shuffle:
            self._order = self._rng.permutation(len(self.file_paths))

    def subset(self, indices, shuffle: bool | None = None) -> FolderSource:
        """The source of the files at ``indices`` (in that order), with the same settings; nothing
        is read. The tuner splits a source this way (validation_split, cv).

        Args:
            indices: positions in ``file_paths``.
            shuffle: reshuffle after every epoch (None: as this source).
        """
        indices = np.asarray(indices, dtype=np.int64)
        part = copy.copy(self)  # keeps a subclass and its attributes
        part.file_paths = [self.file_paths[i] for i in indices]
        part.labels = None if self.labels is None else self.labels[indices]
        part.shuffle = self.shuffle if shuffle is None else bool(shuffle)
        part._rng = np.random.default_rng(self.seed)
        part._order = np.arange(len(part.file_paths))
        return part


class ImageFolderSource(FolderSource):
    """A lazy image dataset: decodes only the files of the batch asked for.

    Made by ``image_dataset_from_directory(..., batch_size=n)``; pass it to ``model.fit``.

    Args:
        file_paths, labels, class_names, batch_size, shuffle, seed: as ``FolderSource``.
        image_size, color_mode, interpolation: as ``load_images``.
        on_invalid: "raise" or "warn" (leave the file out of its batch), as ``load_images``.
    """

    def __init__(self, file_paths, labels, class_names, batch_size: int, image_size=None, color_mode="rgb",
                 interpolation="bilinear", shuffle: bool = True, seed: int | None = None,
                 on_invalid: str = "raise"):
        _check_load_arguments(color_mode, interpolation, on_invalid)
        super().__init__(file_paths, labels, class_names, batch_size, shuffle, seed)
        self.image_size = image_size
        self.color_mode = color_mode
        self.interpolation = interpolation
        self.on_invalid = on_invalid

    def read_batch(self, paths):
        # Only headers were read up front, so a file cut short can fail here; with "warn" its
        # row leaves this batch, label and all.
        return load_images(paths, self.image_size, self.color_mode, self.interpolation, on_invalid=self.on_invalid)


def image_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None,
                                 color_mode: str = "rgb", batch_size: int | None = None, image_size=None,
                                 shuffle: bool = True, seed: int | None = None,
                                 validation_split: float | None = None,
                                 subset: str | None = None, interpolation: str = "bilinear",
                                 follow_links: bool = False, on_invalid: str = "raise"):
    """Images and labels from a folder with one subfolder per class (Keras' function and arguments).

    Args:
        directory: the root, e.g. ``chest_xray/train`` holding ``NORMAL/`` and ``PNEUMONIA/``.
        labels: "inferred" (from the subfolders), None (no labels), or a list of non-negative
            integers, one per image file, in the order Keras lists them: folders sorted by path,
            then each folder's files sorted by name (``ImageData.file_paths`` shows it).
        label_mode: "int" (N,), "categorical" (one-hot), "binary" (float (N, 1), two classes) or None.
        class_names: the subfolders to use, in this order (default: all, alphanumeric; hidden
            folders such as ``.ipynb_checkpoints`` are never classes and never searched).
        color_mode: "grayscale", "rgb" or "rgba"; every image is converted.
        batch_size: None returns decoded arrays (an ``ImageData``); an int returns a lazy
            ``ImageFolderSource`` that decodes one batch at a time (for folders larger than memory).
        image_size: (height, width) to resize to; None keeps the files' size, which must then agree.
        shuffle: shuffle the files (seeded by ``seed``).
        seed: seed of the shuffle and the validation split; required with ``validation_split``.
        validation_split: fraction of the (shuffled) files kept for validation, taken from the end;
            None or 0 for no split.
        subset: "training", "validation" or "both" (then a pair is returned), with validation_split.
        interpolation: resampling filter for resizing: "bilinear", "nearest", "bicubic", "lanczos", "area".
        follow_links: also walk folders that symbolic links point to (off by default, as in Keras).
        on_invalid: "raise" (default: a ValueError listing every undecodable file) or "warn"
            (leave them out, with a warning; with a ``batch_size`` every file is then decoded
            once up front, so no batch loses images during training).

    Returns:
        ``ImageData`` (unpacks as ``x, y``; also has ``class_names`` and ``file_paths``), an
        ``ImageFolderSource`` when ``batch_size`` is given, or a (training, validation) pair.

    Example:
        >>> from glassnet.datasets import image_dataset_from_directory
        >>> train, val = image_dataset_from_directory(  # doctest: +SKIP
        ...     "chest_xray/train", color_mode="grayscale", image_size=(64, 64),
        ...     validation_split=0.1, subset="both", seed=0)
        >>> x, y = train  # doctest: +SKIP
    """
    root = Path(directory)
    if not root.is_dir():
        raise FileNotFoundError(f"image_dataset_from_directory: {root} is not a directory.")
    _check_load_arguments(color_mode, interpolation, on_invalid)
    if label_mode not in LABEL_MODES:
        raise ValueError(f"label_mode must be one of {LABEL_MODES}; got {label_mode!r}.")
    if image_size is not None:
        if isinstance(image_size, np.ndarray):  # np.array([64, 64]) works as in Keras
            image_size = image_size.tolist() if image_size.ndim == 1 else image_size
        if (not isinstance(image_size, (tuple, list)) or len(image_size) != 2
                or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0 for v in image_size)):
            raise ValueError(f"image_size must be (height, width), two positive integers; got {image_size!r}.")
        image_size = (int(image_size[0]), int(image_size[1]))
    check_positive_int(batch_size, "batch_size", "image_dataset_from_directory", none_ok=True)
    validation_split = check_split_arguments(validation_split, subset, shuffle, seed)
    paths, label_list, names = class_files(root, labels, class_names, follow_links, IMAGE_EXTENSIONS, "image")
    if label_list is None:
        label_mode = None
    label_array = None if label_list is None else np.asarray(label_list, dtype=np.int64)

    order = np.random.default_rng(seed).permutation(len(paths)) if shuffle else np.arange(len(paths))
    # A lazy source with on_invalid="warn" decodes every file once now: a file whose header
    # reads but whose pixels are cut short must leave before training, not empty a batch mid-epoch.
    keep = _scan(paths, image_size, on_invalid, decode=batch_size is not None and on_invalid == "warn")
    order = order[np.isin(order, keep)]
    subsets = split_order(order, validation_split, "images")

    def build(rows):
        files = [paths[i] for i in rows]
        encoded = None if label_array is None else encode_labels(label_array[rows], label_mode, len(names))
        if batch_size is not None:
            return ImageFolderSource(files, encoded, names, batch_size, image_size, color_mode, interpolation,
                                     shuffle, seed, on_invalid)
        x, kept = load_images(files, image_size, color_mode, interpolation, on_invalid)
        return ImageData(x, None if encoded is None else encoded[kept], names, [str(files[i]) for i in kept])

    if subset == "both":
        return build(subsets["training"]), build(subsets["validation"])
    return build(subsets[subset or "all"])


def check_split_arguments(validation_split, subset, shuffle, seed):
    """``validation_split`` checked against ``subset`` and ``seed`` (None when there is no split)."""
    if not validation_split:  # Keras reads 0 as "no split" too
        if subset is not None:
            raise ValueError(f"subset={subset!r} needs a validation_split.")
        return None
    if not 0 < validation_split < 1:
        raise ValueError(f"validation_split must be in (0, 1); got {validation_split!r}.")
    if subset not in ("training", "validation", "both"):
        raise ValueError("With validation_split, pass subset='training', 'validation' or 'both'.")
    if shuffle and seed is None:
        raise ValueError("With validation_split and shuffle, pass a seed so the two subsets do not overlap.")
    return validation_split


def split_order(order: np.ndarray, validation_split, what: str) -> dict[str, np.ndarray]:
    """The (shuffled) file order cut into "training" and "validation" (the last part), or "all"."""
    if validation_split is None:
        return {"all": order}
    n_val = int(validation_split * order.size)
    if n_val == 0 or n_val == order.size:
        raise ValueError(f"validation_split={validation_split} of {order.size} {what} leaves an empty subset.")
    return {"training": order[:order.size - n_val], "validation": order[order.size - n_val:]}


def class_files(root: Path, labels, class_names, follow_links: bool, extensions, kind: str):
    """The files, their integer labels (None without labels) and the class names, as Keras'
    ``*_dataset_from_directory`` find them: one subfolder per class ("inferred"), or every file
    under ``root`` with the given labels. ``kind`` ("image", "text") names the files in messages."""
    if not (isinstance(labels, str) and labels == "inferred") and labels is not None:
        if isinstance(labels, str) or not hasattr(labels, "__len__"):
            raise ValueError(f"labels must be 'inferred', None, or a list of integer labels, one per {kind} "
                             f"file; got {labels!r}.")
    if isinstance(labels, str):  # "inferred", the only string the checks above let through
        folders = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        if class_names is not None:
            if isinstance(class_names, str) or not hasattr(class_names, "__iter__"):
                raise ValueError(f"class_names must be a list of subfolder names, e.g. {folders[:2]}; "
                                 f"got {class_names!r}.")
            class_names = list(class_names)
            repeated = sorted({c for c in class_names if class_names.count(c) > 1})
            if repeated:  # a repeated name would read its folder twice, under two labels
                raise ValueError(f"class_names lists {repeated} more than once; name each class folder once.")
            missing = [c for c in class_names if c not in folders]
            if missing:
                raise ValueError(f"class_names {missing} have no folder in {root}; its folders are {folders}.")
            folders = list(class_names)
        if not folders:
            raise ValueError(f"{root} has no class subfolders; put each class's images in its own folder.")
        paths, label_list = [], []
        for index, name in enumerate(folders):
            found = list_files(root / name, follow_links, extensions)
            if not found:
                warnings.warn(f"Class folder {root / name} holds no {kind}s ({', '.join(extensions)}); "
                              f"class {index} ({name!r}) will have no samples.", stacklevel=3)
            paths += found
            label_list += [index] * len(found)
        names = folders
    else:
        if class_names is not None:
            raise ValueError("class_names can only be given with labels='inferred'.")
        paths = list_files(root, follow_links, extensions)
        names = []
        if labels is None:
            label_list = None
        else:
            label_list = list(np.asarray(labels).reshape(-1))
            bad = [v for v in label_list if isinstance(v, (bool, np.bool_))
                   or not isinstance(v, (int, np.integer)) or v < 0]
            if bad:
                shown = [v.item() if isinstance(v, np.generic) else v for v in bad[:5]]
                raise ValueError(f"labels must be non-negative integers (class indices); got {shown!r}. "
                                 f"Map class names to 0, 1, ... first.")
            if len(label_list) != len(paths):
                raise ValueError(
                    f"labels has {len(label_list)} entries but {root} holds {len(paths)} {kind} files; "
                    f"give one label per file, in the order of the folders sorted by path, then each "
                    f"folder's files sorted by name."
                )
            names = [str(c) for c in range(int(max(label_list, default=-1)) + 1)]
    if not paths:
        found = "images" if kind == "image" else f"{kind} files"
        raise ValueError(f"No {found} ({', '.join(extensions)}) found under {root}.")
    return paths, label_list, names
