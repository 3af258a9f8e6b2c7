"""The array-module seam (glassnet/backend.py): every layer family trains on the strict fake
device, which refuses host arrays inside a step and counts conversions to the host, and ends
with the CPU run's weights bit for bit (the fake device computes with NumPy)."""

import os
import subprocess
import sys

from pathlib import Path

import numpy as np
import pytest

import glassnet as gn
from glassnet import backend

L = gn.layers
STEPS, BATCH = 3, 8  # 3 batches of 8 per epoch, 2 epochs


@pytest.fixture
def fake_device():
    """The fake device for the test, with np.asarray & co refusing its arrays; CPU again after."""
    backend.set_device("fake")
    try:
        with backend.refusing_implicit_copies():
            yield
    finally:
        backend.set_device("cpu")


def _data(shape, classes, ints=False, seed=0):
    rng = np.random.default_rng(seed)
    n = STEPS * BATCH
    x = rng.integers(1, 20, (n, *shape)) if ints else rng.normal(size=(n, *shape)).astype("float32")
    return x, rng.integers(0, classes, n)


def _dense_mlp():
    return gn.Sequential([L.Dense(8, activation="relu", input_shape=(6,)), L.Dropout(0.3),
                          L.Dense(3, activation="softmax")], seed=0), _data((6,), 3)


def _conv2d():
    return gn.Sequential([L.Conv2D(4, 3, activation="relu", padding="same", input_shape=(8, 8, 1)),
                          L.MaxPooling2D(), L.BatchNormalization(), L.Conv2D(4, 3), L.AveragePooling2D(),
                          L.Flatten(), L.Dense(3, activation="softmax")], seed=0), _data((8, 8, 1), 3)


def _conv1d():
    return gn.Sequential([L.Conv1D(4, 3, activation="relu", input_shape=(12, 2)), L.MaxPooling1D(),
                          L.LayerNormalization(), L.GlobalAveragePooling1D(), L.Dense(2, activation="softmax")],
                         seed=0), _data((12, 2), 2)


def _embedding_rnns(cell):
    def build():
        return gn.Sequential([L.Embedding(20, 4, input_shape=(5,)), cell(6, return_sequences=True),
                              cell(5), L.Dense(2, activation="softmax")], seed=0), _data((5,), 2, ints=True)
    return build


def _graph():
    a, b = gn.Input((4,)), gn.Input((4,))
    h = L.Dense(5, activation="tanh")
    merged = L.Concatenate()([L.Add()([h(a), h(b)]), L.Multiply()([a, b])])
    model = gn.Model([a, b], L.Dense(1, activation="sigmoid")(merged), seed=0)
    x, y = _data((8,), 2)
    return model, ([x[:, :4], x[:, 4:]], y)


def _activations_reshaping():
    return gn.Sequential([L.Rescaling(0.5, input_shape=(6,)), L.Dense(8), L.LeakyReLU(), L.Dense(6), L.ELU(),
                          L.Reshape((3, 2)), L.AveragePooling1D(), L.Flatten(), L.Dense(3), L.ReLU(), L.Dense(3),
                          L.Softmax()], seed=0), _data((6,), 3)


def _augmentation():
    return gn.Sequential([L.RandomFlip(input_shape=(8, 8, 1)), L.RandomRotation(0.1), L.RandomZoom(0.1),
                          L.RandomTranslation(0.1, 0.1), L.RandomBrightness(0.1), L.RandomContrast(0.1),
                          L.Conv2D(3, 3), L.SpatialDropout2D(0.2), L.GlobalMaxPooling2D(),
                          L.Dense(3, activation="softmax")], seed=0), _data((8, 8, 1), 3)


def _masked_sequences():
    return gn.Sequential([L.Embedding(20, 4, mask_zero=True, input_shape=(5,)),
                          L.Bidirectional(L.GRU(3, return_sequences=True)), L.SpatialDropout1D(0.2),
                          L.TimeDistributed(L.Dense(3)), L.GlobalMaxPooling1D(), L.Dense(2, activation="softmax")],
                         seed=0), _data((5,), 2, ints=True)


