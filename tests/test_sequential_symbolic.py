"""A built Sequential has Keras' symbolic tensors: ``layer.input``, ``layer.output``,
``model.inputs``, ``model.outputs``."""

import numpy as np
import pytest

import glassnet as gn
from glassnet import layers
from glassnet.layers.symbolic import SymbolicTensor


def mlp(**kw):
    return gn.Sequential([layers.Dense(8, activation="relu", input_shape=(5,), name="a"),
                          layers.Dense(4, activation="tanh", name="b"),
                          layers.Dense(3, activation="softmax", name="c")], seed=0, **kw)


def test_a_built_sequential_has_layer_inputs_and_outputs():
    model = mlp()
    a, b, c = model.layers
    assert isinstance(b.output, SymbolicTensor) and b.output.shape == (None, 4)
    assert a.output is b.input and b.output is c.input
    assert model.inputs == [a.input] and model.input is a.input and a.input.shape == (None, 5)
    assert model.outputs == [c.output] and model.output is c.output


def test_a_feature_extractor_from_a_sequential_shares_its_weights():
    model = mlp()
    extractor = gn.Model(model.inputs, model.layers[1].output)  # the Keras idiom
    x = np.random.default_rng(0).normal(size=(6, 5)).astype("float32")
    a, b = model.layers[:2]
    np.testing.assert_allclose(extractor.predict(x), b(a(x)), rtol=1e-6)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    before = extractor.predict(x)
    model.fit(x, np.arange(6) % 3, epochs=2, verbose=0)
    after = extractor.predict(x)
    assert not np.allclose(before, after)  # the model's training moved the extractor's weights
    np.testing.assert_allclose(after, b(a(x)), rtol=1e-6)


def test_a_sequential_starting_with_an_input_uses_its_tensor():
    inp = gn.Input(shape=(3,), name="features")
    model = gn.Sequential([inp, layers.Dense(2, name="d")], seed=0)
    assert model.inputs == [inp] and model.get_layer("d").input is inp


def test_the_symbolic_graph_follows_add_pop_and_build():
    model = gn.Sequential([layers.Dense(4, name="first")])
    with pytest.raises(AttributeError, match="not built.*input_shape"):
        model.outputs
    assert not hasattr(model.layers[0], "output")
    model.build((None, 3))
    model.build((None, 3))  # building again records the calls again, not twice
    first = model.layers[0]
    assert first.output.shape == (None, 4) and len(first.nodes) == 1
    model.add(layers.Dense(2, name="second"))
    assert model.output is model.layers[1].output and model.output.shape == (None, 2)
    second = model.pop()
    assert model.output is first.output and not hasattr(second, "output")
