"""Training graph models: Sequential's loop, per-output losses and metrics with Keras' History names."""

import numpy as np
import pytest
from harness import F, torch

import glassnet as gn
from glassnet import layers
from glassnet.gradcheck import compare_gradients, numeric_gradient, roundoff_floor
from glassnet.models import training

F64 = {"dtype": "float64"}


def two_input_two_output(dtype="float32", seed=0):
    """The issue's model, small: a table and an image, a residual conv block, two heads."""
    kw = {"dtype": dtype}
    table = gn.Input(shape=(6,), name="table", dtype=dtype)
    image = gn.Input(shape=(5, 5, 1), name="xray", dtype=dtype)
    x = layers.Conv2D(3, 3, padding="same", activation="tanh", name="conv_a", **kw)(image)
    y = layers.Conv2D(3, 3, padding="same", name="conv_b", **kw)(x)
    x = layers.Activation("tanh", **kw)(layers.Add(**kw)([x, y]))
    x = layers.GlobalAveragePooling2D(**kw)(x)
    t = layers.Dense(4, activation="tanh", name="table_dense", kernel_regularizer="l2", **kw)(table)
    h = layers.Concatenate(**kw)([x, t])
    risk = layers.Dense(1, activation="sigmoid", name="risk", **kw)(h)
    days = layers.Dense(1, name="days", **kw)(h)
    return gn.Model(inputs=[table, image], outputs=[risk, days], seed=seed)


def data(n=40, seed=0, dtype="float32"):
    rng = np.random.default_rng(seed)
    T, X = rng.normal(size=(n, 6)).astype(dtype), rng.normal(size=(n, 5, 5, 1)).astype(dtype)
    r = ((T[:, 0] + X.mean(axis=(1, 2, 3))) > 0).astype(dtype)[:, None]
    d = (2 * T[:, 1] + 0.5).astype(dtype)[:, None]
    return T, X, r, d


def compile_issue_model(model):
    model.compile(optimizer="adam", loss={"risk": "binary_crossentropy", "days": "mse"},
                  loss_weights={"risk": 1.0, "days": 0.1}, metrics={"risk": ["accuracy"]})


def test_the_issue_example_trains_with_keras_history_names():
    model = two_input_two_output()
    compile_issue_model(model)
    T, X, r, d = data()
    history = model.fit({"table": T, "xray": X}, {"risk": r, "days": d}, epochs=3, batch_size=8,
                        validation_split=0.25, verbose=0)
    assert list(history.history) == ["loss", "risk_loss", "days_loss", "risk_accuracy", "val_loss",
                                     "val_risk_loss", "val_days_loss", "val_risk_accuracy", "learning_rate"]
    logs = model.evaluate([T, X], [r, d], return_dict=True)
    penalty = training.regularization_loss(model)
    np.testing.assert_allclose(logs["loss"], logs["risk_loss"] + 0.1 * logs["days_loss"] + penalty, rtol=1e-5)
    assert history.history["days_loss"][-1] < history.history["days_loss"][0]
    preds = model.predict({"table": T, "xray": X}, batch_size=16)
    assert [p.shape for p in preds] == [(40, 1), (40, 1)]
    np.testing.assert_allclose(preds[0], model([T, X])[0], rtol=1e-6)


def test_a_chain_as_a_graph_trains_exactly_as_the_same_sequential():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(48, 5)).astype("float32"), rng.integers(0, 3, 48)

    def stack():
        return [layers.Dense(8, activation="relu"), layers.Dropout(0.2), layers.Dense(3, activation="softmax")]
    seq = gn.Sequential([layers.Input((5,)), *stack()], seed=3)
    inp = gn.Input((5,))
    out = inp
    for layer in stack():
        out = layer(out)
    graph = gn.Model(inp, out, seed=3)
    histories = []
    for model in (seq, graph):
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        histories.append(model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0).history)
    assert histories[0] == histories[1]  # the same seed, the same loop: the same numbers, bit for bit
    for a, b in zip(seq.get_weights(), graph.get_weights()):
        np.testing.assert_array_equal(a, b)


def loss_gradients(model, xs, ys):
    x, y = training.prepare_xy(model, xs, ys)
    value, _, grads = training.forward_loss(model, x, y, None, training=False)
    training.backward(model, grads)
    analytic = {f"{layer.name}/{k}": g.copy() for layer in model.layers for k, g in layer.grads.items()}

    def objective():
        return training.forward_loss(model, x, y, None, training=False)[0] + training.regularization_loss(model)
    return value + training.regularization_loss(model), analytic, objective


