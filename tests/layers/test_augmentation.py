"""Augmentation layers and SpatialDropout: identity at inference, exact known transforms, seeded
determinism, gradients (the harness reseeds them, so each pass draws the same transform)."""

import numpy as np
import pytest
from harness import check_layer

import glassnet as gn
from glassnet import layers

AUGMENTERS = [
    layers.RandomFlip(),
    layers.RandomTranslation(0.2, (-0.1, 0.3)),
    layers.RandomRotation(0.1),
    layers.RandomZoom(0.2),
    layers.RandomZoom((-0.3, 0.2), width_factor=(0.0, 0.3), fill_mode="constant", fill_value=0.5),
    layers.RandomRotation(0.2, fill_mode="wrap", interpolation="nearest"),
    layers.RandomTranslation(0.3, 0.3, fill_mode="nearest"),
    layers.SpatialDropout2D(0.5),
    layers.RandomBrightness(0.2, value_range=(-10, 10)),
    layers.RandomContrast(0.4, value_range=(-10, 10)),
    layers.RandomContrast((0.5, 0.5), value_range=(-1, 1)),  # clips many pixels: no gradient there
]


@pytest.mark.parametrize("layer", AUGMENTERS, ids=lambda layer: type(layer).__name__)
def test_inference_returns_the_images_unchanged(layer):
    x = np.random.default_rng(0).standard_normal((3, 6, 5, 2)).astype(np.float32)
    np.testing.assert_array_equal(layer(x), x)
    np.testing.assert_array_equal(layer.backward(x), x)


@pytest.mark.parametrize("layer", AUGMENTERS, ids=lambda layer: type(layer).__name__)
def test_training_contract(layer):
    # The transform is linear in x for a fixed draw, so finite differences apply.
    check_layer(layer, (3, 6, 5, 2), training=True)


@pytest.mark.parametrize("layer", AUGMENTERS, ids=lambda layer: type(layer).__name__)
def test_same_seed_same_images_other_seed_other_images(layer):
    x = np.random.default_rng(0).standard_normal((8, 6, 6, 2))
    config = {**layer.get_config(), "seed": 3}
    a, b = type(layer).from_config(config), type(layer).from_config(config)
    other = type(layer).from_config({**config, "seed": 4})
    ya = a(x, training=True)
    np.testing.assert_array_equal(ya, b(x, training=True))
    assert not np.array_equal(ya, other(x, training=True))
    assert not np.array_equal(ya, x)


def test_rotation_by_a_quarter_turn_is_np_rot90():
    x = np.random.default_rng(0).standard_normal((2, 5, 5, 3))
    y = layers.RandomRotation((0.25, 0.25))(x, training=True)
    np.testing.assert_allclose(y, np.rot90(x, axes=(1, 2)), atol=1e-12)  # counter-clockwise, as Keras


def test_translation_by_whole_pixels_shifts_content_down_and_right():
    x = np.arange(16.0).reshape(1, 4, 4, 1)
    y = layers.RandomTranslation((0.25, 0.25), (0.5, 0.5), fill_mode="constant")(x, training=True)
    expected = np.zeros((4, 4))
    expected[1:, 2:] = x[0, :3, :2, 0]
    np.testing.assert_allclose(y[0, :, :, 0], expected, atol=1e-12)


@pytest.mark.parametrize("fill_mode, expected", [
    ("reflect", [1, 0, 0, 1, 2, 3]),  # (d c b a | a b c d): columns -2, -1 read 1, 0
    ("wrap", [4, 5, 0, 1, 2, 3]),  # (a b c d | a b c d)
    ("nearest", [0, 0, 0, 1, 2, 3]),  # (a a a a | a b c d)
    ("constant", [9, 9, 0, 1, 2, 3]),  # fill_value
])
def test_fill_modes_follow_keras_definitions(fill_mode, expected):
    x = np.arange(6.0).reshape(1, 1, 6, 1)
    layer = layers.RandomTranslation(0.0, (2 / 6, 2 / 6), fill_mode=fill_mode, fill_value=9.0)
    np.testing.assert_allclose(layer(x, training=True)[0, 0, :, 0], expected, atol=1e-12)


def test_zoom_out_shrinks_content_and_no_zoom_is_identity():
    x = np.random.default_rng(0).standard_normal((2, 7, 7, 1))
    np.testing.assert_allclose(layers.RandomZoom((0.0, 0.0))(x, training=True), x, atol=1e-12)
    # Zooming out by +100 % samples twice the extent: output pixel (i, j) reads 2·(i - 3) + 3.
    y = layers.RandomZoom((1.0, 1.0), fill_mode="constant")(x, training=True)
    np.testing.assert_allclose(y[:, 2:5, 2:5], x[:, 1:6:2, 1:6:2], atol=1e-12)
    np.testing.assert_array_equal(y[:, 0], 0)


def test_flip_gives_each_image_itself_or_its_mirror():
    x = np.random.default_rng(0).standard_normal((16, 4, 5, 2))
    y = layers.RandomFlip("horizontal", seed=0)(x, training=True)
    flipped = [np.array_equal(yi, xi[:, ::-1]) for xi, yi in zip(x, y)]
    kept = [np.array_equal(yi, xi) for xi, yi in zip(x, y)]
    assert all(f or k for f, k in zip(flipped, kept)) and any(flipped) and any(kept)


