"""Models to files and back: what goes into the document and tensors, and the checks on the way in.

Tensor names: ``weights/<layer name>/<weight key>`` for every parameter and state array,
``optimizer/<layer name>/<weight key>/<slot>`` for the optimizer's slots,
``preprocessor/<name>`` for an attached preprocessor's fitted arrays (model files only) and
``callbacks/<callback>/<key>[/<i>]`` for callback state kept in a ``BackupAndRestore`` backup.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os

import numpy as np

from glassnet import schedules
from glassnet._registry import UnknownObjectError, custom_object_scope, deserialize, lookup
from glassnet.saving import atomic, container
from glassnet.saving.container import MODEL_FORMAT, WEIGHTS_FORMAT, ModelFileError, _is_int, _short

#: a file may describe at most this many layers (the check keeps a hostile file from making
#: ``Sequential.add``'s uniqueness test quadratic in a huge count).
MAX_LAYERS = 4096
#: models nested in models (``ModelLayer``) at most this deep in a file
MAX_NESTING = 16


# -- writing ------------------------------------------------------------------------------------
def _require_saveable(model, what: str) -> None:
    if not model.layers or not model.built:
        raise ValueError(f"Cannot {what} an unbuilt model: build it (input_shape=..., model.build) "
                         f"or fit it first.")


def _require_plain_configs(model) -> None:
    """Refuse, naming the layer and argument, a config entry that is not JSON data: a function
    (``TextVectorization(standardize=my_function)``) would be code, which a model file never holds."""
    for layer in model.layers:
        for key, value in layer.get_config().items():
            try:
                json.dumps(value)
            except (TypeError, ValueError):
                array = _first_array(value)
                if array is not None:
                    raise ValueError(
                        f"Cannot save layer {layer.name!r}: its argument {key} holds an array of shape "
                        f"{array.shape} (such as Constant(matrix)); a model file keeps arrays as weights, not in "
                        f"a layer's config. Build the layer with its default {key} and load the array into "
                        f"it: layer.set_weights([matrix]) once the model is built (trainable=False keeps it)."
                    ) from None
                raise ValueError(
                    f"Cannot save layer {layer.name!r}: its argument {key}={value!r} is not plain data, and a "
                    f"model file never holds code. Use one of the layer's named options for {key}, or "
                    f"save the weights alone (model.save_weights) and rebuild the layer in code."
                ) from None


def _first_array(value):
    """The first NumPy array inside a config value (dicts and lists searched), else None."""
    if isinstance(value, np.ndarray):
        return value
    items = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else ()
    return next((found for found in map(_first_array, items) if found is not None), None)


def _layers_table(model) -> list[dict]:
    return [{"name": layer.name, "class_name": type(layer).__name__, "weights": layer.weight_names()}
            for layer in model.layers]


def _weight_tensors(model) -> dict[str, np.ndarray]:
    return {f"weights/{layer.name}/{key}": array
            for layer in model.layers for key, array in (*layer.params.items(), *layer.state.items())}


def _base_doc(model, fmt: str) -> dict:
    from glassnet import __version__

    return {
        "format": fmt,
        "glassnet_version": __version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        # the float type of the weights (a string Input, raw text, has none of its own)
        "dtype": next((layer.dtype for layer in model.layers if layer.dtype != "string"), "float32"),
        "layers": _layers_table(model),
    }


def _check_target(path, overwrite: bool) -> str:
    path = os.fspath(path)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it.")
    return path


def model_bytes(model, include_optimizer: bool = True, callback_states: dict | None = None) -> bytes:
    """The bytes of a model file (see ``save_model``).

    ``callback_states`` maps a callback's name to its ``state_dict()`` (values: JSON data, float
    arrays or lists of float arrays); ``BackupAndRestore`` stores them in its backup so the
    callbacks' state and the model's are written in one atomic file, and read back by
    ``read_callback_states``.
    """
    _require_saveable(model, "save")
    _require_plain_configs(model)
    doc = _base_doc(model, MODEL_FORMAT)
    doc["model"] = {"class_name": type(model).__name__, "config": model.get_config()}
    doc["compile"] = model.get_compile_config()
    doc["training"] = {"epochs_completed": int(getattr(model, "_epochs_completed", 0)), "seed": model.seed,
                       "epoch_offset": int(getattr(model, "_epoch_offset", 0))}
    tensors = _weight_tensors(model)
    if getattr(model, "preprocessor", None) is not None:
        doc["preprocessor"], preprocessor_tensors = _preprocessor_entry(model.preprocessor)
        tensors.update(preprocessor_tensors)
    doc["optimizer"] = None
    if include_optimizer and model.optimizer is not None:
        layer_of = {f"{layer.name}/{key}": (layer.name, key) for layer in model.layers for key in layer.params}
        slots = {}
        for full, array in model.optimizer.variables().items():
            param_key, _, slot = full.rpartition("/")
            if param_key not in layer_of:  # a slot of a layer no longer in the model
                continue
            layer_name, key = layer_of[param_key]
            name = f"optimizer/{layer_name}/{key}/{slot}"
            tensors[name] = array
            slots[name] = [layer_name, key, slot]
        doc["optimizer"] = {"iterations": int(model.optimizer.iterations), "slots": slots}
    if callback_states:
        doc["callbacks"] = {}
        for name, state in callback_states.items():
            doc["callbacks"][name] = entry = {}
            for key, value in state.items():
                where = f"callbacks/{name}/{key}"
                if isinstance(value, np.ndarray):
                    tensors[where], entry[key] = value, {"array": where}
                elif isinstance(value, (list, tuple)) and value and all(isinstance(v, np.ndarray) for v in value):
                    tensors.update((f"{where}/{i}", v) for i, v in enumerate(value))
                    entry[key] = {"arrays": [f"{where}/{i}" for i in range(len(value))]}
                else:
                    entry[key] = {"value": value}
    return container.encode(doc, tensors)


def save_model(model, filepath, overwrite: bool = True, include_optimizer: bool = True,
               callback_states: dict | None = None) -> None:
    """Save architecture, weights, optimizer state and training position to one file, atomically.

    Args:
        model: a built ``Sequential``.
        filepath: the target, conventionally ``*.glassnet``.
        overwrite: replace an existing file (False raises ``FileExistsError``).
        include_optimizer: store the optimizer's slots and step count (needed to resume exactly).
        callback_states: name -> a callback's ``state_dict()``, kept in the same file (see
            ``model_bytes``; ``BackupAndRestore`` uses it).
    """
    path = _check_target(filepath, overwrite)
    atomic.atomic_write(path, model_bytes(model, include_optimizer, callback_states))


def save_weights(model, filepath, overwrite: bool = True) -> None:
    """Save only the weights (parameters and state), as a safetensors file, atomically."""
    _require_saveable(model, "save the weights of")
    path = _check_target(filepath, overwrite)
    atomic.atomic_write(path, container.encode(_base_doc(model, WEIGHTS_FORMAT), _weight_tensors(model)))


# -- reading ------------------------------------------------------------------------------------
def _read(filepath) -> tuple[bytes, str]:
    path = os.fspath(filepath)
    with open(path, "rb") as f:
        return f.read(), path


def _fail(source: str, reason: str):
    raise ModelFileError(f"{source}: {reason}")


def _check_layers_table(doc: dict, tensors: dict, source: str) -> list[dict]:
    """The document's ordered layer list, checked against the tensors it names."""
    table = doc.get("layers")
    if not isinstance(table, list) or len(table) > MAX_LAYERS:
        _fail(source, f"the layer table is missing or longer than {MAX_LAYERS} entries.")
    names, named = set(), set()
    for entry in table:
        if (not isinstance(entry, dict) or not isinstance(entry.get("name"), str)
                or not isinstance(entry.get("class_name"), str) or not isinstance(entry.get("weights"), list)
                or not all(isinstance(k, str) for k in entry["weights"])):
            _fail(source, f"a layer entry is malformed: {_short(entry)}.")
        if entry["name"] in names:
            _fail(source, f"two layers are named {_short(entry['name'])!r}.")
        names.add(entry["name"])
        for key in entry["weights"]:
            name = f"weights/{entry['name']}/{key}"
            if name not in tensors or name in named:
                _fail(source, f"tensor {_short(name)!r} is listed but missing (or listed twice).")
            named.add(name)
    unlisted = sorted(n for n in tensors if n.startswith("weights/") and n not in named)
    if unlisted:
        _fail(source, f"tensors {_short(unlisted)} belong to no layer.")
    return table