def _merging_nested():
    a, b = gn.Input((4,)), gn.Input((4,))
    inner = gn.Sequential([L.Dense(4, activation="relu", input_shape=(4,)), L.Dense(4)], seed=1)
    pa, pb = inner(a), inner(b)
    parts = [L.Subtract()([pa, pb]), L.Average()([pa, pb]), L.Maximum()([pa, b]), L.Minimum()([a, pb]),
             L.Dot(axes=1)([pa, pb])]
    model = gn.Model([a, b], L.Dense(1, activation="sigmoid")(L.Concatenate()(parts)), seed=0)
    x, y = _data((8,), 2)
    return model, ([x[:, :4], x[:, 4:]], y)


def _masking():
    x, y = _data((5, 3), 2)
    x[:, 3:] = 0.0  # padded steps, which Masking drops
    return gn.Sequential([L.Masking(0.0, input_shape=(5, 3)), L.LSTM(4, return_sequences=True),
                          L.GlobalAveragePooling1D(), L.Activation("tanh"), L.Dense(2, activation="softmax")],
                         seed=0), (x, y)


FAMILIES = {"dense_dropout": _dense_mlp, "conv2d_pool_batchnorm": _conv2d, "conv1d_layernorm": _conv1d,
            "embedding_simplernn": _embedding_rnns(L.SimpleRNN), "lstm": _embedding_rnns(L.LSTM),
            "gru": _embedding_rnns(L.GRU), "graph_merging": _graph, "activations_reshaping": _activations_reshaping,
            "augmentation": _augmentation, "masked_sequences": _masked_sequences, "merging_nested": _merging_nested,
            "masking_activation": _masking}


def _fit(family):
    model, (x, y) = FAMILIES[family]()
    loss = "binary_crossentropy" if family.startswith("graph") or family.startswith("merging") else \
        "sparse_categorical_crossentropy"
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    history = model.fit(x, y, batch_size=BATCH, epochs=2, verbose=0)
    return model, history


@pytest.mark.parametrize("family", FAMILIES)
def test_family_trains_on_the_fake_device_as_on_the_cpu(family, fake_device):
    backend.transfers.clear()
    model, history = _fit(family)
    weights = model.get_weights()  # NumPy arrays, as Keras returns them
    assert all(type(w) is np.ndarray for w in weights)
    counts = dict(backend.transfers)
    backend.set_device("cpu")
    cpu_model, cpu_history = _fit(family)
    # (c) the same bits: the fake device is NumPy under a stricter type
    for got, want in zip(weights, cpu_model.get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)
    assert history.history == cpu_history.history
    assert all(type(v) is float for values in history.history.values() for v in values)
    # (a) no mixed host/device operation: any would have raised HostDeviceMixError above.
    # (b) per step: x and y go to the device (one per model input), and come back as three
    # Python floats, the loss and the accuracy's running sums (Metric.update_state); per epoch,
    # one bool per weight array (fit's check that no weight diverged). Nothing else, but for
    # Embedding's one test of each batch's ids (CuPy would wrap an id out of range silently).
    steps, inputs = 2 * STEPS, 2 if family in ("graph_merging", "merging_nested") else 1
    arrays = len(model.trainable_weights) + len(model.non_trainable_weights)
    placed = counts["to_device"] - steps * (inputs + 1)
    assert 0 < placed <= 2 * arrays + 2 * len(model.trainable_weights), counts  # params, grads, state
    checks = 1 if family in ("embedding_simplernn", "lstm", "gru", "masked_sequences") else 0  # Embedding's ids test
    assert counts.get("scalar", 0) == steps * (3 + checks) + 2 * len(model.trainable_weights), counts
    assert counts.get("to_host", 0) == len(weights), counts  # only the weights fetched above
    # Random draws are made on the host (the model's NumPy generators) and moved, per step: a
    # dropout mask; 11 small per-image draws of the six augmentation layers and SpatialDropout2D.
    draws = {"dense_dropout": 1, "augmentation": 11, "masked_sequences": 1}.get(family, 0)
    assert counts.get("random", 0) == steps * draws, counts


