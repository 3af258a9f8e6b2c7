"""``glassnet train``: config -> data -> model -> fit -> test metrics -> a run folder with a report."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np

from glassnet import callbacks as callbacks_module
from glassnet import layers as layers_module
from glassnet._registry import lookup, registered
from glassnet.cli import config as config_module
from glassnet.cli import data as data_module
from glassnet.cli import plots, report, run_folder
from glassnet.models import Sequential

#: callbacks a config may name; their file arguments are taken relative to the run folder.
CALLBACKS = ("EarlyStopping", "ReduceLROnPlateau", "ModelCheckpoint", "CSVLogger", "TerminateOnNaN",
             "BackupAndRestore")
_PATH_ARGS = ("filepath", "filename", "backup_dir")
#: the first layer text data gets when the config has no layers; its vocabulary comes from the training texts.
TEXT_VECTORIZATION = {"type": "TextVectorization", "max_tokens": 20000, "output_mode": "tf_idf", "ngrams": 2}


def default_layers(data: data_module.Dataset) -> list[dict]:
    """A small network for data the config gave no layers for: a CNN for images, else an MLP."""
    if data.task == "binary":
        head = {"type": "Dense", "units": 1, "activation": "sigmoid"}
    elif data.task == "multiclass":
        head = {"type": "Dense", "units": len(data.class_names), "activation": "softmax"}
    else:
        head = {"type": "Dense", "units": 1 if data.y_train.ndim == 1 else int(data.y_train.shape[1])}
    if data.kind == "text":  # a bag of words and word pairs, weighted by tf-idf
        return [TEXT_VECTORIZATION, {"type": "Dense", "units": 64, "activation": "relu"}, head]
    if data.kind == "image":
        return [{"type": "Conv2D", "filters": 8, "kernel_size": 3, "padding": "same", "activation": "relu"},
                {"type": "MaxPooling2D", "pool_size": 2}, {"type": "Flatten"},
                {"type": "Dense", "units": 32, "activation": "relu"}, head]
    flat = [{"type": "Flatten"}] if data.x_train.ndim > 2 else []
    return [*flat, {"type": "Dense", "units": 64, "activation": "relu"},
            {"type": "Dense", "units": 32, "activation": "relu"}, head]


def _resolve_rescale(value, data) -> float | None:
    if data.kind != "image" or value in (False, "none", None):
        return None
    if value == "auto":
        return 1.0 / data.pixel_max if data.pixel_max != 1 else None
    if isinstance(value, str):
        raise config_module.ConfigError(f"[preprocessing] rescale must be \"auto\", \"none\" or a number; got {value!r}.")
    return float(value)


def build_model(config: dict, data, locator=None) -> Sequential:
    """The Sequential a config describes, built for ``data``'s samples.

    Image data gets ``Rescaling`` (pixels to 0..1) and, for (H, W) images, a ``Reshape`` adding
    the channel axis in front of the config's layers, so the saved model takes raw images.
    """
    def fail(path, message, value=None):
        if locator is not None:
            return locator.error(path, message, value)
        return config_module.ConfigError(f"{config_module.describe(path)}: {message}")

    front = []
    scale = config["preprocessing"].get("rescale")
    if scale not in (None, "none"):  # load_data writes "none" when the data needs no rescaling
        front.append(layers_module.Rescaling(scale))
    if data.kind == "image" and data.x_train.ndim == 3:
        front.append(layers_module.Reshape((*data.x_train.shape[1:], 1)))
    built = [_build_layer(spec, ("layers", i), fail) for i, spec in enumerate(config["layers"])]
    if data.kind == "text":
        _adapt_text_layer(built, data, fail)
    model = Sequential([*front, *built], name=config["name"], seed=config["seed"])
    try:
        model.build(data.x_train.shape[1:])
    except ValueError as err:
        raise fail(("layers",), f"the layers do not fit the data (samples of shape {data.x_train.shape[1:]}): {err}") from None
    return model


#: arguments that hold a layer (Bidirectional, TimeDistributed), written as a nested table
#: ``layer = {type = "LSTM", units = 32}`` in the same form as a ``[[layers]]`` entry.
_LAYER_ARGS = ("layer", "backward_layer")


def _build_layer(spec: dict, path: tuple, fail):
    """The layer a ``{type = ..., args...}`` table describes; ``path`` locates it in errors."""
    kind = spec.get("type")
    try:
        cls = lookup("layer", kind)
    except ValueError:
        valid = ", ".join(sorted(k for k in registered("layer") if k[0].isupper()))
        raise fail((*path, "type"), f"unknown layer type {kind!r}. Valid layer types: {valid}.", kind) from None
    args = {k: (_build_layer(v, (*path, k), fail) if k in _LAYER_ARGS and isinstance(v, dict) else v)
            for k, v in spec.items() if k != "type"}
    try:
        return cls(**args)
    except (TypeError, ValueError) as err:
        raise fail((*path, "type"), f"{kind}: {err}", kind) from None


def _adapt_text_layer(built: list, data, fail) -> None:
    """Learn the first layer's vocabulary from the training texts (the test texts stay unseen)."""
    first = built[0] if built else None
    if not getattr(first, "takes_text", False):
        example = ", ".join(f"{k} = {v!r}".replace("'", '"') for k, v in TEXT_VECTORIZATION.items())
        raise fail(("layers", 0, "type"), f"the data is text, so the first layer must turn strings into numbers: "
                                          f"a TextVectorization, e.g. {{{example}}}.")
    if first.get_config()["vocabulary"] is None:
        first.adapt(data.x_train)