def _match_layers(model, table: list[dict], tensors: dict, source: str, by_name: bool) -> dict[str, tuple]:
    """Check the file's weights fit ``model``; returns file layer name -> (model layer, {file
    weight key: model weight key}).

    ``by_name``: layers are matched by name and class (``load_model``, which built the model from
    this file); otherwise by position among the layers that hold weights, as Keras'
    ``load_weights`` does, so a model rebuilt in another session (other automatic names) fits;
    a nested model's weights (``<inner layer>/<key>``) then match by position inside it too.
    """
    if by_name:
        pairs = list(zip(table, model.layers))
        if len(table) != len(model.layers) or any(e["name"] != layer.name for e, layer in pairs):
            _fail(source, "the layer table does not match the layers its config builds.")
    else:
        file_layers = [e for e in table if e["weights"]]
        model_layers = [layer for layer in model.layers if layer.weight_names()]
        if len(file_layers) != len(model_layers):
            _fail(source, f"the file holds weights for {len(file_layers)} layers; this model has "
                          f"{len(model_layers)} layers with weights.")
        pairs = list(zip(file_layers, model_layers))
    mapping = {}
    for entry, layer in pairs:
        where = f"layer {_short(entry['name'])!r} ({_short(entry['class_name'])})"
        if entry["class_name"] != type(layer).__name__:
            _fail(source, f"{where} does not fit the model's {layer.name!r} ({type(layer).__name__}).")
        keys = layer.weight_names()
        file_keys = list(entry["weights"])
        fits = file_keys == keys if by_name else [_leaf(k) for k in file_keys] == [_leaf(k) for k in keys]
        if not fits:
            _fail(source, f"{where} has weights {_short(entry['weights'])}; the model's layer "
                          f"{layer.name!r} has {keys}.")
        targets = {**layer.params, **layer.state}
        for file_key, key in zip(file_keys, keys):
            array, target = tensors[f"weights/{entry['name']}/{file_key}"], targets[key]
            if array.shape != target.shape or array.dtype != target.dtype:
                _fail(source, f"{where}: weight {key!r} is {array.dtype}{list(array.shape)}; the model "
                              f"expects {target.dtype}{list(target.shape)}.")
        mapping[entry["name"]] = (layer, dict(zip(file_keys, keys)))
    return mapping