def test_predict_returns_numpy_and_save_writes_host_arrays(fake_device, tmp_path):
    model, _ = _fit("conv2d_pool_batchnorm")
    x, _ = _data((8, 8, 1), 3)
    assert type(model.predict(x)) is np.ndarray
    model.save(tmp_path / "m.glassnet")
    backend.set_device("cpu")
    loaded = gn.load_model(tmp_path / "m.glassnet")
    assert all(type(w) is np.ndarray for w in loaded.get_weights())
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_load_weights_and_explain_on_a_placed_model(fake_device, tmp_path):
    model, _ = _fit("dense_dropout")
    model.save_weights(tmp_path / "w.weights.glassnet")
    want = [backend.to_host(w) for w in model.get_weights()]
    model.load_weights(tmp_path / "w.weights.glassnet")  # host arrays written into device ones
    assert all(backend.is_device_array(w) for w in model.weights)
    x, y = _data((6,), 3)
    assert "FORWARD" in str(model.explain(x[:1], y[:1]))  # on the host: a printed walk through one batch
    assert not any(backend.is_device_array(w) for w in model.weights)
    np.testing.assert_array_equal(model.get_weights()[0], want[0])
    model.fit(x, y, epochs=1, verbose=0)  # and back to the device
    assert all(backend.is_device_array(w) for w in model.weights)


def test_the_packed_weight_buffer_survives_moves_both_ways(fake_device):
    model, (x, y) = _dense_mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")

    def one_buffer():  # Sequential packs its weights into one buffer, which the optimizer steps as one
        kernels = [layer.params["kernel"] for layer in model.layers if layer.params]
        return kernels[0].base is not None and all(k.base is kernels[0].base for k in kernels)

    for device in ("cpu", "fake", "cpu"):
        backend.set_device(device)
        model.fit(x, y, epochs=1, verbose=0)
        assert one_buffer(), device


def test_every_metric_on_the_fake_device_as_on_the_cpu(fake_device):
    metrics = ["binary_accuracy", "precision", "recall", "auc", "mae", "mse", gn.metrics.AUC(curve="PR", name="pr_auc")]

    def fit():
        model = gn.Sequential([L.Dense(4, activation="relu", input_shape=(6,)), L.Dense(1, activation="sigmoid")],
                              seed=0)
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=metrics)
        x, y = _data((6,), 2)
        return model.fit(x, y, batch_size=BATCH, epochs=2, verbose=0, validation_split=0.25,
                         sample_weight=np.linspace(0.5, 1.5, len(y))).history

    on_device = fit()
    backend.set_device("cpu")
    assert on_device == fit()


@pytest.mark.parametrize("activation", ["selu", "gelu", "silu", "softplus", "softsign", "relu6", "exponential",
                                        "mish", "hard_sigmoid"])
def test_every_activation_trains_on_the_fake_device_as_on_the_cpu(activation, fake_device):
    # gelu's erf comes from SciPy on the host and from CuPy on a GPU: never through the host for
    # a device array (the fake device fails on that).
    def fit():
        model = gn.Sequential([L.Dense(4, activation=activation, input_shape=(6,)), L.Dense(1)], seed=0)
        model.compile(optimizer="adam", loss="mse")
        x, y = _data((6,), 2)
        return model.fit(x, y, batch_size=BATCH, epochs=2, verbose=0).history["loss"]

    on_device = fit()
    backend.set_device("cpu")
    assert on_device == fit()


