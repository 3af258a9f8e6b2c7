"""Model files: round trips for every registered layer, weights files, inspect, versions, atomic writes."""

import hashlib
import json
import os
import stat

import numpy as np
import pytest
import safetensors.numpy

import glassnet as gn
from glassnet import layers
from glassnet._registry import registered
from glassnet.saving import ModelFileError, atomic, container


def _data(n=48, features=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype("float32")
    return x, (x[:, 0] + x[:, 1] > 0).astype("int64")


def _model(seed=0, optimizer="adam", dtype="float32"):
    model = gn.Sequential([layers.Dense(8, activation="relu", input_shape=(4,), dtype=dtype),
                           layers.Dropout(0.25, dtype=dtype),
                           layers.Dense(2, activation="softmax", dtype=dtype)], seed=seed)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _same_weights(a, b) -> bool:
    wa, wb = a.get_weights(), b.get_weights()
    return len(wa) == len(wb) and all(x.dtype == y.dtype and np.array_equal(x, y) for x, y in zip(wa, wb))


def _json(obj) -> str:
    return json.dumps(obj, sort_keys=True)


def _optimizer_state(model):
    return model.optimizer.iterations, {k: v.tobytes() for k, v in model.optimizer.variables().items()}


# -- whole models -----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_round_trip_is_bit_identical(tmp_path, dtype):
    x, y = _data()
    model = _model(dtype=dtype)
    model.fit(x.astype(dtype), y, epochs=2, batch_size=16, verbose=0)
    path = tmp_path / "model.glassnet"
    model.save(path)
    loaded = gn.load_model(path)
    assert np.array_equal(loaded.predict(x), model.predict(x))
    assert loaded.predict(x).dtype == np.dtype(dtype)
    assert _json(loaded.get_config()) == _json(model.get_config())
    assert _json(loaded.get_compile_config()) == _json(model.get_compile_config())
    assert _optimizer_state(loaded) == _optimizer_state(model)
    assert loaded._epochs_completed == 2 and loaded.seed == model.seed
    assert loaded.evaluate(x, y, return_dict=True) == model.evaluate(x, y, return_dict=True)
    lines = []
    loaded.summary(print_fn=lines.append)
    expected = []
    model.summary(print_fn=expected.append)
    assert lines == expected


def test_continuing_after_a_load_equals_continuing_without(tmp_path):
    x, y = _data()
    model = _model(optimizer=gn.optimizers.Adam(learning_rate=0.01, decay=1e-3))
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    model.save(tmp_path / "m.glassnet")
    loaded = gn.load_model(tmp_path / "m.glassnet")
    for m in (model, loaded):
        m.fit(x, y, epochs=4, initial_epoch=2, batch_size=16, verbose=0, validation_split=0.25)
    assert _same_weights(model, loaded)
    assert _optimizer_state(loaded) == _optimizer_state(model)


def test_compile_false_gives_an_uncompiled_model_with_the_weights(tmp_path):
    model = _model()
    model.save(tmp_path / "m.glassnet")
    loaded = gn.load_model(tmp_path / "m.glassnet", compile=False)
    assert not loaded.compiled and loaded.optimizer is None
    assert _same_weights(model, loaded)


def test_include_optimizer_false_stores_no_slots(tmp_path):
    x, y = _data()
    model = _model()
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.glassnet", include_optimizer=False)
    info = gn.saving.inspect(tmp_path / "m.glassnet")
    assert info["optimizer"] is None
    assert gn.load_model(tmp_path / "m.glassnet").optimizer.iterations == 0


def test_saving_an_unbuilt_model_says_how_to_build_it(tmp_path):
    model = gn.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="unbuilt"):
        model.save(tmp_path / "m.glassnet")


def test_overwrite_false_keeps_an_existing_file(tmp_path):
    model = _model()
    model.save(tmp_path / "m.glassnet")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        model.save(tmp_path / "m.glassnet", overwrite=False)


