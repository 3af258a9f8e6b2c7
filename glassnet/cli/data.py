"""Data for the command line: a ``[data]`` table (or a path given to evaluate/predict) to arrays.

Every source becomes a ``Dataset``: train and test arrays, the class names, whether the samples
are images, and for CSV tables the fitted ``TabularPreprocessor`` the model will carry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from glassnet import datasets
from glassnet.models.data import takes_text
from glassnet.models.split import stratified_split

BUILT_IN = ("digits", "mnist", "fashion_mnist")


@dataclass
class Dataset:
    """Arrays ready for ``fit``; ``x_test``/``y_test`` may be None (evaluate-only data has only test).

    Attributes:
        kind: "image" (x is (N, H, W) or (N, H, W, C) raw pixels), "table" (a CSV through a
            preprocessor), "text" (x is (N,) raw strings, for a first TextVectorization layer)
            or "array" (features as stored).
        task: "multiclass", "binary" or "regression".
        pixel_max: the largest pixel value of the source (16 for digits, 255 otherwise).
        preprocessor: the fitted TabularPreprocessor of a CSV source.
        description: one line for the log.
    """

    x_train: np.ndarray | None
    y_train: np.ndarray | None
    x_test: np.ndarray | None
    y_test: np.ndarray | None
    kind: str
    task: str
    class_names: list[str] = field(default_factory=list)
    pixel_max: float = 255.0
    preprocessor: object = None
    description: str = ""


def _split(x, y, test_size: float, seed: int, classify: bool):
    """The test split: ``stratified_split`` (stratified for class labels), fit's and the tuner's rule."""
    if not test_size:
        return x, y, None, None
    try:
        train, test = stratified_split(y, test_size, seed, classification=classify)
    except ValueError as error:
        raise ValueError(f"[data] test_size: {error}") from None
    return x[train], y[train], x[test], y[test]


def _task_of(y: np.ndarray) -> str:
    y = np.asarray(y)
    if y.dtype.kind in "iub" or (y.dtype.kind == "f" and np.all(np.mod(y, 1) == 0) and np.unique(y).size <= 50):
        return "binary" if np.unique(y).size == 2 and set(np.unique(y).tolist()) <= {0, 1} else "multiclass"
    return "regression"


def _class_names(y, given=None) -> list[str]:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:  # one-hot rows
        n_classes = y.shape[1]
    else:
        n_classes = int(y.max()) + 1 if y.size else 0
    if given:
        # names for labels 0, 1, ...: a list of another length would name the wrong classes (and
        # the confusion matrix would leave the unnamed ones out)
        if len(given) != n_classes:
            raise ValueError(f"[data] class_names has {len(given)} name(s) but the labels run from 0 to "
                             f"{n_classes - 1}; give one name per class, in label order ({n_classes} names).")
        return [str(c) for c in given]
    return [str(c) for c in range(n_classes)]


def _require(spec: dict, key: str, source: str) -> str:
    if not spec.get(key):
        raise ValueError(f"[data] source = {source!r} needs {key} = \"...\" (the file or folder to read).")
    return spec[key]


#: the sources whose test set may come from its own file or folder (``test_path``).
_TEST_PATH_SOURCES = ("image_folder", "text_folder", "csv")
#: the [data] keys that name a file or folder on disk.
_PATH_KEYS = ("path", "test_path", "train_images", "train_labels", "test_images", "test_labels")


def _check_paths(spec: dict, source: str) -> None:
    """Every file or folder the table names must exist and be of the right kind; the message names
    the key, and where a relative path was looked for (the current folder, not the config's)."""
    folder = source in ("image_folder", "text_folder")
    for key in _PATH_KEYS:
        if not spec.get(key):
            continue
        path = Path(spec[key]).expanduser()
        wanted = ("the folder of the dataset's files (or leave path out)" if source in BUILT_IN else
                  "a folder with one subfolder per class" if folder else "a file")
        if not path.exists():
            where = "" if path.is_absolute() else f" (relative paths are read from the current folder, {Path.cwd()})"
            raise FileNotFoundError(f"[data] {key}: {spec[key]} does not exist{where}. Give the path to {wanted}.")
        if source not in BUILT_IN and folder != path.is_dir():
            raise ValueError(f"[data] {key}: {spec[key]} is {'a file' if folder else 'a folder'}; source = "
                             f"{source!r} reads {wanted}.")


def _check_classes(names, path, kind: str) -> None:
    """A classifier needs two classes; a folder tree with one class trains to a loss of 0 and
    says nothing (each folder is a class, so one folder is the whole problem)."""
    if len(names) < 2:
        raise ValueError(f"[data] path: {path} holds {kind} of {len(names)} class ({', '.join(names)}); a classifier "
                         f"needs at least 2: put each class's {kind} in its own subfolder (class_names, when given, "
                         f"must name 2 or more).")


def _same_count(x, y, split: str) -> None:
    """IDX images and labels come in two files: one label per image, or a pair of files that do not belong together."""
    if len(x) != len(y):
        raise ValueError(f"[data] {split}_images holds {len(x):,} images but {split}_labels holds {len(y):,} labels; "
                         f"give the labels file that belongs to these images.")


def _images(x_train, y_train, x_test, y_test, description, spec, pixel_max=None) -> Dataset:
    y_all = y_train if y_test is None else np.concatenate([y_train, y_test])
    task = _task_of(y_all)
    if pixel_max is None:
        pixel_max = 255.0 if x_train.dtype == np.uint8 or float(x_train.max()) > 1 else 1.0
    return Dataset(x_train, y_train, x_test, y_test, "image" if x_train.ndim >= 3 else "array", task,
                   _class_names(y_all, spec.get("class_names")) if task != "regression" else [],
                   pixel_max, description=description)


def load(spec: dict, seed: int = 0, say=print) -> Dataset:
    """Load the data a ``[data]`` table describes (see ``glassnet train --help``).

    ``seed`` fixes the train/test split (``split_seed``, not the model's seed, so runs with
    different model seeds are compared on the same test set).
    """
    source = spec.get("source", "digits")
    test_size = float(spec.get("test_size", 0.2))
    say(f"Loading data: {source}{' from ' + spec['path'] if spec.get('path') else ''} ...")
    _check_paths(spec, source)
    if spec.get("test_path") and (source not in _TEST_PATH_SOURCES or spec.get("text")):
        raise ValueError(f"[data] test_path: source = {source!r}{' with text' if spec.get('text') else ''} has no "
                         f"separate test file; use test_size, or test_images/test_labels for IDX files (test_path "
                         f"is read by image_folder, text_folder and csv tables).")
    if source == "digits":
        (x_train, y_train), (x_test, y_test) = datasets.digits.load_data(test_size=test_size or 0.2, seed=seed)
        return _images(x_train, y_train, x_test, y_test, "scikit-learn digits, 8x8 grayscale, pixels 0..16",
                       spec, pixel_max=16.0)
    if source in ("mnist", "fashion_mnist"):
        module = getattr(datasets, source)
        (x_train, y_train), (x_test, y_test) = module.load_data(path=spec.get("path"),
                                                                download=spec.get("download", True))
        # Fashion-MNIST's classes have names (T-shirt/top ...): the report's confusion matrix shows them
        names = spec.get("class_names") or getattr(module, "CLASS_NAMES", None)
        return _images(x_train, y_train, x_test, y_test, f"{source}, 28x28 grayscale",
                       {**spec, "class_names": names}, 255.0)
    if source == "npz":
        return _npz(_require(spec, "path", source), spec, test_size, seed)
    if source == "idx":
        x_train = datasets.read_idx(_require(spec, "train_images", source))
        y_train = datasets.read_idx(_require(spec, "train_labels", source))
        _same_count(x_train, y_train, "train")
        if spec.get("test_images"):
            x_test = datasets.read_idx(spec["test_images"])
            y_test = datasets.read_idx(_require(spec, "test_labels", source))
            _same_count(x_test, y_test, "test")
        else:
            x_train, y_train, x_test, y_test = _split(x_train, y_train, test_size, seed, True)
        return _images(x_train, y_train, x_test, y_test, f"IDX files {spec['train_images']}", spec)
    if source == "image_folder":
        return _image_folder(_require(spec, "path", source), spec, test_size, seed)
    if source == "csv" and spec.get("text"):
        return _text_csv(_require(spec, "path", source), spec, test_size, seed)
    if source == "csv":
        return _csv(_require(spec, "path", source), spec, test_size, seed)
    if source == "text_folder":
        return _text_folder(_require(spec, "path", source), spec, test_size, seed)
    raise ValueError(f"unknown data source {source!r}; valid sources: "
                     f"{', '.join(BUILT_IN + ('npz', 'csv', 'idx', 'image_folder', 'text_folder'))}.")


def _npz(path, spec, test_size, seed) -> Dataset:
    with np.load(path, allow_pickle=False) as archive:
        keys = set(archive.files)
    if {"x_train", "y_train"} <= keys:  # Keras' mnist.npz layout
        with np.load(path, allow_pickle=False) as archive:
            x_train, y_train = archive["x_train"], archive["y_train"]
            x_test = archive["x_test"] if "x_test" in keys else None
            y_test = archive["y_test"] if "y_test" in keys else None
    elif {"x", "y"} <= keys:
        with np.load(path, allow_pickle=False) as archive:
            x_train, y_train, x_test, y_test = archive["x"], archive["y"], None, None
    else:
        splits = datasets.load_npz(path)  # MedMNIST: train_/val_/test_ images and labels
        if "train" not in splits:
            raise ValueError(f"{path} has no training split (keys 'train_images' and 'train_labels').")
        x_train, y_train = splits["train"]
        x_test, y_test = splits.get("test", (None, None))
    for split, (x, y) in {"training": (x_train, y_train), "test": (x_test, y_test)}.items():
        if x is not None and y is not None and len(x) != len(y):
            raise ValueError(f"[data] path: {path} holds {len(x):,} {split} samples but {len(y):,} labels; "
                             f"save one label per sample.")
    if x_test is None and test_size:
        x_train, y_train, x_test, y_test = _split(x_train, y_train, test_size, seed, _task_of(y_train) != "regression")
    return _images(x_train, y_train, x_test, y_test, f"arrays from {path}", spec)


def _image_folder(path, spec, test_size, seed) -> Dataset:
    size = spec.get("image_size")
    # class_names picks the class folders and their order (label 0 first), as in Keras; leaving it
    # out of this call would label the folders alphabetically and then name them wrongly.
    on_invalid = spec.get("on_invalid", "raise")  # the library's advice for a broken file names this key
    data = datasets.image_dataset_from_directory(
        path, color_mode=spec.get("color_mode", "rgb"), image_size=tuple(size) if size else None, shuffle=False,
        class_names=spec.get("class_names"), on_invalid=on_invalid)
    _check_classes(data.class_names, path, "images")
    if spec.get("test_path"):
        # the training classes, in their order; a test folder may lack some, never hold others
        test = datasets.image_dataset_from_directory(
            spec["test_path"], color_mode=spec.get("color_mode", "rgb"), image_size=data.x.shape[1:3],
            class_names=_folder_classes(Path(spec["test_path"]), data.class_names), shuffle=False,
            on_invalid=on_invalid)
        x_train, y_train, x_test, y_test = data.x, data.y, test.x, _run_labels(test, data.class_names)[0]
    else:
        x_train, y_train, x_test, y_test = _split(data.x, data.y, test_size, seed, True)
    result = _images(x_train, y_train, x_test, y_test, f"images from {path}", {}, pixel_max=255.0)
    # the folders name the classes, an empty one included (no label reaches its index)
    result.class_names = list(data.class_names)
    result.task = "binary" if len(data.class_names) == 2 else "multiclass"
    return result


def _text_folder(path, spec, test_size, seed) -> Dataset:
    """Texts from class subfolders of ``.txt`` files (``text_dataset_from_directory``)."""
    read = {"batch_size": None, "shuffle": False, "max_length": spec.get("max_length"), "verbose": False}
    data = datasets.text_dataset_from_directory(path, class_names=spec.get("class_names"), **read)
    _check_classes(data.class_names, path, "texts")
    if spec.get("test_path"):
        test = datasets.text_dataset_from_directory(
            spec["test_path"], class_names=_folder_classes(Path(spec["test_path"]), data.class_names), **read)
        x_train, y_train, x_test, y_test = data.x, data.y, test.x, _run_labels(test, data.class_names)[0]
    else:
        x_train, y_train, x_test, y_test = _split(data.x, data.y, test_size, seed, True)
    task = "binary" if len(data.class_names) == 2 else "multiclass"
    return Dataset(x_train, y_train, x_test, y_test, "text", task, list(data.class_names),
                   description=f"texts from {path}: {len(data.x):,} files in {len(data.class_names)} classes")


def _text_csv(path, spec, test_size, seed) -> Dataset:
    """A CSV column of free text (``text = "<column>"``) and a target column; rows without text
    are left out (and counted in the description)."""
    import pandas as pd

    target, column = spec.get("target"), spec["text"]
    if not target:
        raise ValueError("[data] source = \"csv\" with text = ... needs target = \"<column>\" (the column to predict).")
    frame = pd.read_csv(path)
    for role, name in (("text", column), ("target", target)):
        if name not in frame.columns:
            raise ValueError(f"{role} column {name!r} is not in {path}; its columns are {list(frame.columns)}.")
    texts = frame[column]
    keep = texts.notna() & (texts.astype(str).str.strip() != "") & frame[target].notna()
    frame = frame[keep]
    x = frame[column].astype(str).to_numpy(dtype=object)
    if spec.get("max_length"):
        x = np.array([t[:spec["max_length"]] for t in x], dtype=object)
    task = _csv_task(frame[target])
    if task == "regression":
        y, names = frame[target].to_numpy(dtype=np.float32), []
    else:  # class names in sorted order, as class indices 0, 1, ...
        found, y = np.unique(frame[target].astype(str).to_numpy(), return_inverse=True)
        names = [str(c) for c in found]
        task = "binary" if len(names) == 2 else "multiclass"
    x_train, y_train, x_test, y_test = _split(x, y, test_size, seed, task != "regression")
    dropped = int((~keep).sum())
    return Dataset(x_train, y_train, x_test, y_test, "text", task, names,
                   description=f"text column {column!r} of {path}: {len(x):,} rows, target {target!r}"
                               + (f" ({dropped:,} rows without text left out)" if dropped else ""))


def _csv(path, spec, test_size, seed) -> Dataset:
    import pandas as pd

    from glassnet.preprocessing import TabularPreprocessor

    target = spec.get("target")
    if not target:
        raise ValueError("[data] source = \"csv\" needs target = \"<column>\" (the column to predict).")
    frame = pd.read_csv(path)
    if target not in frame.columns:
        raise ValueError(f"target column {target!r} is not in {path}; its columns are {list(frame.columns)}.")
    options = spec.get("_preprocessing", {})
    task = options.get("task") or _csv_task(frame[target])
    prep = TabularPreprocessor(target=target, task=task, **{k: v for k, v in options.items()
                                                             if k not in ("task", "rescale")})
    if spec.get("test_path") or not test_size:  # the test rows are a file of their own, or none
        prep.fit(frame)  # learns the target's classes too; transform leaves the target column out
        x_train, y_train = prep.transform(frame), prep.encode_target(frame[target])
        x_test = y_test = None
        if spec.get("test_path"):
            test = pd.read_csv(spec["test_path"])
            if target not in test.columns:
                raise ValueError(f"[data] test_path: target column {target!r} is not in {spec['test_path']}; "
                                 f"its columns are {list(test.columns)}.")
            x_test, y_test = prep.transform(test), prep.encode_target(test[target])
    else:
        x_train_df, x_test_df, y_train, y_test = prep.split(frame, test_size=test_size, seed=seed,
                                                            stratify=task != "regression")
        prep.fit(x_train_df)
        x_train, x_test = prep.transform(x_train_df), prep.transform(x_test_df)
    names = [str(c) for c in getattr(prep, "classes_", [])] if task != "regression" else []
    return Dataset(x_train, y_train, x_test, y_test, "table", task, names, preprocessor=prep,
                   description=f"table {path}: {len(frame):,} rows, target {target!r}, "
                               f"{prep.n_features_out} features after preprocessing")


def _csv_task(column) -> str:
    values = column.dropna().unique()
    if len(values) == 2:
        return "binary"
    if column.dtype.kind in "fc" and len(values) > 20:
        return "regression"
    return "multiclass" if len(values) <= 50 or column.dtype.kind not in "iuf" else "regression"


def from_argument(argument: str, model, target: str | None = None, labels: str | None = None,
                  class_names=None) -> Dataset:
    """Evaluation data named on the command line: a built-in name, a .npz, a .csv, an IDX file
    (with ``labels``), an image folder or a TOML config (its test split).

    ``class_names`` (the training run's, in label order) label a folder's class subfolders as
    the model learned them; without them the subfolders are taken alphabetically."""
    from glassnet.cli import config as config_module

    path = Path(argument)
    if argument in BUILT_IN and not path.exists():
        data = load({"source": argument}, say=lambda *_: None)
        return Dataset(None, None, data.x_test, data.y_test, data.kind, data.task, data.class_names, data.pixel_max)
    if not path.exists():
        raise FileNotFoundError(f"{argument} does not exist (give a file, a folder or one of {', '.join(BUILT_IN)}).")
    suffix = path.suffix.lower()
    if suffix == ".toml":
        cfg, _ = config_module.load(path)
        spec = {**cfg["data"], "_preprocessing": cfg.get("preprocessing", {})}
        data = load(spec, seed=cfg["data"].get("split_seed", 0), say=lambda *_: None)
        return Dataset(None, None, data.x_test, data.y_test, data.kind, data.task, data.class_names, data.pixel_max)
    if suffix == ".npz":
        data = _npz(path, {}, 0.0, 0)
        if data.x_test is not None:
            return Dataset(None, None, data.x_test, data.y_test, data.kind, data.task, data.class_names)
        return Dataset(None, None, data.x_train, data.y_train, data.kind, data.task, data.class_names)
    if takes_text(model.layers):
        texts = texts_for_model(path, target, labelled=True, class_names=class_names)
        return Dataset(None, None, texts.x, texts.y, "text", "multiclass", texts.class_names)
    if suffix in (".csv", ".gz") and ".csv" in path.name.lower():
        return _csv_for_model(path, model, target)
    if path.is_dir():
        image = images_for_model(model, path, labelled=True, class_names=class_names)
        return Dataset(None, None, image.x, image.y, "image", "multiclass", image.class_names)
    if labels:
        x, y = datasets.read_idx(path), datasets.read_idx(labels)
        return Dataset(None, None, x, y, "image", _task_of(y), _class_names(y))
    raise ValueError(f"cannot tell what kind of data {path} is: give a .npz, a .csv (with --target), "
                     f"an image folder, a config .toml, an IDX file with --labels, or one of {', '.join(BUILT_IN)}.")


def texts_for_model(path: Path, target: str | None = None, labelled: bool = False, column: str | None = None,
                    class_names=None) -> _Images:
    """Raw strings for a model whose first layer is a TextVectorization: a folder of ``.txt``
    files (class subfolders give the labels, in the order of ``class_names`` when given), one
    ``.txt`` file (one sample), or a CSV's text column: ``column`` when the CSV has it, else the
    one column besides ``target`` holding strings."""
    if path.is_dir():
        if labelled or any(p.is_dir() for p in path.iterdir()):
            data = datasets.text_dataset_from_directory(path, batch_size=None, shuffle=False, verbose=False,
                                                        class_names=_folder_classes(path, class_names))
            return _Images(data.x, *_run_labels(data, class_names), data.file_paths)
        files = datasets.directory.list_files(path, extensions=datasets.text_directory.TEXT_EXTENSIONS)
        if not files:
            raise ValueError(f"no text files (.txt) in {path}.")
        return _Images(datasets.text_directory.read_texts(files), None, [], [str(f) for f in files])
    if ".csv" not in path.name.lower():
        return _Images(datasets.text_directory.read_texts([path]), None, [], [str(path)])
    import pandas as pd

    frame = pd.read_csv(path)
    if labelled and (not target or target not in frame.columns):
        raise ValueError(f"{path}: say which column holds the targets with --target COLUMN; its columns are "
                         f"{list(frame.columns)}.")
    candidates = ([column] if column in frame.columns else
                  [c for c in frame.columns if c != target and pd.api.types.is_string_dtype(frame[c])])
    if len(candidates) != 1:
        raise ValueError(f"{path}: the model reads one text column, but {len(candidates)} columns besides the "
                         f"target hold strings ({candidates}); keep only the text column (and the target).")
    frame = frame[frame[candidates[0]].notna()]
    x = frame[candidates[0]].astype(str).to_numpy(dtype=object)
    if not labelled:
        return _Images(x, None, [], [str(i) for i in frame.index])
    found, y = np.unique(frame[target].astype(str).to_numpy(), return_inverse=True)
    return _Images(x, y, [str(c) for c in found], [str(i) for i in frame.index])


def _csv_for_model(path, model, target):
    import pandas as pd

    frame = pd.read_csv(path)
    prep = model.preprocessor
    target = target or getattr(prep, "target", None)
    if not target:
        raise ValueError(f"{path}: say which column holds the targets with --target COLUMN.")
    if target not in frame.columns:
        raise ValueError(f"target column {target!r} is not in {path}; its columns are {list(frame.columns)}.")
    if prep is not None:
        y = prep.encode_target(frame[target])
        x = prep.transform(frame.drop(columns=[target]))
        names = [str(c) for c in getattr(prep, "classes_", [])]
        return Dataset(None, None, x, y, "table", prep.task, names)
    y = frame[target].to_numpy()
    x = frame.drop(columns=[target]).to_numpy(dtype=np.float32)
    return Dataset(None, None, reshape_for_model(x, model), y, "array", _task_of(y), _class_names(y))


def reshape_for_model(x: np.ndarray, model) -> np.ndarray:
    """Flat rows (CSV pixels) reshaped to the model's per-sample input shape when the sizes agree."""
    shape = tuple(model.input_shape[1:])
    if x.ndim == 2 and len(shape) > 1 and x.shape[1] == int(np.prod(shape)):
        return x.reshape(-1, *shape)
    return x


def _folder_classes(path: Path, class_names):
    """The class subfolders of ``path`` to read, in the training run's order (None without the
    run's ``class_names``: all, alphabetically). A test folder may lack some of the classes."""
    if not class_names:
        return None
    folders = {p.name for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")}
    unknown = sorted(folders - set(class_names))
    if unknown:
        raise ValueError(f"{path} has class folder(s) {unknown} that the model was not trained on; its classes "
                         f"are {list(class_names)}.")
    return [c for c in class_names if c in folders]


def _run_labels(data, class_names):
    """(labels, names) of a folder dataset as the model numbers its classes: a folder's index
    among the folders read becomes its index among the run's ``class_names``."""
    if not class_names or data.y is None:
        return data.y, data.class_names
    index = np.array([list(class_names).index(c) for c in data.class_names], dtype=np.int64)
    return index[data.y], list(class_names)


def images_for_model(model, path: Path, labelled: bool = False, class_names=None):
    """Image files (one file, a folder of files, or class subfolders) decoded at the model's input
    size; class subfolders are labelled in the order of ``class_names`` (the run's) when given."""
    shape = tuple(model.input_shape[1:])
    if len(shape) not in (2, 3):
        raise ValueError(f"the model takes inputs of shape {shape}, not images.")
    channels = 1 if len(shape) == 2 else shape[2]
    color = {1: "grayscale", 3: "rgb", 4: "rgba"}.get(channels)
    if color is None:
        raise ValueError(f"the model's input has {channels} channels; image files give 1, 3 or 4.")
    if labelled or (path.is_dir() and any(p.is_dir() for p in path.iterdir())):
        data = datasets.image_dataset_from_directory(path, color_mode=color, image_size=shape[:2], shuffle=False,
                                                     class_names=_folder_classes(path, class_names))
        (y, names), x, files = _run_labels(data, class_names), data.x, data.file_paths
    else:
        files = sorted(str(p) for p in (path.iterdir() if path.is_dir() else [path])
                       if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".bmp", ".gif"))
        if not files:
            raise ValueError(f"no image files (.png, .jpg, .jpeg, .bmp, .gif) in {path}.")
        x, kept = datasets.load_images(files, image_size=shape[:2], color_mode=color)
        y, names = None, []
    if len(shape) == 2:
        x = x[..., 0]
    return _Images(x, y, names, [str(f) for f in files])


@dataclass
class _Images:
    x: np.ndarray
    y: np.ndarray | None
    class_names: list
    file_paths: list