class _Batches(gn.datasets.BatchSource):
    """A lazy source: each batch made when asked for, as a folder of images would be."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return STEPS

    def __getitem__(self, i):
        return self.x[i * BATCH:(i + 1) * BATCH], self.y[i * BATCH:(i + 1) * BATCH]


def test_a_batch_source_moves_once_per_batch(fake_device):
    model, (x, y) = _dense_mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    backend.transfers.clear()
    model.fit(_Batches(x, y), epochs=2, verbose=0, validation_data=_Batches(x, y))
    counts = dict(backend.transfers)
    placed = 2  # the packed weights and gradients (one buffer each)
    assert counts["to_device"] == placed + 2 * (2 * STEPS + 2 * STEPS), counts  # x and y, training and validation
    assert type(model.predict(_Batches(x, y))) is np.ndarray


@pytest.mark.parametrize("mode", ["int", "multi_hot"])
def test_text_vectorization_hands_the_device_its_vectors(mode, fake_device):
    texts = np.array(["a cat sat", "a dog ran far", "cats and dogs", "the end"] * 6, dtype=object)
    y = np.arange(len(texts)) % 2

    def fit():
        vectorize = L.TextVectorization(output_mode=mode, output_sequence_length=4 if mode == "int" else None)
        vectorize.adapt(texts)
        middle = [L.Embedding(20, 3), L.GlobalAveragePooling1D()] if mode == "int" else [L.Dense(3)]
        model = gn.Sequential([L.Input((1,), dtype="string"), vectorize, *middle,
                               L.Dense(2, activation="softmax")], seed=0)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(texts, y, batch_size=BATCH, epochs=2, verbose=0)
        return [backend.to_host(w) for w in model.get_weights()], model.predict(texts)

    weights, predictions = fit()
    backend.set_device("cpu")
    cpu_weights, cpu_predictions = fit()
    for got, want in zip(weights, cpu_weights, strict=True):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(predictions, cpu_predictions)


@pytest.mark.parametrize("family", ["dense_dropout", "graph_merging"])
def test_calling_a_model_answers_where_its_input_lives(family, fake_device):
    # model(x): computed on the device; a host x gets NumPy back (as predict returns), a device x
    # a device array, never copied to the host
    model, (x, y) = FAMILIES[family]()
    model.compile(optimizer="adam", loss="binary_crossentropy" if family == "graph_merging" else
                  "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)  # the weights are on the device now
    out = model(x)
    assert type(out) is np.ndarray
    np.testing.assert_array_equal(out, model.predict(x))
    on_device = [backend.to_device(a) for a in x] if isinstance(x, list) else backend.to_device(x)
    backend.transfers.clear()
    answer = model(on_device)
    assert backend.is_device_array(answer) and backend.transfers["to_host"] == 0
    np.testing.assert_array_equal(backend.to_host(answer), out)
    backend.set_device("cpu")  # a device array handed to a model on the CPU: answered on the device too
    answer = model(on_device)
    assert backend.is_device_array(answer) and not backend.is_device_array(model.weights[0])
    np.testing.assert_array_equal(backend.to_host(answer), out)


def _dead_relu():
    dead = L.Dense(8, activation="relu", bias_initializer=gn.initializers.Constant(-100.0), input_shape=(6,))
    return gn.Sequential([dead, L.Dense(3, activation="softmax")], seed=0), _data((6,), 3)


def _rnn_relu():
    return gn.Sequential([L.Embedding(20, 4, input_shape=(5,)), L.SimpleRNN(6), L.Dense(8, activation="relu"),
                          L.Dense(3, activation="softmax")], seed=0), _data((5,), 3, ints=True)


@pytest.mark.parametrize("family", ["dead_relu", "rnn_relu", "graph"])
def test_diagnose_on_the_fake_device_finds_what_the_cpu_finds(family, fake_device):
    build = {"dead_relu": _dead_relu, "rnn_relu": _rnn_relu, "graph": _graph}[family]

    def fit(batch_size, diagnose=True):
        model, (x, y) = build()
        model.compile(optimizer="adam", loss="binary_crossentropy" if family == "graph" else
                      "sparse_categorical_crossentropy")
        backend.transfers.clear()
        model.fit(x, y, batch_size=batch_size, epochs=3, verbose=0, diagnose=diagnose)
        return model, dict(backend.transfers)

    model, counts = fit(BATCH)
    watcher = model.diagnostics
    # the statistics come back once per epoch, as Python numbers, whatever the number of batches
    # (3 or 6 an epoch here): what diagnose adds to the transfers does not grow with them
    added = {k: v - fit(BATCH, diagnose=False)[1].get(k, 0) for k, v in counts.items()}
    _, halves = fit(BATCH // 2)
    assert added == {k: v - fit(BATCH // 2, diagnose=False)[1].get(k, 0) for k, v in halves.items()}
    assert all(type(v) in (int, float, type(None)) for stats in watcher.epochs for v in stats.values())
    backend.set_device("cpu")
    cpu_model = fit(BATCH)[0]
    on_cpu = cpu_model.diagnostics

    def by_position(model, watched):
        # the figures and findings as text (repr writes every float exactly), each layer named by
        # its place: the two models' automatic layer names differ
        text = repr((watched.epochs, [(f.kind, f.epoch, f.message, f.evidence) for f in watched.findings]))
        for i, layer in sorted(enumerate(model.layers), key=lambda p: -len(p[1].name)):  # dense_1 before dense
            text = text.replace(layer.name, f"<layer {i}>")
        return text

    assert by_position(model, watcher) == by_position(cpu_model, on_cpu)
    if family == "dead_relu":  # a finding read from activations computed on the device
        assert watcher.kinds == ["dead_relu"]
    if family == "rnn_relu":  # gradients through time, summed on the device
        ratios = [v for k, v in watcher.epochs[-1].items() if k.startswith("time_ratio/")]
        assert ratios and all(v > 0 for v in ratios)


def test_the_optimizer_steps_the_packed_buffer_as_one_on_the_device(fake_device):
    def fit():
        model, (x, y) = _conv2d()  # a Sequential: its weights sit side by side in one buffer
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=BATCH, epochs=2, verbose=0)
        return model

    model = fit()
    optimizer = model.optimizer
    # one flat update for the parameters in a row, with flat slots on the device
    assert optimizer.flat_groups
    assert all(backend.is_device_array(s) for slots in optimizer._group_slots.values() for s in slots.values())
    backend.set_device("cpu")
    on_cpu = fit()
    assert len(optimizer.flat_groups) == len(on_cpu.optimizer.flat_groups) == 1  # layer names differ
    for got, want in zip(model.get_weights(), on_cpu.get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)


def test_metric_functions_and_a_fitted_layer_take_device_arrays(fake_device):
    metrics = [gn.metrics.accuracy, gn.metrics.sparse_categorical_accuracy, gn.losses.sparse_categorical_crossentropy]

    def fit():
        model, (x, y) = _dense_mlp()
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=metrics)
        return model, model.fit(x, y, batch_size=BATCH, epochs=2, verbose=0).history

    model, on_device = fit()
    x = backend.to_device(_data((6,), 3)[0])
    assert backend.is_device_array(model.layers[0](x))  # a layer of the model, called on its own
    backend.set_device("cpu")
    assert on_device == fit()[1]


class _Scale(gn.layers.Layer):
    """A user's layer, defined outside glassnet: y = x ⊙ s, one trainable scale per feature."""

    def build(self, input_shape):
        self.add_weight("scale", (input_shape[-1],), initializer="ones")
        super().build(input_shape)

    def forward(self, x, training=False):
        self._x = x
        return x * self.params["scale"]

    def backward(self, grad):
        self.grads["scale"][...] = (grad * self._x).sum(axis=0)  # in place: a view of the packed buffer
        return grad * self.params["scale"]