def _leaf(key: str) -> str:
    """A weight key without the nested layers' names: ``"dense_3/kernel"`` -> ``"kernel"``."""
    return key.rpartition("/")[2]


def _assign_weights(mapping: dict, tensors: dict) -> None:
    for file_name, (layer, keys) in mapping.items():
        layer.set_weights([tensors[f"weights/{file_name}/{file_key}"] for file_key in keys])


def _optimizer_state(doc: dict, tensors: dict, mapping: dict, source: str) -> tuple[dict, int] | None:
    """The slots (keyed as the model's optimizer names them) and step count, checked."""
    state = doc.get("optimizer")
    slot_names = {n for n in tensors if n.startswith("optimizer/")}
    if state is None:
        if slot_names:
            _fail(source, "the file holds optimizer slots but no optimizer state.")
        return None
    if (not isinstance(state, dict) or not _is_int(state.get("iterations")) or state["iterations"] < 0
            or not isinstance(state.get("slots"), dict)):
        _fail(source, "the optimizer state is malformed.")
    if set(state["slots"]) != slot_names:
        _fail(source, "the optimizer's slot table does not match its tensors.")
    variables = {}
    for name, where in state["slots"].items():
        if (not isinstance(where, list) or len(where) != 3 or not all(isinstance(w, str) for w in where)
                or name != f"optimizer/{where[0]}/{where[1]}/{where[2]}"):
            _fail(source, f"optimizer slot entry {_short(name)!r} is malformed.")
        layer, keys = mapping.get(where[0], (None, {}))
        key = keys.get(where[1])
        param = None if layer is None or key is None else layer.params.get(key)
        if param is None:
            _fail(source, f"optimizer slot {_short(name)!r} belongs to no parameter of the model.")
        array = tensors[name]
        # A slot may be wider than its parameter: glassnet.nnfs' optimizers keep float64 state
        # where the book's code does (a float64 gradient for float32 weights).
        wider = array.dtype.kind == "f" and np.can_cast(param.dtype, array.dtype, "safe")
        if array.shape != param.shape or not (array.dtype == param.dtype or wider):
            _fail(source, f"optimizer slot {_short(name)!r} is {array.dtype}{list(array.shape)}; its "
                          f"parameter is {param.dtype}{list(param.shape)}.")
        variables[f"{layer.name}/{key}/{where[2]}"] = array
    return variables, state["iterations"]