def _from_spec(kind: str, spec):
    if isinstance(spec, dict):
        args = {k: v for k, v in spec.items() if k != "type"}
        return lookup(kind, spec.get("type", ""))(**args)
    return spec


def compile_model(model, config: dict, data, locator=None) -> dict:
    """Compile with the config's settings, inferring what it leaves out; returns them resolved."""
    settings = dict(config.get("compile") or {})
    classify = data.task in ("binary", "multiclass")
    units = model.output_shape[-1]
    settings.setdefault("optimizer", "adam")
    if "loss" not in settings:
        settings["loss"] = ("binary_crossentropy" if data.task == "binary" and units == 1 else
                            "sparse_categorical_crossentropy" if classify else "mse")
    settings.setdefault("metrics", ["accuracy"] if classify else ["mae"])
    try:
        model.compile(optimizer=_from_spec("optimizer", settings["optimizer"]),
                      loss=_from_spec("loss", settings["loss"]), metrics=list(settings["metrics"]))
    except (TypeError, ValueError) as err:
        key = next((k for k in ("optimizer", "loss", "metrics") if k in str(err).lower()), "optimizer")
        if locator is not None:
            raise locator.error(("compile", key), str(err)) from None
        raise config_module.ConfigError(f"[compile] {key}: {err}") from None
    return settings


def make_callbacks(specs, folder: Path, locator=None) -> list:
    result = []
    for i, spec in enumerate(specs or []):
        kind = spec["type"]
        if kind not in CALLBACKS:
            message = f"unknown callback {kind!r}. Valid callbacks: {', '.join(CALLBACKS)}."
            raise (locator.error(("callbacks", i, "type"), message, kind) if locator else config_module.ConfigError(message))
        args = {k: (str(folder / v) if k in _PATH_ARGS else v) for k, v in spec.items() if k != "type"}
        try:
            result.append(getattr(callbacks_module, kind)(**args))
        except (TypeError, ValueError) as err:
            message = f"{kind}: {err}"
            raise (locator.error(("callbacks", i, "type"), message, kind) if locator else config_module.ConfigError(message)) from None
    return result