def test_spatial_dropout_drops_whole_channels_at_the_rate():
    x = np.ones((64, 5, 5, 16))
    y = layers.SpatialDropout2D(0.25, seed=None)(x, training=True)
    per_channel = y[:, 0, 0, :]
    assert np.all(y == per_channel[:, None, None, :])  # one draw per (sample, channel)
    assert set(np.unique(per_channel)) == {0.0, 1 / 0.75}
    assert abs((per_channel == 0).mean() - 0.25) < 0.05  # 1024 draws: 5 standard deviations
    y1 = layers.SpatialDropout1D(0.5)(np.ones((4, 7, 3)), training=True)
    assert np.all(y1 == y1[:, :1, :])


def test_augmentation_in_a_model_is_reproducible_from_the_model_seed():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((32, 8, 8, 1)).astype(np.float32), rng.integers(0, 2, 32)

    def trained(seed):
        model = gn.Sequential([layers.RandomFlip(input_shape=(8, 8, 1)), layers.RandomRotation(0.1),
                               layers.RandomZoom(0.1), layers.Conv2D(2, 3, activation="relu"),
                               layers.SpatialDropout2D(0.2), layers.GlobalAveragePooling2D(),
                               layers.Dense(2, activation="softmax")], seed=seed)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x, y, epochs=2, batch_size=8, verbose=0)
        return model.get_weights()

    first, again, other = trained(1), trained(1), trained(2)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(first, other))


def test_brightness_shifts_each_image_by_one_draw_within_the_range():
    x = np.full((64, 3, 3, 2), 100.0)
    y = layers.RandomBrightness(0.2)(x, training=True)  # Keras' default range (0, 255)
    shift = y - x
    assert np.allclose(shift, shift[:, :1, :1, :1])  # one draw per image, all channels
    assert np.all(np.abs(shift) <= 0.2 * 255) and shift.std() > 10
    np.testing.assert_array_equal(layers.RandomBrightness((0.9, 0.9))(x, training=True), 255.0)  # clipped


def test_contrast_stretches_each_channel_about_its_mean():
    x = np.random.default_rng(0).uniform(0.3, 0.7, (16, 5, 5, 3))
    y = layers.RandomContrast(0.5, value_range=(0, 1))(x, training=True)
    mean = x.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(y.mean(axis=(1, 2), keepdims=True), mean, atol=1e-12)  # nothing clipped
    k = (y - mean) / (x - mean)
    assert np.allclose(k, k[:, :1, :1, :1])  # one factor per image, shared by its channels
    assert np.all((k >= 0.5) & (k <= 1.5)) and k.std() > 0.05
    y = layers.RandomContrast((0.0, 1.0), value_range=(0, 1))(np.array([0.0, 1.0]).reshape(1, 1, 2, 1), training=True)
    assert y.min() == 0.0 and y.max() == 1.0  # more contrast: clipped to value_range


@pytest.mark.parametrize("layer", [layers.RandomBrightness((0.2, 0.2)), layers.RandomContrast((0.5, 0.5)),
                                   layers.RandomRotation(0.1), layers.RandomZoom(0.2),
                                   layers.RandomTranslation(0.2, 0.2, fill_mode="constant", fill_value=7.0)],
                         ids=lambda layer: type(layer).__name__)
def test_layers_that_compute_new_pixels_take_raw_uint8_and_return_floats(layer):
    x = np.random.default_rng(0).integers(0, 256, (4, 6, 6, 3)).astype(np.uint8)
    config = {**layer.get_config(), "seed": 1}
    as_uint8 = type(layer).from_config(config)(x, training=True)
    as_float = type(layer).from_config(config)(x.astype(np.float32), training=True)
    assert as_uint8.dtype == np.float32
    np.testing.assert_array_equal(as_uint8, as_float)  # no wrap-around or truncation to integers
    assert as_uint8.min() >= 0 and as_uint8.max() <= 255


@pytest.mark.parametrize("make, match", [
    (lambda: layers.RandomFlip("diagonal"), "mode must be one of"),
    (lambda: layers.RandomRotation(0.1, fill_mode="mirror"), "fill_mode must be one of"),
    (lambda: layers.RandomZoom(0.1, interpolation="bicubic"), "interpolation must be one of"),
    (lambda: layers.RandomTranslation((0.3, 0.1), 0.1), "lower <= upper"),
    (lambda: layers.RandomZoom(-1.0), "height_factor must satisfy"),
    (lambda: layers.RandomFlip(seed=-1), "seed must be a non-negative integer"),
    (lambda: layers.RandomBrightness(1.5), "factor must satisfy"),
    (lambda: layers.RandomBrightness(0.1, value_range=(1, 0)), "value_range must be a pair"),
    (lambda: layers.RandomContrast(0.1, value_range=("0", "1")), "value_range must be a pair"),
    (lambda: layers.RandomContrast(-0.1), r"factor must be a number or a pair \(lower, upper\) in \[0, 1\]"),
    (lambda: layers.RandomContrast((0.2, 1.5)), "in \\[0, 1\\]"),
])
def test_bad_arguments_are_rejected(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_augmentation_needs_image_batches():
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        layers.RandomFlip()(np.zeros((2, 8, 8)), training=True)