def _training_position(doc: dict, source: str) -> tuple[int, int, int]:
    """(epochs completed, seed, epoch offset): with the epoch, the seed is the random state
    training needs. The offset is where the saving fit call's epoch 0 stood in the model's
    stream of epochs (see ``training.fit``); files written before it existed mean 0."""
    training = doc.get("training")
    offset = training.get("epoch_offset", 0) if isinstance(training, dict) else None
    if (not isinstance(training, dict) or not _is_int(training.get("epochs_completed"))
            or training["epochs_completed"] < 0 or not _is_int(training.get("seed"))
            or not _is_int(offset) or offset < 0):
        _fail(source, "the training position (epochs completed, seed, epoch offset) is malformed.")
    return training["epochs_completed"], training["seed"], offset


def _preprocessor_entry(preprocessor) -> tuple[dict, dict[str, np.ndarray]]:
    """The document entry and ``preprocessor/<name>`` tensors of an attached preprocessor
    (``Sequential.attach_preprocessor``): its ``get_state()`` JSON and arrays, never pickle."""
    state, arrays = preprocessor.get_state()
    entry = {"class_name": type(preprocessor).__name__, "state": state, "arrays": sorted(arrays)}
    return entry, {f"preprocessor/{name}": np.asarray(array) for name, array in arrays.items()}


def _load_preprocessor(doc: dict, tensors: dict, custom_objects, source: str):
    """The attached preprocessor rebuilt with its registered class's ``from_state``, or None."""
    entry = doc.get("preprocessor")
    names = {n for n in tensors if n.startswith("preprocessor/")}
    if entry is None:
        if names:
            _fail(source, "the file holds preprocessor tensors but no preprocessor entry.")
        return None
    if (not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str)
            or not isinstance(entry.get("state"), dict) or not isinstance(entry.get("arrays"), list)
            or not all(isinstance(n, str) for n in entry["arrays"])
            or {f"preprocessor/{n}" for n in entry["arrays"]} != names):
        _fail(source, "the preprocessor entry is malformed or does not match its tensors.")
    import glassnet.preprocessing  # noqa: F401  (registers the preprocessor classes)

    cls = lookup("preprocessor", entry["class_name"], custom_objects)
    return cls.from_state(entry["state"], {n: tensors[f"preprocessor/{n}"] for n in entry["arrays"]})


