"""One loop (glassnet/models/loop.py) runs every model for fit, explain and check_gradients."""

import numpy as np
import pytest

import glassnet as gn
from glassnet import layers
from glassnet.models import chain, fusion, loop, training


def residual_graph(dtype="float32"):
    x = gn.Input(shape=(6,), dtype=dtype)
    h = layers.Dense(6, activation="tanh", dtype=dtype)(x)
    h = layers.Add(dtype=dtype)([x, layers.Dense(6, dtype=dtype)(h)])  # a fan-out: x feeds two calls
    model = gn.Model(x, layers.Dense(3, activation="softmax", dtype=dtype)(h), seed=0)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model


def relu_pool_chain(dtype="float32"):
    model = gn.Sequential([layers.Conv2D(3, 3, activation="relu", input_shape=(8, 8, 1), dtype=dtype),
                           layers.MaxPooling2D(dtype=dtype), layers.Flatten(dtype=dtype),
                           layers.Dense(3, activation="softmax", dtype=dtype)], seed=0)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model


def batch(model, n=5):
    rng = np.random.default_rng(3)
    return rng.normal(size=(n, *model.input_shape[1:])).astype("float32"), rng.integers(0, 3, n)


def fit_gradients(model, x, y):
    """The gradients of fit's step on (x, y), per layer (before any update)."""
    x, y = training.prepare_xy(model, x, y)
    training.backward(model, training.forward_loss(model, x, y, None, training=True)[2])
    return [{k: g.copy() for k, g in layer.grads.items()} for layer in model.layers]


@pytest.mark.parametrize("make", [residual_graph, relu_pool_chain], ids=["residual graph", "relu-pool chain"])
def test_explain_and_fit_give_the_same_gradients(make):
    model = make()
    x, y = batch(model)
    explained = gn.diagnostics.explain(model, x, y, print_fn=None).gradients
    stepped = fit_gradients(model, x, y)
    assert [sorted(g) for g in explained] == [sorted(g) for g in stepped]
    for e, s in zip(explained, stepped):
        for key in e:
            np.testing.assert_array_equal(e[key], s[key])


@pytest.mark.parametrize("make", [residual_graph, relu_pool_chain], ids=["residual graph", "relu-pool chain"])
def test_fit_explain_and_check_gradients_all_run_the_one_loop(make, monkeypatch):
    runs = []
    for name in ("forward", "backward"):
        def counted(*args, _plain=getattr(loop, name), _name=name, **kwargs):
            runs.append(_name)
            return _plain(*args, **kwargs)
        monkeypatch.setattr(loop, name, counted)
    model = make()
    x, y = batch(model)
    model.fit(x, y, epochs=1, batch_size=5, verbose=0)
    assert runs == ["forward", "backward"]
    runs.clear()
    gn.diagnostics.explain(model, x, y, print_fn=None)
    assert runs[0] == "forward" and set(runs) == {"forward", "backward"}
    runs.clear()
    checked = make("float64")
    assert gn.gradcheck.check_gradients(checked, x.astype("float64"), y).passed
    assert runs[:2] == ["forward", "backward"] and set(runs) == {"forward", "backward"}


def test_a_sequential_is_a_chain_with_the_relu_pool_pair_as_one_call():
    model = relu_pool_chain()
    calls = chain.calls_of(model)
    assert [type(c.layer) for c in calls] == [fusion.PoolThenReLU, layers.Flatten, layers.Dense]
    assert [(c.inputs, c.outputs) for c in calls] == [([0], [2]), ([2], [3]), ([3], [4])]
    plain = chain.plain_calls(model.layers)
    assert [c.layer for c in plain] == model.layers
    # explain runs the plain calls: the first record is the conv's own (ReLU) output, not the pooled one
    x, y = batch(model)
    e = gn.diagnostics.explain(model, x, y, print_fn=None)
    assert e.outputs[0].shape == (5, 6, 6, 3) and e.outputs[0].min() == 0
    assert e.outputs[1].shape == (5, 3, 3, 3)


def test_the_chain_follows_edits_of_the_layer_list():
    model = relu_pool_chain()
    x, _ = batch(model)
    before = model.predict(x)
    assert len(chain.calls_of(model)) == 3
    model.pop()
    model.add(layers.Dense(2, name="other"))
    assert [c.layer.name for c in chain.calls_of(model)][-1] == "other"
    assert model.predict(x).shape == (5, 2) and before.shape == (5, 3)


def test_backward_adds_the_gradients_at_a_fan_out():
    """A hand-made graph of calls: slot 0 feeds two Dense calls whose outputs are added."""
    x = np.arange(6, dtype="float64").reshape(2, 3) / 5
    a, b = layers.Dense(2, dtype="float64"), layers.Dense(2, dtype="float64")
    for i, layer in enumerate((a, b)):
        layer.rng = np.random.default_rng(i)
        layer.build((None, 3))
    add = layers.Add(dtype="float64")
    add.build([(None, 2), (None, 2)])
    calls = [loop.Call(a, [0], [1]), loop.Call(b, [0], [2]), loop.Call(add, [1, 2], [3], as_list=True)]
    values, masks = [x, None, None, None], [None] * 4
    loop.forward(calls, values, masks, training=False)
    np.testing.assert_allclose(values[3], a.forward(x) + b.forward(x))
    g = np.ones((2, 2))
    grads, shares = [None, None, None, g], [[] for _ in range(4)]
    loop.backward(calls, grads, shares=shares)
    np.testing.assert_allclose(grads[0], g @ a.params["kernel"].T + g @ b.params["kernel"].T)
    assert [i for i, _ in shares[0]] == [1, 0] and shares[3][0][0] is None  # two shares reach x
    # training: no one needs dL/dx, so no call computes it
    grads = [None, None, None, g]
    loop.backward(calls, grads, input_grads=False)
    assert grads[0] is None
    np.testing.assert_allclose(a.grads["kernel"], x.T @ g)