# -- every registered layer -----------------------------------------------------------------------
#: class name -> (constructor arguments, per-sample input shape). A layer added to the registry
#: without an entry here fails test_every_registered_layer_round_trips: add one.
LAYER_CASES = {
    "Activation": ({"activation": "tanh"}, (4,)),
    "AveragePooling1D": ({"pool_size": 2}, (6, 3)),
    "AveragePooling2D": ({"pool_size": 2}, (4, 4, 2)),
    "BatchNormalization": ({}, (4,)),
    "Conv1D": ({"filters": 3, "kernel_size": 2, "activation": "relu"}, (6, 2)),
    "Conv2D": ({"filters": 3, "kernel_size": 2, "padding": "same"}, (4, 4, 2)),
    "Dense": ({"units": 3, "activation": "elu", "kernel_regularizer": "l2"}, (4,)),
    "Dropout": ({"rate": 0.5}, (4,)),
    "ELU": ({}, (4,)),
    "Flatten": ({}, (2, 3)),
    "GlobalAveragePooling1D": ({}, (5, 3)),
    "GlobalAveragePooling2D": ({}, (4, 4, 2)),
    "GlobalMaxPooling1D": ({}, (5, 3)),
    "GlobalMaxPooling2D": ({}, (4, 4, 2)),
    "Input": ({"shape": (4,)}, None),
    "LayerNormalization": ({"axis": [1, 2], "epsilon": 1e-5, "gamma_regularizer": "l2"}, (3, 4)),
    "LeakyReLU": ({"negative_slope": 0.2}, (4,)),
    "MaxPooling1D": ({"pool_size": 2}, (6, 3)),
    # a model used as a layer (glassnet/models/nested.py), with state (moving averages) inside
    "ModelLayer": ({"model": gn.Sequential([layers.Dense(3, activation="tanh", input_shape=(4,)),
                                            layers.BatchNormalization()], name="inner", seed=3)}, (4,)),
    "MaxPooling2D": ({"pool_size": 2}, (4, 4, 2)),
    "RandomBrightness": ({"factor": 0.2, "value_range": (0, 1)}, (4, 4, 1)),
    "RandomContrast": ({"factor": (0.1, 0.3)}, (4, 4, 1)),
    "RandomFlip": ({"mode": "horizontal"}, (4, 4, 1)),
    "RandomRotation": ({"factor": 0.1}, (4, 4, 1)),
    "RandomTranslation": ({"height_factor": 0.2, "width_factor": 0.2}, (4, 4, 1)),
    "RandomZoom": ({"height_factor": 0.2}, (4, 4, 1)),
    "ReLU": ({}, (4,)),
    "Rescaling": ({"scale": 1 / 255, "offset": -0.5}, (4,)),
    # glassnet.nnfs: the NNFS book's names over the same engine
    "Layer_Dense": ({"n_inputs": 4, "n_neurons": 3, "weight_regularizer_l2": 5e-4}, (4,)),
    "Layer_Dropout": ({"rate": 0.1}, (4,)),
    "Activation_ReLU": ({}, (4,)),
    "Activation_Softmax": ({}, (4,)),
    "Activation_Sigmoid": ({}, (4,)),
    "Activation_Linear": ({}, (4,)),
    "Reshape": ({"target_shape": (2, 2)}, (4,)),
    "RepeatVector": ({"n": 3}, (4,)),
    "Permute": ({"dims": [2, 1]}, (5, 2)),
    "UpSampling2D": ({"size": (2, 3)}, (3, 2, 2)),
    "ZeroPadding2D": ({"padding": ((1, 0), (2, 1))}, (3, 2, 2)),
    "Softmax": ({}, (4,)),
    "SpatialDropout1D": ({"rate": 0.5}, (5, 3)),
    "SpatialDropout2D": ({"rate": 0.5}, (4, 4, 2)),
    # sequences (issue 15)
    "Bidirectional": ({"layer": layers.GRU(3, return_sequences=True, dropout=0.2)}, (5, 2)),
    "Embedding": ({"input_dim": 6, "output_dim": 3, "mask_zero": True}, (5,)),
    "GRU": ({"units": 3, "return_sequences": True, "recurrent_dropout": 0.2}, (5, 2)),
    "LSTM": ({"units": 3, "dropout": 0.2, "go_backwards": True}, (5, 2)),
    "Masking": ({"mask_value": 0.0}, (5, 2)),
    "SimpleRNN": ({"units": 3, "return_sequences": True}, (5, 2)),
    "TimeDistributed": ({"layer": layers.Dense(3, activation="tanh")}, (5, 2)),
}

#: layers that take a list of inputs cannot sit in a Sequential; they round-trip in a graph model
#: (tests/test_functional_saving.py).
#: layers whose inputs are token ids, not real numbers
TOKEN_ID_LAYERS = {"Embedding"}
MERGING_LAYERS = {"Add", "Average", "Concatenate", "Dot", "Maximum", "Minimum", "Multiply", "Subtract"}

#: layers that read strings cannot take the float data below; they round-trip in tests/test_text_models.py.
TEXT_LAYERS = {"TextVectorization"}