class _WeightGuard:
    """While building, let a layer create only weights the file holds, in their shape and dtype.

    This runs the shape check before any array is allocated, so a config claiming
    ``Dense(10**12)`` fails at once instead of asking for terabytes.
    """

    def __init__(self, layer, name: str, tensors: dict, source: str):
        self.layer, self.name, self.tensors, self.source = layer, name, tensors, source

    def __enter__(self):
        original = self.layer.add_weight

        def add_weight(key, shape, *args, **kwargs):
            array = self.tensors.get(f"weights/{self.name}/{key}")
            shape = tuple(int(d) for d in shape)
            if array is None:
                _fail(self.source, f"layer {_short(self.name)!r} needs a weight {_short(key)!r} "
                                   f"the file does not hold.")
            if array.shape != shape or array.dtype != np.dtype(self.layer.dtype):
                _fail(self.source, f"layer {_short(self.name)!r}: the config makes weight {key!r} "
                                   f"{self.layer.dtype}{list(shape)} but the file holds "
                                   f"{array.dtype}{list(array.shape)}.")
            return original(key, shape, *args, **kwargs)

        self.layer.add_weight = add_weight  # an instance attribute, shadowing the method
        return self

    def __exit__(self, *exc):
        self.layer.__dict__.pop("add_weight", None)
        return False


def _make_layer(spec, tensors: dict, custom_objects, source: str, prefix: str):
    """A layer from its spec. A nested model (``ModelLayer``) is built here, not by its
    ``from_config``, so that each of its layers creates weights under the guard, named as the
    file names them (``<model>/<inner layer>/<key>``)."""
    from glassnet.layers.base import Layer
    from glassnet.models.nested import ModelLayer

    if not isinstance(spec, dict):
        _fail(source, f"a layer spec is not an object: {_short(spec)}.")
    if spec.get("class_name") == "ModelLayer" and "ModelLayer" not in (custom_objects or {}):
        config = spec.get("config")
        if not isinstance(config, dict) or not isinstance(config.get("name"), str):
            _fail(source, f"a nested model's entry is malformed: {_short(spec)}.")
        if prefix.count("/") >= MAX_NESTING:
            _fail(source, f"models are nested more than {MAX_NESTING} deep.")
        inner = _build_model({"model": config.get("model")}, tensors, custom_objects, source,
                             f"{prefix}{config['name']}/")
        return ModelLayer(inner, name=config["name"], trainable=bool(config.get("trainable", True)))
    layer = deserialize("layer", spec, custom_objects)
    if not isinstance(layer, Layer):
        _fail(source, f"{_short(spec.get('class_name'))!r} is not a glassnet layer.")
    return layer


def _build_model(doc: dict, tensors: dict, custom_objects, source: str, prefix: str = ""):
    """The model the document describes; ``prefix`` names the models it is nested in."""
    from glassnet.models.sequential import Sequential

    spec = doc.get("model")
    if (not isinstance(spec, dict) or spec.get("class_name") not in ("Sequential", "Model")
            or not isinstance(spec.get("config"), dict)):
        _fail(source, f"the model entry must describe a Sequential or a Model; got {_short(spec)}.")
    config = spec["config"]
    specs, name, seed = config.get("layers"), config.get("name"), config.get("seed")
    if not isinstance(specs, list) or not specs or len(specs) > MAX_LAYERS:
        _fail(source, f"the model config must list between 1 and {MAX_LAYERS} layers.")
    if not isinstance(name, str) or not _is_int(seed) or seed < 0:
        _fail(source, "the model config needs a string name and a non-negative integer seed.")
    if spec["class_name"] == "Model":
        return _build_graph(config, tensors, custom_objects, source, prefix)
    model = Sequential(name=name, seed=seed)
    for layer_spec in specs:
        layer = _make_layer(layer_spec, tensors, custom_objects, source, prefix)
        with _WeightGuard(layer, prefix + layer.name, tensors, source):
            model.add(layer)
    shape = config.get("build_input_shape")
    if not model.built and shape is not None:
        if not isinstance(shape, list) or not all(d is None or _is_int(d) for d in shape):
            _fail(source, f"invalid build_input_shape {_short(shape)}.")
        with contextlib.ExitStack() as stack:
            for layer in model.layers:
                stack.enter_context(_WeightGuard(layer, prefix + layer.name, tensors, source))
            model.build(shape)
    if not model.built:
        _fail(source, "the config does not say the input shape, so the model cannot be built.")
    return model


