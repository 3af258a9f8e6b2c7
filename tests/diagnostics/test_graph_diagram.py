"""draw_network on graph models: calls in columns by depth, merges and fan-outs drawn, the same
picture as a Sequential for a chain, and a named refusal for what has no neuron picture."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot  # noqa: E402  (the tests use matplotlib.pyplot; alone, nothing else imports it first)
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import glassnet as gn  # noqa: E402
from glassnet import layers  # noqa: E402
from glassnet.diagnostics import draw_network  # noqa: E402
from glassnet.diagnostics.explain import num  # noqa: E402
from glassnet.models import outputs  # noqa: E402

RNG = np.random.default_rng(0)
XA, XB = RNG.normal(size=(3, 2)), RNG.normal(size=(3, 3))
Y = [np.array([1.0, 0.0, 1.0]), RNG.normal(size=(3, 2))]


def two_inputs_two_outputs():
    """a -> h -> Add(a, h) (a residual), Concatenate with b, then two heads p and q."""
    a, b = gn.Input((2,), name="a", dtype="float64"), gn.Input((3,), name="b", dtype="float64")
    h = layers.Dense(2, activation="tanh", name="h", dtype="float64")(a)
    cat = layers.Concatenate(name="cat", dtype="float64")([layers.Add(name="residual", dtype="float64")([a, h]), b])
    p = layers.Dense(1, activation="sigmoid", name="p", dtype="float64")(cat)
    q = layers.Dense(2, name="q", dtype="float64")(cat)
    model = gn.Model([a, b], [p, q], seed=0)
    model.compile("sgd", {"p": "binary_crossentropy", "q": "mse"})
    return model


def _texts(ax):
    return [t.get_text() for t in ax.texts]


def _nodes(ax):
    """(x, y) of every node circle, in drawing order."""
    return [tuple(c.get_offsets()[0]) for c in ax.collections]


def test_a_graph_is_drawn_call_by_call_in_columns_by_depth_with_merges_and_fan_outs():
    model = two_inputs_two_outputs()
    e = model.explain([XA, XB], Y, print_fn=None)
    ax = e.plot(sample=1)
    # one circle per unit of every call: a 2, b 3, h 2, residual 2, cat 5, p 1, q 2
    nodes = _nodes(ax)
    assert len(nodes) == 17
    columns = sorted(x for x, _ in nodes)
    assert columns == [0] * 5 + [1] * 2 + [2] * 2 + [3] * 5 + [4] * 3  # depth: the longest path from an input
    # edges: h's 2x2 weights, the Add's one per unit from each input, the Concatenate's one per
    # unit, then p's 5x1 and q's 5x2 weights
    assert len(ax.lines) == 4 + (2 + 2) + 5 + 5 + 10
    assert sum(t.startswith("w ") for t in _texts(ax)) == 4 + 5 + 10
    residual_from_a = [line for line in ax.lines if line.get_xdata()[0] == 0 and line.get_xdata()[-1] == 2]
    assert len(residual_from_a) == 2 and all(max(line.get_ydata()) > max(line.get_ydata()[[0, -1]])
                                             for line in residual_from_a)  # bowed over column 1
    titles = _texts(ax)
    assert {"a", "b", "h\ntanh", "residual\nAdd", "cat\nConcatenate", "p\nsigmoid", "q"} <= set(titles)
    # a and cat are each read by two calls: their slopes are the sums of the shares
    assert titles.count("read by 2 calls: ∂ sums their shares") == 2
    xa, ya = outputs.prepare_xy(model, [XA, XB], Y)
    _, _, grads = outputs.forward_loss(model, xa, ya, None, training=False)
    dx = model.backward(grads, logits=outputs._fused_outputs(model))[0]
    assert f"{num(XA[1, 0])}\n∂ {num(dx[1, 0])}" in titles
    slope = e.gradients[model.layers.index(model.get_layer("q"))]["kernel"][0, 1]
    assert f"w {num(model.get_layer('q').params['kernel'][0, 1])}\n∂ {num(slope)}" in titles
    matplotlib.pyplot.close(ax.figure)


def test_a_chain_built_as_a_graph_draws_the_same_picture_as_the_sequential():
    x = gn.Input((2,), name="x")
    h = layers.Dense(3, activation="tanh", name="h")(x)
    out = layers.Dense(1, name="out")(layers.Activation("relu", name="act")(h))
    graph = gn.Model(x, out, seed=0)
    chain = gn.Sequential([layers.Dense(3, activation="tanh", input_shape=(2,)), layers.Activation("relu"),
                           layers.Dense(1)], seed=1)
    chain.set_weights(graph.get_weights())
    X, Y1 = RNG.normal(size=(4, 2)).astype("float32"), RNG.normal(size=(4, 1)).astype("float32")
    pictures = []
    for model in (graph, chain):
        model.compile("sgd", "mse")
        ax = draw_network(model, X, Y1, sample=2)
        texts = _texts(ax)
        pictures.append((_nodes(ax), [(tuple(line.get_xdata()), tuple(line.get_ydata())) for line in ax.lines],
                         sorted(t for t in texts if t.startswith(("w ", "b "))),
                         sorted(t for t in texts if t[:1].isdigit() or t[:1] == "-"), ax.get_title()))
        matplotlib.pyplot.close(ax.figure)
    assert pictures[0] == pictures[1]
    assert len(pictures[0][0]) == 2 + 3 + 3 + 1 and len(pictures[0][1]) == 6 + 3 + 3


def _conv_graph():
    image = gn.Input((4, 4, 1), name="image")
    pooled = layers.GlobalAveragePooling2D()(layers.Conv2D(2, 3, name="conv")(image))
    return gn.Model(image, layers.Dense(1)(pooled), seed=0), np.ones((1, 4, 4, 1))


def _recurrent_graph():
    steps = gn.Input((5, 2), name="steps")
    return gn.Model(steps, layers.Dense(1)(layers.LSTM(3, name="lstm")(steps)), seed=0), np.ones((1, 5, 2))


def _wide_graph():
    x = gn.Input((2,))
    return gn.Model(x, layers.Dense(1)(layers.Dense(20, name="wide")(x)), seed=0), np.ones((1, 2))


def _nested_graph():
    inner = gn.Sequential([layers.Dense(2, input_shape=(2,))], name="block")
    x = gn.Input((2,))
    return gn.Model(x, layers.Dense(1)(inner(x)), seed=0), np.ones((1, 2))


@pytest.mark.parametrize("make, match", [
    (_wide_graph, r"layer 'wide' \(Dense\): it has 20 units.*small networks.*max_units=12"),
    (_conv_graph, r"layer 'conv' \(Conv2D\).*feature maps"),
    (_recurrent_graph, r"layer 'lstm' \(LSTM\).*time steps.*plot_steps"),
    (_nested_graph, r"layer 'block' \(Sequential\).*draw_network\(model.get_layer\('block'\), x\)"),
])
def test_what_has_no_neuron_picture_is_refused_by_name_with_where_to_look_instead(make, match):
    model, x = make()
    figures = matplotlib.pyplot.get_fignums()
    with pytest.raises(ValueError, match=match) as refused:
        draw_network(model, x)
    assert "model.explain(x, y)" in str(refused.value) and "'Connected to'" in str(refused.value)
    assert matplotlib.pyplot.get_fignums() == figures  # checked before a figure is made


def test_a_graph_draws_on_the_axes_it_is_given_and_returns_it():
    model = two_inputs_two_outputs()
    _, given = matplotlib.pyplot.subplots()
    assert draw_network(model, {"a": XA, "b": XB}, ax=given) is given
    assert len(given.collections) == 17 and "∂" not in "".join(_texts(given))  # no targets: no slopes
    matplotlib.pyplot.close(given.figure)
    with pytest.raises(ValueError, match="sample must index the batch of 3; got 3"):
        draw_network(model, [XA, XB], sample=3)