_LAYER_CLASSES = sorted((name, cls) for name, cls in {cls.__name__: cls for cls in registered("layer").values()}.items()
                        if name not in MERGING_LAYERS | TEXT_LAYERS)


def test_the_merging_layers_left_out_above_are_exactly_the_multi_input_ones():
    assert MERGING_LAYERS == {name for name, cls in registered("layer").items() if cls.takes_list}


@pytest.mark.parametrize("name, cls", _LAYER_CLASSES, ids=[name for name, _ in _LAYER_CLASSES])
def test_every_registered_layer_round_trips(tmp_path, name, cls):
    assert name in LAYER_CASES, (
        f"layer {name} is registered but has no save/load round-trip case: add its constructor "
        f"arguments and input shape to LAYER_CASES in tests/test_saving.py."
    )
    kwargs, input_shape = LAYER_CASES[name]
    if input_shape is None:  # Input itself
        stack = [cls(**kwargs)]
        input_shape = kwargs["shape"]
    else:
        stack = [layers.Input(input_shape), cls(**kwargs)]
    model = gn.Sequential([*stack, layers.Flatten(), layers.Dense(2)], seed=7)
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(1)
    x = rng.normal(size=(8, *input_shape)).astype("float32")
    if name in TOKEN_ID_LAYERS:
        x = rng.integers(0, 6, size=(8, *input_shape)).astype("float32")
    y = rng.normal(size=(8, 2)).astype("float32")
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    # Make every array (state too: moving averages) distinctive, so a lost one cannot pass.
    model.set_weights([rng.uniform(0.5, 1.5, size=w.shape).astype(w.dtype) for w in model.get_weights()])
    model.save(tmp_path / "m.glassnet")
    loaded = gn.load_model(tmp_path / "m.glassnet")
    assert _same_weights(loaded, model)
    assert [layer.weight_names() for layer in loaded.layers] == [layer.weight_names() for layer in model.layers]
    assert np.array_equal(loaded.predict(x), model.predict(x))
    assert _json(loaded.get_config()) == _json(model.get_config())
    assert _optimizer_state(loaded) == _optimizer_state(model)
    for m in (model, loaded):  # training mode too: dropout, augmentation, batch statistics
        # glassnet.nnfs.Layer_Dropout draws from NumPy's global generator, as the book's layer
        # does: it resumes with the same masks from the same state of that generator.
        np.random.seed(0)
        m.fit(x, y, epochs=2, initial_epoch=1, batch_size=4, verbose=0)
    assert _same_weights(loaded, model)


# -- weights files ---------------------------------------------------------------------------------
def test_weights_file_loads_into_a_model_rebuilt_elsewhere(tmp_path):
    x, y = _data()
    model = _model(seed=0)
    model.fit(x, y, epochs=1, verbose=0)
    model.save_weights(tmp_path / "w.safetensors")
    other = _model(seed=99)  # other initial weights, other automatic layer names
    assert [layer.name for layer in other.layers] != [layer.name for layer in model.layers]
    other.load_weights(tmp_path / "w.safetensors")
    assert _same_weights(other, model)
    # A plain safetensors reader sees ordinary named tensors.
    plain = safetensors.numpy.load((tmp_path / "w.safetensors").read_bytes())
    assert np.array_equal(plain[f"weights/{model.layers[0].name}/kernel"], model.layers[0].params["kernel"])


def test_load_weights_accepts_a_model_file(tmp_path):
    model = _model(seed=0)
    model.save(tmp_path / "m.glassnet")
    other = _model(seed=1)
    other.load_weights(tmp_path / "m.glassnet")
    assert _same_weights(other, model)


def test_load_weights_into_another_architecture_names_the_layer_and_changes_nothing(tmp_path):
    _model().save_weights(tmp_path / "w.safetensors")
    other = gn.Sequential([layers.Dense(5, input_shape=(4,)), layers.Dense(2)], seed=0)
    before = other.get_weights()
    expected = "weight 'kernel' is float32\\[4, 8\\]; the model expects float32\\[4, 5\\]"
    with pytest.raises(ModelFileError, match=expected):
        other.load_weights(tmp_path / "w.safetensors")
    assert all(np.array_equal(a, b) for a, b in zip(before, other.get_weights()))


def test_a_weights_file_is_not_a_model_file(tmp_path):
    _model().save_weights(tmp_path / "w.safetensors")
    with pytest.raises(ModelFileError, match="glassnet.model"):
        gn.load_model(tmp_path / "w.safetensors")


