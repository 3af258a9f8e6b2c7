"""Keras' ``layer.input`` / ``layer.output`` and ``model.input`` / ``model.output`` on graphs."""

import numpy as np
import pytest

import glassnet as gn
from glassnet import layers
from glassnet import nnfs


def test_layer_input_and_output_are_the_tensors_of_its_call():
    x = gn.Input(shape=(4,), name="table")
    dense = layers.Dense(3)
    y = dense(x)
    z = layers.Concatenate()([x, y])
    concat = z.node.layer
    assert dense.input is x and dense.output is y
    assert concat.input == [x, y] and concat.output is z
    assert x.node.layer.input is x and x.node.layer.output is x  # an Input's tensor is both
    model = gn.Model(x, z)
    assert model.input is x and model.output is z
    assert model.get_layer(name=dense.name).output is y


def test_model_input_and_output_keep_a_list_or_dict():
    a, b = gn.Input(shape=(2,), name="a"), gn.Input(shape=(3,), name="b")
    h = layers.Concatenate()([a, b])
    out1, out2 = layers.Dense(1, name="p")(h), layers.Dense(2, name="q")(h)
    model = gn.Model([a, b], {"p": out1, "q": out2})
    assert model.input == [a, b]
    assert model.output == {"p": out1, "q": out2}


def test_shared_layer_has_one_output_per_call():
    x1, x2 = gn.Input(shape=(4,)), gn.Input(shape=(4,))
    shared = layers.Dense(2)
    y1, y2 = shared(x1), shared(x2)
    with pytest.raises(AttributeError, match="multiple inbound nodes.*get_output_at"):
        shared.output
    with pytest.raises(AttributeError, match="get_input_at"):
        shared.input
    assert shared.get_output_at(0) is y1 and shared.get_output_at(1) is y2
    assert shared.get_input_at(1) is x2
    with pytest.raises(ValueError, match="called 2 time"):
        shared.get_output_at(2)


def test_a_layer_never_called_names_itself():
    dense = layers.Dense(2, name="lonely")
    with pytest.raises(AttributeError, match="'lonely' has not been called on a tensor"):
        dense.output
    assert not hasattr(dense, "input")
    with pytest.raises(AttributeError, match="only a graph model"):
        gn.Sequential([layers.Dense(1)]).output


def test_book_layers_keep_output_as_a_plain_attribute():
    # The NNFS book stores each forward's result in .output; the base property must not stop that.
    dense, relu = nnfs.Layer_Dense(2, 3), nnfs.Activation_ReLU()
    assert dense.output is None
    dense.forward(np.ones((5, 2)))
    relu.forward(dense.output)
    assert dense.output.shape == (5, 3) and np.all(relu.output >= 0)


def test_a_sub_model_from_an_inner_output_shares_the_weights():
    # The Keras idiom layer.output exists for: a feature extractor cut from a trained graph.
    x = gn.Input(shape=(4,))
    h = layers.Dense(3, activation="tanh", name="hidden")(x)
    model = gn.Model(x, layers.Dense(1)(h), seed=0)
    features = gn.Model(model.input, model.get_layer(name="hidden").output)
    data = np.linspace(-1, 1, 8).reshape(2, 4)
    hidden = model.get_layer(name="hidden")
    np.testing.assert_allclose(features.predict(data, verbose=0), hidden(data))
