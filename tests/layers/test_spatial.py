"""UpSampling2D and ZeroPadding2D: against PyTorch's nearest upsampling and zero padding (values
and gradients through the harness), Keras' argument forms, and a convolutional autoencoder."""

import numpy as np
import pytest
from harness import F, check_layer

import glassnet as gn
from glassnet import layers


@pytest.mark.parametrize("layer, input_shape, torch_fn", [
    (layers.UpSampling2D(), (2, 3, 4, 2),
     lambda x, p: F.interpolate(x.permute(0, 3, 1, 2), scale_factor=2, mode="nearest").permute(0, 2, 3, 1)),
    (layers.UpSampling2D((3, 1)), (2, 2, 3, 2),
     lambda x, p: F.interpolate(x.permute(0, 3, 1, 2), scale_factor=(3, 1), mode="nearest").permute(0, 2, 3, 1)),
    (layers.ZeroPadding2D(), (2, 3, 4, 2), lambda x, p: F.pad(x, (0, 0, 1, 1, 1, 1))),
    (layers.ZeroPadding2D((2, 1)), (2, 3, 4, 2), lambda x, p: F.pad(x, (0, 0, 1, 1, 2, 2))),
    (layers.ZeroPadding2D(((0, 2), (3, 1))), (2, 3, 4, 2), lambda x, p: F.pad(x, (0, 0, 3, 1, 0, 2))),
])
def test_spatial_layers_match_torch(layer, input_shape, torch_fn):
    check_layer(layer, input_shape, torch_fn)


def test_keras_argument_forms_and_clear_errors():
    assert layers.ZeroPadding2D(2).padding == ((2, 2), (2, 2))
    assert layers.ZeroPadding2D((1, 3)).padding == ((1, 1), (3, 3))
    assert layers.UpSampling2D(3).size == (3, 3)
    with pytest.raises(ValueError, match="interpolation='bilinear' is not implemented"):
        layers.UpSampling2D(interpolation="bilinear")
    with pytest.raises(ValueError, match="size must be an int or a pair of ints >= 1"):
        layers.UpSampling2D(0)
    with pytest.raises(ValueError, match=r"UpSampling2D needs channels-last inputs \(N, H, W, C\)"):
        layers.UpSampling2D()(np.zeros((2, 4, 4)))


def test_a_convolutional_autoencoder_as_keras_writes_it_trains_and_saves(tmp_path):
    x = np.random.default_rng(0).random((16, 8, 8, 1)).astype("float32")
    model = gn.Sequential([layers.Conv2D(4, 3, padding="same", activation="relu", input_shape=(8, 8, 1)),
                           layers.MaxPooling2D(), layers.UpSampling2D(), layers.ZeroPadding2D(1),
                           layers.Conv2D(1, 3, activation="sigmoid")], seed=0)
    assert model.output_shape == (None, 8, 8, 1)
    model.compile("adam", "binary_crossentropy")
    losses = model.fit(x, x, epochs=4, verbose=0).history["loss"]
    assert losses[-1] < losses[0]
    model.save(tmp_path / "autoencoder.glassnet")
    np.testing.assert_array_equal(gn.load_model(tmp_path / "autoencoder.glassnet").predict(x), model.predict(x))