def test_a_plain_safetensors_file_is_refused_clearly(tmp_path):
    (tmp_path / "plain.safetensors").write_bytes(safetensors.numpy.save({"w": np.zeros(3, np.float32)}))
    with pytest.raises(ModelFileError, match="no glassnet document"):
        gn.load_model(tmp_path / "plain.safetensors")


def test_missing_file_is_an_os_error_not_a_file_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        gn.load_model(tmp_path / "nothing.glassnet")


# -- inspect ----------------------------------------------------------------------------------------
def test_inspect_describes_without_building(tmp_path):
    x, y = _data()
    model = _model()
    model.fit(x, y, epochs=3, verbose=0)
    model.save(tmp_path / "m.glassnet")
    info = gn.saving.inspect(tmp_path / "m.glassnet")
    json.dumps(info)  # JSON-ready, for a command line
    assert info["format"] == "glassnet.model" and info["format_version"] == gn.saving.FORMAT_VERSION
    assert info["glassnet_version"] == gn.__version__ and info["dtype"] == "float32"
    assert info["total_params"] == model.count_params()
    assert [entry["name"] for entry in info["layers"]] == [layer.name for layer in model.layers]
    assert info["layers"][0]["weights"]["kernel"] == {"shape": [4, 8], "dtype": "float32"}
    assert info["epochs_completed"] == 3 and info["model"]["seed"] == model.seed
    assert info["optimizer"] == {"iterations": model.optimizer.iterations, "slots": 8}
    assert info["compile"]["loss"]["class_name"] == "SparseCategoricalCrossentropy"


def test_inspect_reads_a_file_whose_layers_it_does_not_know(tmp_path):
    class Scale(layers.Dense):
        pass

    model = gn.Sequential([Scale(2, input_shape=(3,))], seed=0)
    model.save(tmp_path / "m.glassnet")
    assert gn.saving.inspect(tmp_path / "m.glassnet")["layers"][0]["class_name"] == "Scale"
    with pytest.raises(ModelFileError, match="Unknown layer 'Scale'"):
        gn.load_model(tmp_path / "m.glassnet")
    loaded = gn.load_model(tmp_path / "m.glassnet", custom_objects={"Scale": Scale})
    assert type(loaded.layers[0]) is Scale and _same_weights(loaded, model)


# -- format versions ---------------------------------------------------------------------------------
def _handmade_v1_file() -> bytes:
    """A format-1 file written by hand from the spec, independently of the saving code.

    Keep it: when the format changes, this fixture must still load (through MIGRATIONS).
    """
    kernel = np.array([[1.0, -1.0], [0.5, 2.0], [0.0, 1.0]], dtype="<f4")
    bias = np.array([0.25, -0.5], dtype="<f4")
    m = np.full((3, 2), 0.125, dtype="<f4")
    tensors = {"weights/d/kernel": kernel, "weights/d/bias": bias, "optimizer/d/kernel/momentum": m}
    doc = {
        "format": "glassnet.model", "format_version": 1, "glassnet_version": "0.1.0",
        "created": "2025-01-01T00:00:00+00:00", "dtype": "float32",
        "layers": [{"name": "d", "class_name": "Dense", "weights": ["kernel", "bias"]}],
        "model": {"class_name": "Sequential", "config": {
            "name": "handmade", "seed": 5, "build_input_shape": [None, 3],
            "layers": [{"class_name": "Dense", "config": {"name": "d", "units": 2, "activation": "linear"}}]}},
        "compile": {"optimizer": {"class_name": "SGD", "config": {"learning_rate": 0.5, "momentum": 0.9}},
                    "loss": {"class_name": "MeanSquaredError", "config": {}}, "metrics": []},
        "optimizer": {"iterations": 7,
                      "slots": {"optimizer/d/kernel/momentum": ["d", "kernel", "momentum"]}},
        "training": {"epochs_completed": 4, "seed": 5},
        "tensors": {name: {"dtype": "F32", "shape": list(a.shape), "sha256": hashlib.sha256(a.tobytes()).hexdigest()}
                    for name, a in tensors.items()},
    }
    text = json.dumps(doc)
    return safetensors.numpy.save(tensors, metadata={
        "glassnet": text, "glassnet_sha256": hashlib.sha256(text.encode()).hexdigest()})