def _class_weight(value, y, class_names=()):
    """``[fit] class_weight`` as ``fit`` takes it: "balanced", or a table whose keys are class
    indices ("0") or class names (">50K", "PNEUMONIA": TOML keys are strings either way)."""
    if value is None:
        return None
    if isinstance(value, dict):
        names = [str(c) for c in class_names]
        weights = {}
        for key, weight in value.items():
            if key in names:  # a name wins: a class may be called "1" without being index 1
                index = names.index(key)
            elif key.strip().isdigit() and (not names or int(key) < len(names)):
                index = int(key)
            else:
                known = ", ".join(f"{i} ({n!r})" for i, n in enumerate(names)) or "class indices 0, 1, ..."
                raise config_module.ConfigError(
                    f"[fit] class_weight: {key!r} is not a class of the data; key the table by class index "
                    f"or name: {known}.")
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight >= 0:
                raise config_module.ConfigError(
                    f"[fit] class_weight: the weight of {key!r} must be a non-negative number; got {weight!r}.")
            weights[index] = float(weight)
        return weights
    if value != "balanced":
        raise config_module.ConfigError(
            f"[fit] class_weight must be \"balanced\" or a table of weights by class, e.g. {{\"0\" = 1.0, "
            f"\"1\" = 3.0}}; got {value!r}.")
    from sklearn.utils.class_weight import compute_class_weight

    labels = np.asarray(y).reshape(-1).astype(int)
    classes = np.unique(labels)
    return dict(zip(classes.tolist(), compute_class_weight("balanced", classes=classes, y=labels).tolist()))


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def predicted_classes(model, probabilities: np.ndarray) -> np.ndarray:
    if probabilities.shape[-1] == 1:
        return (probabilities[:, 0] >= 0.5).astype(int)
    return probabilities.argmax(axis=-1)


def run(config: dict, locator=None, *, quiet: bool = False, export_format: str | None = None) -> Path:
    """Train what ``config`` describes and write the run folder; returns its path.

    ``export_format="onnx"`` also writes the trained model as ``model.onnx`` (glassnet.export)."""
    log = run_folder.Log(quiet)
    started = time.perf_counter()
    folder = run_folder.create(config["out"], config["name"])  # fail before any work if unwritable
    log.open(folder / run_folder.LOG_FILE)
    try:
        return _run(config, locator, folder, log, started, quiet, export_format)
    except Exception as err:
        log.failed(err)
        raise
    finally:
        log.close()


def load_data(config: dict, log) -> data_module.Dataset:
    """Load the config's data and fill in what the config leaves to it (in place): the rescale
    factor, default layers and the class names. Shared by ``glassnet train`` and ``glassnet tune``."""
    spec = {**config["data"], "_preprocessing": {k: v for k, v in config["preprocessing"].items() if k != "rescale"}}
    t0 = time.perf_counter()
    data = data_module.load(spec, seed=config["data"].get("split_seed", 0), say=log)
    log(f"  {data.description}: {len(data.x_train):,} training and "
        f"{0 if data.x_test is None else len(data.x_test):,} test samples ({time.perf_counter() - t0:.1f}s)")
    config["preprocessing"]["rescale"] = _resolve_rescale(config["preprocessing"].get("rescale", "auto"), data) or "none"
    if config.get("layers") is None:
        config["layers"] = default_layers(data)
        kind = "a small CNN" if data.kind == "image" else "an MLP"
        log(f"No layers in the config: using {kind} sized for the data.")
    if data.class_names:
        config["data"]["class_names"] = data.class_names
    return data


def make_model(config: dict, data, locator=None) -> Sequential:
    """Build and compile the model of a config that ``load_data`` resolved; ``config["compile"]``
    becomes the settings used (inferred ones included). Does not attach the data's preprocessor."""
    model = build_model(config, data, locator)
    config["compile"] = compile_model(model, config, data, locator)
    return model