def test_two_outputs_with_loss_weights_match_finite_differences():
    model = two_input_two_output("float64")
    compile_issue_model(model)
    T, X, r, d = data(8, dtype="float64")
    value, analytic, objective = loss_gradients(model, [T, X], [r, d])
    atol = roundoff_floor(value, 1e-4)
    checks = [compare_gradients(key, analytic[f"{layer.name}/{key}"], numeric_gradient(objective, p), 1e-7, atol)
              for layer in model.layers for key, p in layer.params.items()]
    assert len(checks) == 10 and all(c.passed for c in checks), [(c.name, c.max_rel_error) for c in checks]


def test_two_outputs_with_loss_weights_match_torch():
    if torch is None:
        pytest.skip("torch is not installed")
    model = two_input_two_output("float64")
    compile_issue_model(model)
    T, X, r, d = data(8, dtype="float64")
    value, analytic, _ = loss_gradients(model, [T, X], [r, d])
    p = {f"{layer.name}/{k}": torch.tensor(v, requires_grad=True) for layer in model.layers for k, v in layer.params.items()}

    def conv(name, x):  # glassnet's kernel (kh, kw, in, out) is torch's (out, in, kh, kw); NHWC <-> NCHW
        return F.conv2d(x.permute(0, 3, 1, 2), p[f"{name}/kernel"].permute(3, 2, 0, 1), p[f"{name}/bias"],
                        padding="same").permute(0, 2, 3, 1)

    def dense(name, x):
        return F.linear(x, p[f"{name}/kernel"].T, p[f"{name}/bias"])
    a = torch.tanh(conv("conv_a", torch.tensor(X)))
    pooled = torch.tanh(a + conv("conv_b", a)).mean(dim=(1, 2))
    h = torch.cat([pooled, torch.tanh(dense("table_dense", torch.tensor(T)))], dim=-1)
    bce = F.binary_cross_entropy_with_logits(dense("risk", h), torch.tensor(r))
    mse = F.mse_loss(dense("days", h), torch.tensor(d))
    l2 = 0.01 * (p["table_dense/kernel"] ** 2).sum()  # "l2" is Keras' L2(0.01)
    total = bce + 0.1 * mse + l2
    total.backward()
    np.testing.assert_allclose(value, total.item(), rtol=1e-10)
    for key, tensor in p.items():
        np.testing.assert_allclose(analytic[key], tensor.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=key)


def test_outputs_given_as_a_dict_predict_a_dict():
    x = gn.Input((3,), name="x")
    h = layers.Dense(4, activation="relu")(x)
    model = gn.Model({"x": x}, {"a": layers.Dense(1, name="a")(h), "b": layers.Dense(2, name="b")(h)}, seed=0)
    model.compile(optimizer="sgd", loss="mse")
    xs = np.ones((5, 3), "float32")
    model.fit({"x": xs}, {"a": np.zeros((5, 1)), "b": np.zeros((5, 2))}, epochs=1, verbose=0)
    out = model.predict({"x": xs})
    assert list(out) == ["a", "b"] and out["b"].shape == (5, 2)


@pytest.mark.parametrize("x, y, match", [
    (lambda T, X, r, d: {"table": T}, lambda T, X, r, d: [r, d], r"missing \['xray'\]"),
    (lambda T, X, r, d: [T, X], lambda T, X, r, d: {"risk": r}, r"missing \['days'\]"),
    (lambda T, X, r, d: [T, X], lambda T, X, r, d: [r, d, d], "list of 3 arrays for a model with 2 outputs"),
    (lambda T, X, r, d: [T], lambda T, X, r, d: [r, d], "takes 2 inputs"),
    (lambda T, X, r, d: [T, X[:30]], lambda T, X, r, d: [r, d], r"same number of samples.*x\['xray'\]: 30"),
    (lambda T, X, r, d: [T, X], lambda T, X, r, d: [r[:30], d], r"same number of samples.*y\['risk'\]: 30"),
])
def test_bad_training_data_gets_named_errors(x, y, match):
    model = two_input_two_output()
    compile_issue_model(model)
    arrays = data()
    with pytest.raises(ValueError, match=match):
        model.fit(x(*arrays), y(*arrays), epochs=1, verbose=0)


@pytest.mark.parametrize("kwargs, match", [
    ({"loss": {"risk": "mse"}}, r"none given for \['days'\]"),
    ({"loss": {"risk": "mse", "days": "mse", "stay": "mse"}}, r"names \['stay'\], which are not outputs"),
    ({"loss": ["mse"]}, "list of 1 for a model with 2 outputs"),
    ({"loss": "mse", "metrics": ["mae"]}, "give metrics as a dict by output name"),
    ({"loss": "mse", "loss_weights": [1.0]}, "loss_weights is a list of 1"),
    # the examples name this model's outputs, so they can be copied
    ({"loss": "mse", "metrics": {"riks": ["mae"]}}, r"\['riks'\], which are not outputs.*metrics=\{'risk': \['accuracy'\]\}"),
    ({"loss": "mse", "loss_weights": {"dyas": 2.0}}, r"\['dyas'\], which are not outputs.*loss_weights=\{'risk': 0.5\}"),
])
def test_compile_checks_per_output_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        two_input_two_output().compile(optimizer="adam", **kwargs)