def test_a_users_own_layer_moves_with_the_model(fake_device):
    def fit():
        model = gn.Sequential([L.Dense(4, input_shape=(6,)), _Scale(), L.Dense(3, activation="softmax")], seed=0)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(*_data((6,), 3), batch_size=BATCH, epochs=2, verbose=0)
        return [backend.to_host(w) for w in model.get_weights()]

    on_device = fit()
    backend.set_device("cpu")
    for got, want in zip(on_device, fit(), strict=True):
        np.testing.assert_array_equal(got, want)


def test_the_nnfs_books_model_on_the_fake_device(fake_device):
    from glassnet import nnfs

    def run():
        np.random.seed(0)  # the book's global generator: its weights and data
        x, y = nnfs.spiral_data(samples=30, classes=3)
        model = nnfs.Model()
        for layer in (nnfs.Layer_Dense(2, 8), nnfs.Activation_ReLU(), nnfs.Layer_Dense(8, 3),
                      nnfs.Activation_Softmax()):
            model.add(layer)
        model.set(loss=nnfs.Loss_CategoricalCrossentropy(), optimizer=nnfs.Optimizer_Adam(learning_rate=0.05),
                  accuracy=nnfs.Accuracy_Categorical())
        model.finalize()
        model.train(x, y, epochs=2, batch_size=30, print_every=100)
        return model.predict(x)

    on_device = run()
    backend.set_device("cpu")
    np.testing.assert_array_equal(on_device, run())