def _run(config, locator, folder, log, started, quiet, export_format=None) -> Path:
    log(f"Run folder: {folder}")
    if export_format == "onnx":  # fail before training, not after it, when onnx is missing
        from glassnet import export

        export.require_onnx()
    data = load_data(config, log)
    model = make_model(config, data, locator)
    if data.preprocessor is not None:
        model.attach_preprocessor(data.preprocessor)
    if export_format == "onnx":  # a TextVectorization whose settings do not export: say so before training
        from glassnet.export.converters.text import TextVectorization, check_exportable

        for layer in model.layers:
            if isinstance(layer, TextVectorization):
                check_exportable(layer)
    model.summary(print_fn=log)
    fit = dict(config["fit"])  # --log-every reaches it through the config overrides
    callbacks = make_callbacks(config.get("callbacks"), folder, locator)
    log(f"Training for {fit.get('epochs', 1)} epochs ...")
    t0 = time.perf_counter()
    with log.capture():
        history = model.fit(data.x_train, data.y_train, epochs=fit.get("epochs", 1),
                            batch_size=fit.get("batch_size", 32), validation_split=fit.get("validation_split", 0.0),
                            shuffle=fit.get("shuffle", True),
                            class_weight=_class_weight(fit.get("class_weight"), data.y_train, data.class_names),
                            callbacks=callbacks, verbose=0 if quiet else "auto", log_every=fit.get("log_every"))
    train_seconds = time.perf_counter() - t0

    model_path = folder / run_folder.MODEL_FILE
    model.save(model_path)
    if export_format == "onnx":
        model.export(folder / run_folder.ONNX_FILE)
    config_text = config_module.dumps(config)
    (folder / run_folder.CONFIG_FILE).write_text(config_text, encoding="utf-8")
    history.to_csv(folder / run_folder.HISTORY_FILE)

    metrics = {"epochs_trained": len(history.epoch), "train_seconds": round(train_seconds, 3)}
    png = {}
    png["Loss and accuracy per epoch"] = plots.save(plots.curves(history), folder / "curves.png")
    test_metrics, test_png = evaluate_on_test(model, data, folder)
    metrics.update(test_metrics)
    png.update(test_png)
    with open(folder / run_folder.METRICS_FILE, "w", encoding="utf-8") as f:
        json.dump(metrics, f, indent=2)
    log("Test metrics: " + ", ".join(f"{k[5:]} {v:.4f}" for k, v in metrics.items()
                                      if k.startswith("test_") and isinstance(v, float)))
    total = time.perf_counter() - started
    facts = [("run folder", str(folder)), ("data", data.description),
             ("training samples", f"{len(data.x_train):,}"),
             ("test samples", f"{metrics.get('n_test', 0):,}"), ("epochs trained", metrics["epochs_trained"]),
             ("training time", f"{train_seconds:.1f} s"), ("total time", f"{total:.1f} s"),
             ("parameters", f"{model.count_params():,}"), ("seed", config["seed"])]
    report.write(folder / run_folder.REPORT_FILE, title=config["name"], model=model, config_text=config_text,
                 metrics=metrics, plots=png, facts=facts)
    log(f"Done in {total:.1f}s. Results: {folder}")
    log(f"  report:  {folder / run_folder.REPORT_FILE}")
    log(f"  model:   {model_path}")
    if export_format == "onnx":
        log(f"  ONNX:    {folder / run_folder.ONNX_FILE}")
    return folder


def evaluate_on_test(model, data, folder: Path) -> tuple[dict, dict]:
    """Test metrics of a trained model and, for classifiers, the confusion matrix, ROC curve and
    sample grid as PNGs in ``folder``; returns (metrics, caption -> PNG path). Empty without test data."""
    metrics, png = {}, {}
    if data.x_test is not None and len(data.x_test):
        test = model.evaluate(data.x_test, data.y_test, verbose=0, return_dict=True)
        metrics.update({f"test_{k}": _finite(float(v)) for k, v in test.items()})
        metrics["n_test"] = int(len(data.x_test))
        if data.task in ("binary", "multiclass"):
            probabilities = model.predict(data.x_test)
            y_pred = predicted_classes(model, probabilities)
            y_true = np.asarray(data.y_test).reshape(len(data.y_test), -1)
            y_true = (y_true.argmax(-1) if y_true.shape[1] > 1 else y_true[:, 0]).astype(int)
            from sklearn.metrics import confusion_matrix

            names = data.class_names or [str(c) for c in range(int(max(y_true.max(), y_pred.max())) + 1)]
            counts = confusion_matrix(y_true, y_pred, labels=list(range(len(names))))
            metrics["confusion_matrix"] = counts.tolist()
            metrics["class_names"] = names
            png["Confusion matrix (test)"] = plots.save(plots.confusion_matrix(counts, names),
                                                        folder / "confusion_matrix.png")
            if data.task == "binary" and len(np.unique(y_true)) == 2:
                from glassnet.reports import binary_classification_report

                labels = tuple(names) if len(names) == 2 else ("negative", "positive")
                report = binary_classification_report(y_true, probabilities[:, -1], labels=labels)
                metrics.update({f"test_{k}": _finite(v) for k, v in report.to_dict().items()
                                if k in ("precision", "recall", "f1", "roc_auc")})
                png["ROC curve (test)"] = plots.save(plots.roc(report), folder / "roc.png")
            if data.kind == "image":
                png["Sample test predictions (wrong ones in red)"] = plots.save(
                    plots.sample_grid(data.x_test, y_true, y_pred, names), folder / "samples.png")
    return metrics, png