def _build_graph(config: dict, tensors: dict, custom_objects, source: str, prefix: str = ""):
    """A graph model from its (already checked) config; each layer's weights are checked against
    the file as it is built."""
    from glassnet.models.functional import GraphError, Model

    def build_layer(layer, input_shapes):
        with _WeightGuard(layer, prefix + layer.name, tensors, source):
            layer.build(input_shapes)

    def make_layer(spec):
        return _make_layer(spec, tensors, custom_objects, source, prefix)

    try:
        return Model.from_config(config, custom_objects, build_layer=build_layer, make_layer=make_layer)
    except GraphError as err:
        _fail(source, f"the graph cannot be rebuilt: {err}")


def _unknown_object_message(source: str, err: UnknownObjectError) -> str:
    """Say which name is missing and how to supply it (the usual cause: a class of your own)."""
    name = _short(err.name)
    return (f"{source}: Unknown {err.kind} {name!r}: the file names a class that is neither one of "
            f"glassnet's nor in custom_objects. If it is your own class, pass it: "
            f"custom_objects={{{name!r}: <your class>}}.")


def load_model(filepath, custom_objects: dict | None = None, compile: bool = True):
    """Load a model saved by ``model.save``: architecture, weights, optimizer state, position.

    Layers, losses, optimizers and metrics are built only from glassnet's registry or from
    ``custom_objects``; nothing named in the file is imported or called. Every byte is checked
    (lengths, JSON, sha256 checksums, dtypes and shapes against the architecture) before any
    weight is created.

    Args:
        filepath: a ``.glassnet`` file.
        custom_objects: name -> class for your own layers, losses, metrics, optimizers,
            schedules or activations, at any depth of the config (an optimizer's schedule, a
            layer's activation): loading runs inside ``custom_object_scope(custom_objects)``.
        compile: restore the optimizer (with its slots and step count), loss and metrics, so
            ``fit(initial_epoch=...)`` continues exactly; False gives an uncompiled model.

    Returns:
        The ``Sequential`` model; ``model._epochs_completed`` says how many epochs the fit call
        that saved it had run (resume with ``fit(initial_epoch=model._epochs_completed)``).

    Raises:
        ModelFileError: the file is damaged, truncated, hostile, of a newer format, or its
            config names a class that neither the registry nor ``custom_objects`` holds.
        OSError: the file cannot be read (missing, a folder, no permission).

    Example:
        >>> import glassnet as gn  # doctest: +SKIP
        >>> model = gn.load_model("model.glassnet")  # doctest: +SKIP
    """
    data, source = _read(filepath)
    doc, tensors = container.decode(data, source, (MODEL_FORMAT,))
    table = _check_layers_table(doc, tensors, source)
    # The scope reaches what the config nests, which no custom_objects argument reaches:
    # an optimizer's schedule, a layer's activation.
    with custom_object_scope(custom_objects):
        try:
            model = _build_model(doc, tensors, custom_objects, source)
            mapping = _match_layers(model, table, tensors, source, by_name=True)
            epochs, seed, offset = _training_position(doc, source)
            if seed != model.seed:  # the model was built from this file's config: they must agree
                _fail(source, f"the training position's seed {seed} differs from the model "
                              f"config's {model.seed}.")
            optimizer_state = _optimizer_state(doc, tensors, mapping, source)
            compile_config = doc.get("compile")
            if compile and compile_config is not None:
                if not isinstance(compile_config, dict):
                    _fail(source, "the compile config is not an object.")
                model.compile_from_config(compile_config, custom_objects)
            model.preprocessor = _load_preprocessor(doc, tensors, custom_objects, source)
        except ModelFileError:
            raise
        except UnknownObjectError as err:
            raise ModelFileError(_unknown_object_message(source, err)) from err
        except Exception as err:  # whatever a hostile config makes a constructor raise
            raise ModelFileError(f"{source}: the model cannot be rebuilt from its config "
                                 f"({type(err).__name__}: {_short(err, 300)}).") from err
    _assign_weights(mapping, tensors)
    if model.optimizer is not None and optimizer_state is not None:
        model.optimizer.set_variables(*optimizer_state)
    model._epochs_completed, model._epoch_offset = epochs, offset
    return model


