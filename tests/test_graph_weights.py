"""A graph model keeps its weights in one flat buffer, as a Sequential does (the optimizer steps it as one array)."""

import numpy as np

import glassnet as gn
from glassnet import layers


def buffer_of(arrays):
    """The one base buffer every array is a view of, or None."""
    bases = {id(a.base) for a in arrays}
    return arrays[0].base if len(bases) == 1 and arrays[0].base is not None else None


def test_a_graphs_params_and_grads_are_views_of_one_buffer_each():
    x = gn.Input((5,))
    h = layers.Dense(4, activation="tanh")(x)
    model = gn.Model(x, layers.Dense(2)(layers.Concatenate()([x, h])), seed=0)
    params = [p for layer in model.layers for p in layer.params.values()]
    grads = [g for layer in model.layers for g in layer.grads.values()]
    weights, flat_grads = buffer_of(params), buffer_of(grads)
    assert weights is not None and flat_grads is not None and weights is not flat_grads
    assert weights.size == model.count_params() == sum(p.size for p in params)
    # in layer order, side by side
    starts = [(p.__array_interface__["data"][0] - weights.__array_interface__["data"][0]) // p.itemsize
              for p in params]
    assert starts == list(np.cumsum([0] + [p.size for p in params[:-1]]))


def test_a_shared_layer_is_one_entry_and_its_calls_read_the_packed_weights():
    shared = layers.Dense(3, name="shared")
    a, b = gn.Input((3,), name="a"), gn.Input((3,), name="b")
    model = gn.Model([a, b], layers.Dense(1)(layers.Add()([shared(a), shared(b)])), seed=0)
    params = [p for layer in model.layers for p in layer.params.values()]
    weights = buffer_of(params)
    assert weights is not None and weights.size == 3 * 3 + 3 + 3 + 1
    weights[:] = np.arange(weights.size) / weights.size  # new weights, written into the buffer
    xa, xb = np.ones((2, 3), "float32"), np.full((2, 3), 2.0, "float32")
    k, c = shared.params["kernel"], shared.params["bias"]
    head = model.layers[-1]
    expected = ((xa @ k + c) + (xb @ k + c)) @ head.params["kernel"] + head.params["bias"]
    np.testing.assert_allclose(model([xa, xb]), expected, rtol=1e-6)
    model.compile(optimizer="adam", loss="mse")
    before = weights.copy()
    model.fit([xa, xb], np.zeros((2, 1)), epochs=1, verbose=0)
    assert buffer_of([p for layer in model.layers for p in layer.params.values()]) is weights
    assert not np.array_equal(before[:12], weights[:12])  # the shared layer's part moved


def test_a_nested_model_keeps_its_own_buffer():
    inner = gn.Sequential([layers.Dense(4, input_shape=(3,)), layers.Dense(3)], name="inner", seed=1)
    inner_weights = buffer_of([p for layer in inner.layers for p in layer.params.values()])
    x = gn.Input((3,))
    model = gn.Model(x, layers.Dense(2)(layers.Dense(5)(inner(x))), seed=0)
    assert buffer_of([p for layer in inner.layers for p in layer.params.values()]) is inner_weights
    outer = [p for layer in model.layers if layer.name != "inner" for p in layer.params.values()]
    assert buffer_of(outer) is not None and buffer_of(outer) is not inner_weights