def test_callbacks_on_the_fake_device_as_on_the_cpu(fake_device, tmp_path):
    def fit(folder):
        model, (x, y) = _conv2d()
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        callbacks = [gn.callbacks.EarlyStopping(patience=1, restore_best_weights=True),
                     gn.callbacks.ModelCheckpoint(folder / "best.glassnet", save_best_only=True),
                     gn.callbacks.ReduceLROnPlateau(patience=1), gn.callbacks.CSVLogger(folder / "log.csv"),
                     gn.callbacks.BackupAndRestore(folder / "backup")]
        history = model.fit(x, y, epochs=5, batch_size=BATCH, validation_split=0.25, verbose=0, callbacks=callbacks)
        best = gn.load_model(folder / "best.glassnet").get_weights()
        return history.history, [backend.to_host(w) for w in model.get_weights()], best

    (tmp_path / "fake").mkdir(), (tmp_path / "cpu").mkdir()
    on_device = fit(tmp_path / "fake")
    backend.set_device("cpu")
    on_cpu = fit(tmp_path / "cpu")
    assert on_device[0] == on_cpu[0]
    for got, want in zip([*on_device[1], *on_device[2]], [*on_cpu[1], *on_cpu[2]], strict=True):
        np.testing.assert_array_equal(got, want)


def test_export_from_the_fake_device(fake_device, tmp_path):
    pytest.importorskip("onnx")
    model, (x, y) = _dense_mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    assert (tmp_path / "m.onnx") == Path(model.export(tmp_path / "m.onnx"))


def test_the_fake_device_refuses_host_arrays_in_a_step():
    device = backend.to_device(np.ones((2, 3)), "fake")
    with pytest.raises(backend.HostDeviceMixError, match="host array of shape"):
        device + np.ones((2, 3))
    with pytest.raises(backend.HostDeviceMixError):
        device[...] = np.zeros((2, 3))
    with backend.refusing_implicit_copies(), pytest.raises(backend.HostDeviceMixError, match="np.asarray"):
        np.asarray(device)
    assert type(device * 2.0 + np.ones(1)) is backend.FakeDeviceArray  # numbers and one-element arrays mix
    with pytest.raises(AttributeError, match="data_address"):  # CuPy arrays have none either
        device.__array_interface__
    assert backend.data_address(device[1:]) == backend.data_address(device) + 3 * device.itemsize


def test_gpu_without_cupy_names_what_is_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # import cupy then fails, as where it is not installed
    with pytest.raises(RuntimeError, match=r"needs CuPy.*pip install glassnet\[gpu\].*cupy-cuda13x"):
        gn.config.set_device("gpu")
    assert gn.config.get_device() == "cpu"
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        gn.config.set_device("tpu")


