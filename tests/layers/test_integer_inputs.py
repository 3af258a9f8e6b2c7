"""Layers called directly on integer arrays (raw uint8 pixels, int counts) compute in float32,
as Keras does and as fit and predict already cast: integer arithmetic would wrap sums,
truncate scale factors and turn BatchNormalization's momentum 0.99 into 0."""

import numpy as np
import pytest

import glassnet as gn
from glassnet import layers

PIXELS = np.random.default_rng(0).integers(0, 256, (4, 6, 6, 2)).astype(np.uint8)

LAYERS = [
    (lambda: layers.AveragePooling2D(), PIXELS),
    (lambda: layers.MaxPooling2D(padding="same"), PIXELS.astype(np.int8)),  # -inf padding in int8 crashed
    (lambda: layers.BatchNormalization(), PIXELS),
    (lambda: layers.Dropout(0.3), PIXELS),
    (lambda: layers.SpatialDropout2D(0.3), PIXELS),
    (lambda: layers.Conv2D(3, 3), PIXELS),
    (lambda: layers.GlobalAveragePooling2D(), PIXELS),
]


@pytest.mark.parametrize("make, x", LAYERS, ids=lambda v: type(v()).__name__ if callable(v) else "")
@pytest.mark.parametrize("training", [False, True])
def test_integer_input_gives_the_float32_result(make, x, training):
    as_int, as_float = make(), make()
    for layer in (as_int, as_float):
        layer.rng = np.random.default_rng(1)  # the same dropout draws for both
    y_int = as_int(x, training=training)
    y_float = as_float(x.astype(np.float32), training=training)
    assert y_int.dtype == np.float32
    np.testing.assert_array_equal(y_int, y_float)
    for key in as_float.state:  # BatchNormalization's moving statistics
        np.testing.assert_array_equal(as_int.state[key], as_float.state[key])


def test_calling_a_model_on_uint8_equals_predict():
    model = gn.Sequential([layers.BatchNormalization(input_shape=(6, 6, 2)), layers.AveragePooling2D(),
                           layers.Flatten()], seed=0)
    np.testing.assert_array_equal(model(PIXELS), model.predict(PIXELS))