def load_weights(model, filepath) -> None:
    """Load weights saved by ``save_weights`` (or from a model file) into a built model.

    Layers are matched by position among those with weights, and class, keys, shapes and dtypes
    must agree; nothing is changed unless everything fits.
    """
    _require_saveable(model, "load weights into")
    data, source = _read(filepath)
    doc, tensors = container.decode(data, source, (WEIGHTS_FORMAT, MODEL_FORMAT))
    table = _check_layers_table(doc, tensors, source)
    _assign_weights(_match_layers(model, table, tensors, source, by_name=False), tensors)


def _optimizer_classes(optimizer) -> dict[str, type]:
    """The classes ``optimizer`` is made of, by name: its own and its schedule's."""
    classes = {type(optimizer).__name__: type(optimizer)}
    if isinstance(optimizer.learning_rate, schedules.LearningRateSchedule):
        classes[type(optimizer.learning_rate).__name__] = type(optimizer.learning_rate)
    return classes


def restore_training_state(model, filepath, custom_objects: dict | None = None) -> int:
    """Put a model file's weights and optimizer state into ``model``; returns epochs completed.

    ``model`` must be compiled with the same optimizer class and have the same layers (matched by
    position, as in ``load_weights``). Used by ``BackupAndRestore``.

    The file's optimizer config is rebuilt to read its learning rate. Names in it are looked up
    in ``custom_objects``, then the classes ``model``'s own optimizer is made of (its class and
    its schedule's: you handed them over when compiling), then any active
    ``custom_object_scope``, then glassnet's registry. So a model compiled with your own
    schedule resumes from its backup (``BackupAndRestore``) with nothing more to pass.

    Args:
        model: a built, compiled ``Sequential``.
        filepath: a model file, such as ``BackupAndRestore``'s backup.
        custom_objects: name -> class for your own classes the optimizer config names.
    """
    _require_saveable(model, "restore")
    if model.optimizer is None:
        raise ValueError("Compile the model before restoring its training state.")
    data, source = _read(filepath)
    doc, tensors = container.decode(data, source, (MODEL_FORMAT,))
    table = _check_layers_table(doc, tensors, source)
    mapping = _match_layers(model, table, tensors, source, by_name=False)
    optimizer_state = _optimizer_state(doc, tensors, mapping, source)
    epochs, seed, offset = _training_position(doc, source)
    if seed != model.seed:
        raise ValueError(f"{source} was trained with seed {seed}; this model has seed {model.seed}. "
                         f"Resuming needs the same seed: create the model with seed={seed}.")
    compile_config = doc.get("compile")
    if not isinstance(compile_config, dict) or not isinstance(compile_config.get("optimizer"), dict):
        _fail(source, "the file has no optimizer config to restore.")
    with custom_object_scope(_optimizer_classes(model.optimizer)), custom_object_scope(custom_objects):
        try:
            saved = deserialize("optimizer", compile_config["optimizer"])
        except UnknownObjectError as err:
            raise ModelFileError(_unknown_object_message(source, err)) from err
        except Exception as err:
            raise ModelFileError(f"{source}: its optimizer config is invalid ({_short(err, 300)}).") from err
    if type(saved) is not type(model.optimizer):
        raise ValueError(f"{source} was saved with {type(saved).__name__}; this model uses "
                         f"{type(model.optimizer).__name__}.")
    _assign_weights(mapping, tensors)
    # The rate may differ from the compiled one: ReduceLROnPlateau or a scheduler changed it.
    model.optimizer.learning_rate = saved.learning_rate
    if optimizer_state is not None:
        model.optimizer.set_variables(*optimizer_state)
    model._epochs_completed, model._epoch_offset = epochs, offset
    return epochs