def test_fit_before_compile_says_so():
    with pytest.raises(ValueError, match="before compile"):
        two_input_two_output().fit(data()[:2], data()[2:], verbose=0)


def test_validation_split_stratifies_on_the_first_classification_output(capsys):
    x = gn.Input((3,), name="x")
    h = layers.Dense(4)(x)
    days, risk = layers.Dense(1, name="days")(h), layers.Dense(1, activation="sigmoid", name="risk")(h)
    model = gn.Model(x, [days, risk], seed=0)  # the classification output is the second one
    model.compile(optimizer="sgd", loss=["mse", "binary_crossentropy"])
    rng = np.random.default_rng(0)
    r = np.zeros((40, 1), "float32")
    r[rng.permutation(40)[:10]] = 1  # 25% positive
    model.fit(rng.normal(size=(40, 3)), [rng.normal(size=(40, 1)), r], epochs=1, validation_split=0.2, verbose=2)
    out = capsys.readouterr().out
    assert "training 32 samples [0: 24 (75.0%), 1: 8 (25.0%)]; validation 8 samples [0: 6 (75.0%), 1: 2 (25.0%)]" in out


def test_a_shared_sigmoid_layer_as_a_fused_output_keeps_each_call_s_gradient():
    # The second call of `gate` is the output (fused with the cross-entropy); its first call feeds
    # the second, through the same activation type: each call must keep its own cached values.
    x = gn.Input((2,), dtype="float64")
    gate = layers.Dense(2, activation="sigmoid", name="gate", bias_initializer="random_normal", **F64)
    model = gn.Model(x, gate(gate(x)), seed=0)
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    rng = np.random.default_rng(0)
    xs, ys = rng.normal(size=(6, 2)), (rng.random((6, 2)) > 0.5).astype("float64")
    result = gn.check_gradients(model, xs, ys)
    assert result.passed, f"\n{result}"


def test_class_weight_on_a_one_output_graph_weighs_as_on_the_same_sequential():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(32, 4)).astype("float32"), rng.integers(0, 2, 32)
    seq = gn.Sequential([layers.Input((4,)), layers.Dense(2, activation="softmax")], seed=2)
    inp = gn.Input((4,))
    graph = gn.Model(inp, layers.Dense(2, activation="softmax")(inp), seed=2)
    histories = []
    for model in (seq, graph):
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        histories.append(model.fit(x, y, epochs=2, batch_size=8, class_weight={0: 1.0, 1: 3.0}, verbose=0).history)
    assert histories[0] == histories[1]


def test_class_weight_with_several_outputs_is_refused_by_name():
    model = two_input_two_output()
    compile_issue_model(model)
    T, X, r, d = data()
    with pytest.raises(ValueError, match="class_weight needs a model with one output"):
        model.fit([T, X], [r, d], class_weight={0: 1.0, 1: 2.0}, verbose=0)


def test_a_one_input_one_output_graph_trains_evaluates_and_predicts_from_a_batch_source():
    from glassnet.datasets import ArraySource

    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(40, 3)).astype("float32"), rng.integers(0, 2, size=(40, 1)).astype("float32")

    def model():
        inputs = gn.Input((3,))
        h = layers.Dropout(0.3)(layers.Dense(4, activation="relu")(inputs))
        m = gn.Model(inputs, layers.Dense(1, activation="sigmoid")(h), seed=0)
        m.compile(gn.optimizers.Adam(0.01), "binary_crossentropy", metrics=["accuracy"])
        return m
    from_arrays, from_source = model(), model()
    a = from_arrays.fit(x, y, batch_size=8, epochs=2, shuffle=False, validation_data=(x[:16], y[:16]), verbose=0)
    b = from_source.fit(ArraySource(x, y, batch_size=8), epochs=2, shuffle=False,
                        validation_data=ArraySource(x[:16], y[:16], batch_size=8), verbose=0)
    assert a.history == b.history  # the same batches, dropout masks and updates, bit for bit
    for wa, wb in zip(from_arrays.get_weights(), from_source.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert from_source.evaluate(ArraySource(x, y, batch_size=8), return_dict=True) == \
        from_arrays.evaluate(x, y, batch_size=8, return_dict=True)
    np.testing.assert_array_equal(from_source.predict(ArraySource(x, batch_size=8)), from_arrays.predict(x))