def test_the_cpu_path_never_imports_cupy(tmp_path):
    # a stand-in "cupy" on the path, importable: the CPU path must still never import it
    (tmp_path / "cupy").mkdir()
    (tmp_path / "cupy" / "__init__.py").write_text("raise SystemExit('cupy was imported')\n")
    code = ("import sys, numpy as np, glassnet as gn\n"
            "m = gn.Sequential([gn.layers.Dense(2, input_shape=(3,))], seed=0)\n"
            "m.compile(optimizer='sgd', loss='mse')\n"
            "m.fit(np.ones((4, 3)), np.ones((4, 2)), epochs=1, verbose=0)\n"
            "m.predict(np.ones((2, 3)))\n"
            "assert 'cupy' not in sys.modules\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_cli_device_option(tmp_path, capsys, monkeypatch):
    from glassnet.cli import main

    model = gn.Sequential([L.Dense(2, activation="softmax", input_shape=(3,))], seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.save(tmp_path / "m.glassnet")
    (tmp_path / "x.csv").write_text("a,b,c\n1,2,3\n4,5,6\n")
    args = ["predict", str(tmp_path / "m.glassnet"), str(tmp_path / "x.csv"), "-o", str(tmp_path / "p.csv")]
    assert main([args[0], "--device", "cpu", *args[1:]]) == 0
    assert (tmp_path / "p.csv").exists()
    monkeypatch.setitem(sys.modules, "cupy", None)  # as where CuPy is not installed
    assert main([args[0], "--device", "gpu", *args[1:]]) == 2
    assert "needs CuPy" in capsys.readouterr().err
    assert backend.get_device() == "cpu"


@pytest.mark.parametrize("make, shape", [(lambda: L.Dense(3, activation="tanh", dtype="float64"), (4, 5)),
                                         (lambda: L.Conv2D(2, 3, dtype="float64"), (2, 5, 5, 2)),
                                         (lambda: L.LSTM(3, dtype="float64"), (2, 4, 2)),
                                         (lambda: L.BatchNormalization(dtype="float64"), (6, 3))])
def test_check_gradients_on_the_fake_device_in_float64(make, shape, fake_device):
    x = np.random.default_rng(0).normal(size=shape)
    result = gn.check_gradients(make(), x, training=True)
    backend.set_device("cpu")
    on_cpu = gn.check_gradients(make(), x, training=True)
    assert result.passed and [c.max_abs_error for c in result.checks] == [c.max_abs_error for c in on_cpu.checks]


def test_check_gradients_of_a_model_and_its_loss_on_the_fake_device(fake_device):
    model = gn.Sequential([L.Dense(4, activation="relu", dtype="float64", input_shape=(3,)),
                           L.Dense(2, activation="softmax", dtype="float64")], seed=0)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).normal(size=(6, 3))
    result = gn.check_gradients(model, x, np.array([0, 1, 1, 0, 1, 0]))
    assert result.passed and backend.is_device_array(model.layers[0].params["kernel"])


def test_tuner_worker_processes_take_the_device(monkeypatch, fake_device):
    from glassnet.tuning import tuner as tuner_module, worker

    plans, devices = [], []

    def no_processes(got, setup):
        plans.extend(got)
        raise KeyboardInterrupt  # the plans are all this test needs

    def build(params):
        model = gn.Sequential([L.Dense(params["units"], input_shape=(4,)), L.Dense(2, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    monkeypatch.setattr(tuner_module, "start_workers", no_processes)
    x, y = _data((4,), 2)
    tuner = gn.tuning.Tuner(build, {"units": [2, 3]}, strategy="grid", n_workers=2, seed=0, verbose=0)
    with pytest.raises(KeyboardInterrupt):
        tuner.search(x, y, validation_split=0.25, epochs=1)
    assert [plan.device for plan in plans] == ["fake", "fake"]
    # a worker process sets its device from its plan before its first trial
    backend.set_device("cpu")
    monkeypatch.setattr(worker, "run_worker", lambda plan, setup: devices.append(backend.get_device()))
    worker.process_main(plans[0], None)
    assert devices == ["fake"]


def _grown(device):
    """A Sequential fitted on ``device``, then grown by one layer (``add``) and fitted again."""
    backend.set_device(device)
    try:
        model, (x, y) = _dense_mlp()
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=False)
        model.pop()
        before = backend.transfers["to_host"]
        model.add(L.Dense(3, activation="softmax"))  # built at once: the weights are packed again
        # each device weight (and gradient) of the first layer came back through the seam, as CuPy
        # requires, rather than being copied into the host buffer behind its back
        repacked = backend.transfers["to_host"] - before
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=False)
        return model.get_weights(), repacked
    finally:
        backend.set_device("cpu")


def test_a_model_grown_after_a_device_fit_repacks_on_the_host_and_trains_on_as_on_the_cpu():
    # Re-packing writes each weight into a new host buffer; CuPy refuses a device array there, so
    # the weights come back first (glassnet/models/flat_weights.py) and the next fit moves the buffer.
    (on_cpu, _), (on_fake, repacked) = _grown("cpu"), _grown("fake")
    assert all(a.tobytes() == b.tobytes() for a, b in zip(on_cpu, on_fake))
    assert repacked == 4  # the first Dense's kernel and bias, and their two gradients


def test_a_cpu_only_process_never_walks_a_models_weights_to_place_it():
    # train_on_batch places the model at every step; in a process that has only chosen the CPU
    # nothing can be on a device, so that costs nothing. Once a device was chosen, the walk runs
    # and brings a model back from it.
    script = """
import numpy as np, glassnet as gn
from glassnet.models import placement
walks = []
real = placement._array_tables
placement._array_tables = lambda model: walks.append(1) or real(model)
model = gn.Sequential([gn.layers.Dense(3, input_shape=(4,))], seed=0)
model.compile("adam", "mse")
x, y = np.ones((8, 4), "float32"), np.zeros((8, 3), "float32")
model.train_on_batch(x, y); model.fit(x, y, verbose=0); model.predict(x); model(x)
assert not walks, walks
gn.config.set_device("fake"); model.train_on_batch(x, y); gn.config.set_device("cpu")
model.train_on_batch(x, y)
assert walks and all(type(w) is np.ndarray for w in model.weights), walks
print("ok")
"""
    env = {k: v for k, v in os.environ.items() if k != "GLASSNET_DEVICE"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


@pytest.mark.parametrize("make, shape, kwargs", [
    (lambda: L.Dense(3, activation="relu"), (5,), {}),
    (lambda: L.BatchNormalization(), (5,), {"training": True}),
    (lambda: L.Bidirectional(L.LSTM(3)), (4, 2), {}),
    (lambda: L.GRU(3), (4, 2), {"mask": np.array([[True] * 4, [True, True, False, False]] * 3)}),
], ids=["dense", "batchnorm", "bidirectional", "gru-mask"])
def test_a_layer_called_on_its_own_moves_where_its_input_lives(make, shape, kwargs, fake_device):
    x = _data(shape, 2)[0][:6]
    backend.set_device("cpu")
    want = make()(x, **kwargs)  # the same initial weights: a lone layer's generator is fixed
    backend.set_device("fake")
    layer = make()  # never fitted, never in a model: its weights were made on the host
    extra = {k: backend.to_device(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    got = layer(backend.to_device(x), **extra)
    assert backend.is_device_array(got)
    np.testing.assert_array_equal(backend.to_host(got), want)
    tables = [layer.params, layer.grads, layer.state, *(d.params for d in getattr(layer, "directions", ()))]
    assert all(backend.is_device_array(a) for t in tables for a in t.values())  # moved, and they stay


def test_a_layer_of_a_packed_model_computes_where_the_model_put_it(fake_device):
    # Its weights are views of the model's one buffer: moved alone, they would leave it (the
    # model half on the device, the optimizer stepping a copy). The input goes to them instead.
    def model():
        m = gn.Sequential([L.Dense(4, activation="relu", input_shape=(6,)), L.Dense(3, activation="softmax")], seed=0)
        m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return m

    x, y = _data((6,), 3)
    backend.set_device("cpu")
    cpu = model()
    want_first = cpu.layers[0](x)
    cpu.fit(x, y, batch_size=BATCH, epochs=2, verbose=0)
    backend.set_device("fake")
    fake = model()
    got = fake.layers[0](backend.to_device(x))  # the model still on the host, x on the device
    assert backend.is_device_array(got)
    np.testing.assert_array_equal(backend.to_host(got), want_first)
    kernels = [layer.params["kernel"] for layer in fake.layers]
    assert all(type(k) is np.ndarray for k in kernels) and kernels[0].base is kernels[1].base
    fake.fit(x, y, batch_size=BATCH, epochs=2, verbose=0)
    assert type(fake.layers[0](x[:2])) is np.ndarray  # on the device now; a host x gets a host answer
    for got_w, want_w in zip(fake.get_weights(), cpu.get_weights(), strict=True):
        np.testing.assert_array_equal(got_w, want_w)


def _small_classifier():
    """A SciKeras-style build function (at module level, so that pickle finds it by name)."""
    model = gn.Sequential([L.Dense(4, activation="relu", input_shape=(6,)), L.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def test_an_estimator_fitted_on_the_device_pickles_host_arrays(fake_device):
    # joblib.dump of a GPU-fitted estimator must load on a machine without CuPy, as a model file does
    import pickle

    from glassnet.sklearn import NeuralClassifier
    from glassnet.wrappers import KerasClassifier

    x, y = _data((6,), 3)
    for estimator in (NeuralClassifier(hidden_layer_sizes=(4,), epochs=2, random_state=0),
                      KerasClassifier(model=_small_classifier, epochs=2, random_state=0, verbose=0)):
        estimator.fit(x, y)
        want = estimator.predict_proba(x)
        loaded = pickle.loads(pickle.dumps(estimator))
        arrays = [*loaded.model_.weights, *loaded.model_.optimizer.variables().values()]
        assert arrays and all(type(a) is np.ndarray for a in arrays)
        np.testing.assert_array_equal(loaded.predict_proba(x), want)
        estimator.fit(x, y)  # the pickled estimator trains on, back on the device
        assert all(backend.is_device_array(w) for w in estimator.model_.weights)