def test_a_handmade_version_1_file_loads(tmp_path):
    (tmp_path / "v1.glassnet").write_bytes(_handmade_v1_file())
    model = gn.load_model(tmp_path / "v1.glassnet")
    assert model.name == "handmade" and model.seed == 5 and model._epochs_completed == 4
    assert np.array_equal(model.predict(np.array([[1, 1, 1]], dtype="float32")), [[1.75, 1.5]])
    assert model.optimizer.iterations == 7 and model.optimizer.learning_rate == 0.5
    assert np.array_equal(model.optimizer.variables()["d/kernel/momentum"], np.full((3, 2), 0.125))


def test_older_versions_are_upgraded_through_the_migrations(tmp_path, monkeypatch):
    seen = []

    def upgrade_1_to_2(doc, tensors):
        seen.append(doc["format_version"])
        return doc, tensors

    monkeypatch.setattr(container, "FORMAT_VERSION", 2)
    monkeypatch.setitem(container.MIGRATIONS, 1, upgrade_1_to_2)
    (tmp_path / "v1.glassnet").write_bytes(_handmade_v1_file())
    assert gn.load_model(tmp_path / "v1.glassnet").name == "handmade"
    assert seen == [1]


def test_a_newer_version_asks_for_a_newer_glassnet(tmp_path, monkeypatch):
    monkeypatch.setattr(container, "FORMAT_VERSION", 99)
    _model().save(tmp_path / "m.glassnet")
    monkeypatch.undo()
    with pytest.raises(ModelFileError, match="format version 99, newer .* upgrade glassnet"):
        gn.load_model(tmp_path / "m.glassnet")


# -- atomic writes --------------------------------------------------------------------------------------
def test_a_crash_before_the_rename_keeps_the_old_file_and_removes_the_temp(tmp_path, monkeypatch):
    x, _ = _data()
    model = _model(seed=0)
    path = tmp_path / "m.glassnet"
    model.save(path)
    old = path.read_bytes()

    def crash(src, dst):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="simulated"):
        _model(seed=1).save(path)
    monkeypatch.undo()
    assert path.read_bytes() == old
    assert sorted(os.listdir(tmp_path)) == ["m.glassnet"]
    assert np.array_equal(gn.load_model(path).predict(x), model.predict(x))


def test_a_crash_while_writing_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "m.glassnet"
    _model(seed=0).save(path)
    old = path.read_bytes()
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError("I/O error (simulated)")))
    with pytest.raises(OSError, match="simulated"):
        _model(seed=1).save(path)
    monkeypatch.undo()
    assert path.read_bytes() == old and sorted(os.listdir(tmp_path)) == ["m.glassnet"]


def test_temp_files_left_by_a_killed_save_are_removed_by_the_next_save(tmp_path):
    leftover = tmp_path / (atomic.temp_prefix("m.glassnet") + "abc123")
    leftover.write_bytes(b"half a file")
    unrelated = tmp_path / (atomic.temp_prefix("other.glassnet") + "xyz")
    unrelated.write_bytes(b"someone else's")
    _model().save(tmp_path / "m.glassnet")
    assert not leftover.exists() and unrelated.exists()


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_saved_files_get_ordinary_permissions_not_the_temp_files_private_ones(tmp_path):
    umask = os.umask(0o022)
    try:
        _model().save(tmp_path / "m.glassnet")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(os.stat(tmp_path / "m.glassnet").st_mode) == 0o644


def test_an_attached_preprocessor_travels_in_the_file_as_plain_data(tmp_path):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"size": [1.0, 2.5, None, 4.0, 3.0, 0.5],
                          "color": ["red", "blue", "red", None, "green", "blue"]})
    prep = gn.preprocessing.TabularPreprocessor().fit(frame)
    model = gn.Sequential([layers.Dense(2, input_shape=(prep.n_features_out,))], seed=0)
    model.attach_preprocessor(prep)
    model.save(tmp_path / "m.glassnet")
    assert gn.saving.inspect(tmp_path / "m.glassnet")["preprocessor"] == "TabularPreprocessor"
    loaded = gn.load_model(tmp_path / "m.glassnet")
    assert type(loaded.preprocessor) is type(prep)
    assert np.array_equal(loaded.predict(frame), model.predict(frame))


class _Gain(gn.layers.Layer):
    """A user layer with a scalar (0-d) weight: y = t · x."""

    def build(self, input_shape):
        self.add_weight("t", (), "ones")
        super().build(input_shape)

    def forward(self, x, training=False):
        self._x = x
        return x * self.params["t"]

    def backward(self, grad):
        self.grads["t"][...] = (grad * self._x).sum()
        return grad * self.params["t"]


