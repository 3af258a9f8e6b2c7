"""explain on graph models: calls in graph order, the gradient shares that add up at a fan-out,
shared layers' summed gradients, no side effects; draw_network draws a shared layer's calls."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import glassnet as gn  # noqa: E402
from glassnet import layers  # noqa: E402
from glassnet.diagnostics.explain import num  # noqa: E402
from glassnet.models import outputs  # noqa: E402

RNG = np.random.default_rng(0)
X, Y = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 1))


def residual_with_a_shared_layer():
    """x fans out to h and the residual Add; one Dense is called twice."""
    x = gn.Input((3,), name="x", dtype="float64")
    h = layers.Dense(3, activation="tanh", name="h", dtype="float64")(x)
    shared = layers.Dense(3, name="shared", bias_initializer="random_normal", dtype="float64")
    r = layers.Add(name="residual", dtype="float64")([x, h])
    model = gn.Model(x, layers.Dense(1, name="out", dtype="float64")(shared(shared(r))), seed=0)
    model.compile(gn.optimizers.SGD(0.1), "mse")
    return model


def test_explain_walks_a_graph_in_order_and_shows_where_gradients_add_up():
    model = residual_with_a_shared_layer()
    printed = []
    e = model.explain(X, Y, print_fn=printed.append)
    assert [r["call"] for r in e.records] == ["x", "h", "residual", "shared[0]", "shared[1]", "out"]
    assert e.records[2]["reads"] == ["x", "h"]
    assert [reader for reader, _ in e.shares["x"]] == ["residual", "h"]  # the fan-out's two shares
    # The same gradients the training step computes: dL/dx is the sum of the shares.
    xa, ya = outputs.prepare_xy(model, X, Y)
    _, _, grads = outputs.forward_loss(model, xa, ya, None, training=False)
    dx = model.backward(grads, logits=outputs._fused_outputs(model))[0]
    assert e.records[0]["output_grad_norm"] == pytest.approx(np.linalg.norm(dx), rel=1e-12)
    shared = model.layers.index(model.get_layer("shared"))
    np.testing.assert_allclose(e.gradients[shared]["kernel"], model.get_layer("shared").grads["kernel"], rtol=1e-12)
    assert "fan-out: 2 shares add up: from residual" in printed[0]
    assert "parameter gradient norms (summed over its 2 calls)" in printed[0]


def test_explaining_a_graph_changes_nothing_and_works_without_targets():
    model = residual_with_a_shared_layer()
    model.train_on_batch(X, Y)  # the grads and the optimizer's state now hold something to keep
    weights = model.get_weights()
    grads = [{k: g.copy() for k, g in layer.grads.items()} for layer in model.layers]
    steps = model.optimizer.iterations
    e = gn.diagnostics.explain(model, X, Y, print_fn=None)
    assert e.updated is not None and model.optimizer.iterations == steps
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights()))
    for layer, kept in zip(model.layers, grads):
        for k, g in kept.items():
            np.testing.assert_array_equal(layer.grads[k], g)
    forward_only = model.explain(X, print_fn=None)
    assert forward_only.loss is None and forward_only.shares is None
    np.testing.assert_array_equal(forward_only.prediction, model.predict(X))


def test_draw_network_draws_each_call_of_a_shared_layer_with_the_summed_weight_slopes():
    model = residual_with_a_shared_layer()
    e = model.explain(X, Y, print_fn=None)
    ax = e.plot()
    texts = [t.get_text() for t in ax.texts]
    assert "shared[0]\n(∂w: sum of its 2 calls)" in texts and "shared[1]\n(∂w: sum of its 2 calls)" in texts
    assert len(ax.collections) == 3 * 5 + 1  # x, h, residual, shared twice: 3 units each; out: 1
    shared = model.get_layer("shared")
    summed = e.gradients[model.layers.index(shared)]["kernel"]  # over both calls
    assert texts.count(f"w {num(shared.params['kernel'][0, 1])}\n∂ {num(summed[0, 1])}") == 2
    matplotlib.pyplot.close(ax.figure)


def test_explain_shows_every_output_shape_of_a_nested_model_with_two_outputs():
    inner_x = gn.Input((4,))
    h = layers.Dense(3)(inner_x)
    block = gn.Model(inner_x, [layers.Dense(2)(h), layers.Dense(1)(h)], name="block")
    x = gn.Input((4,))
    p, q = block(x)
    model = gn.Model(x, [layers.Activation("softmax")(p), q])
    printed = []
    e = model.explain(np.ones((5, 4), "float32"), print_fn=printed.append)
    assert e.records[1]["output_shape"] == [(5, 2), (5, 1)]
    assert "block (Model) <- input" in printed[0] and ": (5, 4) -> [(5, 2), (5, 1)]" in printed[0]
    assert "first output: mean" in printed[0]
    # Backward: each output's gradient, the second's straight from its loss (it was left out)
    model.compile(optimizer="sgd", loss=["sparse_categorical_crossentropy", "mse"])
    x, y = np.ones((5, 4), "float32"), [np.array([0, 1, 0, 1, 1]), np.zeros((5, 1), "float32")]
    printed.clear()
    e = model.explain(x, y, print_fn=printed.append)
    xa, ya = outputs.prepare_xy(model, x, y)
    _, _, grads = outputs.forward_loss(model, xa, ya, None, training=False)
    np.testing.assert_allclose(e.output_gradients[1][1], grads[1], rtol=1e-6)
    assert e.records[1]["output_grad_norms"][1] == pytest.approx(np.linalg.norm(grads[1]), rel=1e-6)
    assert "block (Model): dL/d(outputs) norms [0] " in printed[0] and "output 1: from loss" in printed[0]