def read_callback_states(filepath) -> dict:
    """The callback states a ``BackupAndRestore`` backup holds: name -> the ``state_dict()`` saved
    (arrays and lists of arrays as saved); empty for a file without any."""
    data, source = _read(filepath)
    doc, tensors = container.decode(data, source, (MODEL_FORMAT,))
    stored = doc.get("callbacks", {})
    if not isinstance(stored, dict) or not all(isinstance(s, dict) for s in stored.values()):
        _fail(source, "the callback states are malformed.")
    states = {}
    for name, entries in stored.items():
        states[name] = state = {}
        for key, entry in entries.items():
            prefix = f"callbacks/{name}/{key}"
            kind = next(iter(entry)) if isinstance(entry, dict) and len(entry) == 1 else None
            if kind == "value":
                state[key] = entry["value"]
            elif kind == "array" and entry["array"] == prefix and prefix in tensors:
                state[key] = tensors[prefix]
            elif (kind == "arrays" and isinstance(entry["arrays"], list)
                  and entry["arrays"] == [f"{prefix}/{i}" for i in range(len(entry["arrays"]))]
                  and all(n in tensors for n in entry["arrays"])):
                state[key] = [tensors[n] for n in entry["arrays"]]
            else:
                _fail(source, f"the state {_short(key)!r} of callback {_short(name)!r} is malformed.")
    return states


def inspect(filepath) -> dict:
    """Describe a model or weights file without building the model (checksums are verified).

    Returns:
        A JSON-ready dict: ``format``, ``format_version``, ``glassnet_version``, ``created``,
        ``dtype``, ``file_bytes``, ``layers`` (name, class, weights with shapes, params),
        ``total_params`` and, for model files, ``model`` (name, seed, config), ``compile``,
        ``optimizer`` (iterations, slot count), ``epochs_completed`` (in the fit call that saved
        it: what ``fit(initial_epoch=...)`` resumes from) and ``epochs_trained`` (over all calls).

    Example:
        >>> import glassnet as gn  # doctest: +SKIP
        >>> gn.saving.inspect("model.glassnet")["total_params"]  # doctest: +SKIP
        1123
    """
    data, source = _read(filepath)
    doc, tensors = container.decode(data, source, (MODEL_FORMAT, WEIGHTS_FORMAT))
    table = _check_layers_table(doc, tensors, source)
    layers = []
    for entry in table:
        weights = {key: {"shape": list(tensors[f"weights/{entry['name']}/{key}"].shape),
                         "dtype": str(tensors[f"weights/{entry['name']}/{key}"].dtype)}
                   for key in entry["weights"]}
        layers.append({"name": entry["name"], "class_name": entry["class_name"], "weights": weights,
                       "params": sum(int(np.prod(w["shape"])) for w in weights.values())})
    info = {key: doc.get(key) for key in ("format", "format_version", "glassnet_version", "created", "dtype")}
    info.update(path=source, file_bytes=len(data), layers=layers,
                total_params=sum(layer["params"] for layer in layers))
    if doc["format"] == MODEL_FORMAT:
        spec = doc.get("model") if isinstance(doc.get("model"), dict) else {}
        config = spec.get("config") if isinstance(spec.get("config"), dict) else {}
        optimizer = doc.get("optimizer") if isinstance(doc.get("optimizer"), dict) else None
        training = doc.get("training") if isinstance(doc.get("training"), dict) else {}
        info.update(
            model={"class_name": spec.get("class_name"), "name": config.get("name"),
                   "seed": config.get("seed"), "config": config},
            compile=doc.get("compile"),
            optimizer=None if optimizer is None else {
                "iterations": optimizer.get("iterations"),
                "slots": len(optimizer.get("slots") or {})},
            epochs_completed=training.get("epochs_completed"),
            # Every epoch the model has run, over all its fit calls (epochs_completed counts
            # those of the call that saved it, the number fit(initial_epoch=...) resumes from).
            epochs_trained=(training.get("epoch_offset", 0) + training["epochs_completed"]
                            if _is_int(training.get("epochs_completed")) and _is_int(training.get("epoch_offset", 0))
                            else None),
            preprocessor=(doc["preprocessor"].get("class_name")
                          if isinstance(doc.get("preprocessor"), dict) else None),
        )
    return info