def test_a_scalar_weight_keeps_its_shape(tmp_path):
    model = gn.Sequential([layers.Input((3,)), _Gain(), layers.Dense(2)], seed=0)
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((4, 3)), np.zeros((4, 2)), epochs=1, verbose=0)
    model.save(tmp_path / "m.glassnet")
    loaded = gn.load_model(tmp_path / "m.glassnet", custom_objects={"_Gain": _Gain})
    assert loaded.layers[1].params["t"].shape == ()
    np.testing.assert_array_equal(loaded.predict(np.ones((2, 3))), model.predict(np.ones((2, 3))))


def test_another_programs_file_is_named_with_where_it_belongs(tmp_path):
    """A Keras .keras (zip) or .h5 (HDF5) file, or the ONNX file model.export wrote, given to
    load_model: the message says what the file is, not only that its header is wrong."""
    import zipfile

    with zipfile.ZipFile(tmp_path / "model.keras", "w") as archive:
        archive.writestr("config.json", "{}")
    (tmp_path / "model.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(200))
    for name, expected in (("model.keras", "zip archive, such as a Keras .keras file"),
                           ("model.h5", "HDF5 file, such as a Keras .h5 model")):
        with pytest.raises(ModelFileError, match=expected):
            gn.load_model(tmp_path / name)
    pytest.importorskip("onnx")
    _model().export(tmp_path / "model.onnx")
    with pytest.raises(ModelFileError, match="ONNX file, which model.export writes .* onnxruntime"):
        gn.load_model(tmp_path / "model.onnx")


_UNPICKLED = []


class _PickleTrap:
    """Records that it was unpickled: a loader that unpickles would run this."""

    def __reduce__(self):
        return _UNPICKLED.append, ("ran",)


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_a_pickle_such_as_the_nnfs_books_is_named_and_never_unpickled(tmp_path, protocol):
    """The NNFS book's Model.save and save_parameters pickle; a reader loading such a file got only
    "the header claims N bytes" and no word of what the file is or how to bring its arrays over."""
    import pickle

    from glassnet.nnfs import Layer_Dense, Model

    book_parameters = [(np.zeros((2, 3), np.float32), np.zeros((1, 3), np.float32)), _PickleTrap()]
    path = tmp_path / "fashion_mnist.parms"
    path.write_bytes(pickle.dumps(book_parameters, protocol=protocol))
    expected = "Python pickle .*NNFS book.*never loads.*set_parameters"
    with pytest.raises(ModelFileError, match=expected):
        gn.load_model(path)
    with pytest.raises(ModelFileError, match=expected):
        Model.load(path)
    model = Model()
    model.add(Layer_Dense(2, 3))
    model.finalize()
    with pytest.raises(ModelFileError, match=expected):
        model.load_parameters(path)
    assert _UNPICKLED == []


def test_an_array_in_a_layer_argument_is_refused_with_the_set_weights_way(tmp_path):
    """Keras 2's pretrained-embedding recipe, Embedding(embeddings_initializer=Constant(matrix)): the
    matrix is data, not code, and the message says where it goes (the weights), as Keras 3 does it."""
    matrix = np.arange(30, dtype=np.float32).reshape(10, 3)
    model = gn.Sequential([layers.Input((4,)), layers.Embedding(10, 3, trainable=False,
                                                                embeddings_initializer=gn.initializers.Constant(matrix))])
    with pytest.raises(ValueError, match=r"embeddings_initializer holds an array of shape \(10, 3\).*"
                                         r"set_weights\(\[matrix\]\)"):
        model.save(tmp_path / "m.glassnet")
    embedding = layers.Embedding(10, 3, trainable=False)  # the way the message gives
    model = gn.Sequential([layers.Input((4,)), embedding])
    embedding.set_weights([matrix])
    model.save(tmp_path / "m.glassnet")
    assert np.array_equal(gn.load_model(tmp_path / "m.glassnet").layers[1].params["embeddings"], matrix)


def test_models_load_model_is_the_keras_spelling(tmp_path):
    # Ported code calls keras.models.load_model; gn.models.load_model must load the same file.
    model = gn.Sequential([gn.layers.Dense(2, input_shape=(3,))], seed=0)
    model.compile(optimizer="adam", loss="mse")
    model.save(tmp_path / "m.glassnet")
    x = np.ones((2, 3), np.float32)
    loaded = gn.models.load_model(tmp_path / "m.glassnet", compile=False)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.optimizer is None
