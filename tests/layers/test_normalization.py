"""BatchNormalization: gradients in both modes, torch's BatchNorm1d/2d, moving statistics, saving.

Keras' conventions are followed and checked against torch through the conversion:
torch_momentum = 1 - keras_momentum, and torch's running variance averages the unbiased batch
variance (÷ m - 1) where Keras' (and glassnet's) averages the biased one (÷ m).
"""

import numpy as np
import pytest
from harness import F, check_layer, torch

import glassnet as gn
from glassnet import layers

MOVING = {"moving_mean_initializer": {"class_name": "Constant", "config": {"value": 0.3}},
          "moving_variance_initializer": {"class_name": "Constant", "config": {"value": 2.0}}}
# gamma near 1 (not Keras' default RandomNormal(0.05)): a tiny gamma would shrink dx towards the
# round-off floor of the finite differences.
GAMMA = {"class_name": "RandomNormal", "config": {"mean": 1.0, "stddev": 0.5}}
RANDOM_AFFINE = {"gamma_initializer": GAMMA, "beta_initializer": "random_normal"}


def torch_batch_norm(training, epsilon=1e-3, axis=-1):
    """Channels-last batch norm with torch: move the channel axis to 1, as torch expects."""
    def fn(x, p):
        moved = x.movedim(axis, 1)
        channels = moved.shape[1]
        mean = None if training else torch.full((channels,), 0.3, dtype=torch.float64)
        var = None if training else torch.full((channels,), 2.0, dtype=torch.float64)
        y = F.batch_norm(moved, mean, var, p.get("gamma"), p.get("beta"), training=training, eps=epsilon)
        return y.movedim(1, axis)
    return fn


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("kwargs, input_shape", [
    ({**RANDOM_AFFINE}, (6, 3)),  # dense features
    ({**RANDOM_AFFINE}, (3, 4, 3, 2)),  # images: statistics over N, H, W
    ({**RANDOM_AFFINE, "epsilon": 1e-5}, (4, 5, 2)),  # sequences
    ({"center": False, "gamma_initializer": GAMMA}, (5, 3)),
    ({"scale": False, "beta_initializer": "random_normal"}, (5, 3)),
    ({**RANDOM_AFFINE, "axis": 1}, (4, 3, 5)),  # channels-first features
])
def test_batch_norm_contract_with_torch(kwargs, input_shape, training):
    layer = layers.BatchNormalization(**kwargs, **MOVING)
    # An input drawn with another seed than the harness's projection r: with the same seed and
    # shape r equals x, the one direction batch normalisation is blind to (dx would cancel to ~0).
    x = np.random.default_rng(1).normal(0.5, 2.0, input_shape)
    check_layer(layer, torch_fn=torch_batch_norm(training, layer.epsilon, layer.axis), x=x, training=training)


def test_training_mode_normalises_each_channel_of_an_image_batch():
    x = np.random.default_rng(0).normal(5.0, 3.0, (32, 5, 5, 4)) * np.array([1, 2, 3, 4])
    y = layers.BatchNormalization(dtype="float64")(x, training=True)
    np.testing.assert_allclose(y.mean(axis=(0, 1, 2)), 0, atol=1e-12)
    var = x.var(axis=(0, 1, 2))
    np.testing.assert_allclose(y.var(axis=(0, 1, 2)), var / (var + 1e-3), rtol=1e-12)


@pytest.mark.parametrize("torch_cls, shape", [("BatchNorm2d", (8, 5, 5, 3)), ("BatchNorm1d", (16, 3))])
def test_moving_statistics_and_inference_match_torch_after_conversion(torch_cls, shape):
    if torch is None:
        pytest.skip("torch is not installed")
    layer = layers.BatchNormalization(momentum=0.9, dtype="float64")
    layer.build((None, *shape[1:]))
    module = getattr(torch.nn, torch_cls)(3, eps=1e-3, momentum=1 - 0.9, dtype=torch.float64)  # torch's momentum
    rng = np.random.default_rng(0)
    m = int(np.prod(shape[:-1]))  # values per channel
    for _ in range(3):
        x = rng.normal(2.0, 1.5, shape)
        mean_before, var_before = layer.state["moving_mean"].copy(), layer.state["moving_variance"].copy()
        torch_var_before = module.running_var.clone().numpy()
        layer(x, training=True)
        module.train()
        module(torch.tensor(np.moveaxis(x, -1, 1)))
        np.testing.assert_allclose(layer.state["moving_mean"], module.running_mean.numpy(), rtol=1e-12)
        # Each step adds (1 - momentum)·σ²: biased in glassnet, unbiased (× m / (m-1)) in torch.
        ours = (layer.state["moving_variance"] - 0.9 * var_before) * m / (m - 1)
        theirs = module.running_var.numpy() - 0.9 * torch_var_before
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
        assert not np.allclose(mean_before, layer.state["moving_mean"])
    # Inference uses the moving statistics: give torch ours and the outputs agree.
    with torch.no_grad():
        module.running_var.copy_(torch.tensor(layer.state["moving_variance"]))
        module.running_mean.copy_(torch.tensor(layer.state["moving_mean"]))
    module.eval()
    x = rng.normal(2.0, 1.5, shape)
    expected = np.moveaxis(module(torch.tensor(np.moveaxis(x, -1, 1))).detach().numpy(), 1, -1)
    np.testing.assert_allclose(layer(x), expected, rtol=1e-12, atol=1e-12)


def test_inference_does_not_depend_on_the_rest_of_the_batch_nor_change_statistics():
    layer = layers.BatchNormalization()
    x = np.random.default_rng(0).normal(size=(8, 4)).astype(np.float32)
    layer(x, training=True)
    saved = [w.copy() for w in layer.get_weights()]
    alone = layer(x[:1])
    np.testing.assert_array_equal(layer(x)[:1], alone)
    for before, after in zip(saved, layer.get_weights()):
        np.testing.assert_array_equal(before, after)


def test_frozen_layer_uses_moving_statistics_even_in_training_like_keras():
    layer = layers.BatchNormalization(trainable=False, dtype="float64")
    x = np.random.default_rng(0).normal(3.0, 2.0, size=(8, 4))
    y = layer(x, training=True)
    np.testing.assert_allclose(y, x / np.sqrt(1 + 1e-3), rtol=1e-12)  # initial statistics 0 and 1
    np.testing.assert_array_equal(layer.state["moving_mean"], 0)


def test_weights_state_and_counts_follow_keras():
    layer = layers.BatchNormalization()
    layer.build((None, 7, 7, 16))
    assert layer.weight_names() == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert layer.count_params() == 64 and layer.count_trainable_params() == 32  # Keras: 64 / 32
    config = layer.get_config()
    assert (config["momentum"], config["epsilon"], config["axis"]) == (0.99, 1e-3, -1)


def test_moving_statistics_travel_with_model_weights():
    model = gn.Sequential([layers.Dense(4, input_shape=(3,)), layers.BatchNormalization(),
                           layers.Dense(2, activation="softmax")], seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).normal(5.0, 2.0, (64, 3)).astype(np.float32)
    y = (x[:, 0] > 5).astype(int)
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    bn = model.layers[1]
    assert not np.allclose(bn.state["moving_mean"], 0)  # training moved them
    twin = gn.Sequential.from_config(model.get_config())
    twin.set_weights(model.get_weights())
    np.testing.assert_array_equal(twin.predict(x), model.predict(x))


@pytest.mark.parametrize("kwargs, match", [
    ({"momentum": 1.5}, "momentum must be in"),
    ({"epsilon": 0}, "epsilon must be > 0"),
    ({"axis": "channels"}, "axis must be an int"),
])
def test_bad_arguments_are_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        layers.BatchNormalization(**kwargs)


def test_batch_axis_is_not_a_feature_axis():
    with pytest.raises(ValueError, match="axis 0 is not a feature axis"):
        layers.BatchNormalization(axis=0).build((None, 4))


def test_moving_statistics_are_saved_in_the_model_file(tmp_path):
    model = gn.Sequential([layers.Conv2D(3, 3, input_shape=(6, 6, 1)), layers.BatchNormalization(),
                           layers.GlobalAveragePooling2D(), layers.Dense(2, activation="softmax")], seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).normal(2.0, 1.0, (16, 6, 6, 1)).astype(np.float32)
    model.fit(x, np.arange(16) % 2, epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / "model.glassnet")
    loaded = gn.load_model(tmp_path / "model.glassnet")
    for key in ("moving_mean", "moving_variance"):
        np.testing.assert_array_equal(loaded.layers[1].state[key], model.layers[1].state[key])
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


# -- LayerNormalization -----------------------------------------------------------------------------
def torch_layer_norm(epsilon=1e-3, axis=-1):
    """torch's layer_norm normalises trailing axes: move glassnet's ``axis`` axes to the end first."""
    def fn(x, p):
        axes = sorted(a % x.dim() for a in ([axis] if isinstance(axis, int) else axis))
        moved = x.movedim(axes, list(range(x.dim() - len(axes), x.dim())))
        shape = moved.shape[-len(axes):]
        y = F.layer_norm(moved, shape, p.get("gamma"), p.get("beta"), eps=epsilon)
        return y.movedim(list(range(x.dim() - len(axes), x.dim())), axes)
    return fn


@pytest.mark.parametrize("kwargs, input_shape", [
    ({**RANDOM_AFFINE}, (4, 6)),
    ({**RANDOM_AFFINE}, (2, 3, 5)),  # a sequence: each position normalised over its features
    ({**RANDOM_AFFINE, "axis": [1, 2]}, (2, 3, 4)),
    ({**RANDOM_AFFINE, "axis": 1, "epsilon": 1e-5}, (2, 4, 3)),  # not the last axis
    ({**RANDOM_AFFINE, "axis": [-1, 1]}, (2, 3, 2, 2)),
    ({"center": False, "gamma_initializer": GAMMA}, (3, 5)),
    ({"scale": False, "beta_initializer": "random_normal"}, (3, 5)),
])
def test_layer_norm_contract_with_torch(kwargs, input_shape):
    layer = layers.LayerNormalization(**kwargs)
    x = np.random.default_rng(1).normal(0.5, 2.0, input_shape)
    check_layer(layer, torch_fn=torch_layer_norm(layer.epsilon, layer.axis), x=x)


def test_layer_norm_matches_torch_module_with_eps_mapped():
    if torch is None:
        pytest.skip("torch is not installed")
    x = np.random.default_rng(0).normal(3.0, 2.0, (5, 7))
    ours = layers.LayerNormalization(dtype="float64")  # Keras' epsilon 1e-3, not torch's 1e-5
    module = torch.nn.LayerNorm(7, eps=ours.epsilon, dtype=torch.float64)
    np.testing.assert_allclose(ours(x), module(torch.tensor(x)).detach().numpy(), rtol=1e-12)
    assert ours.epsilon == 1e-3 and ours.params["gamma"].shape == (7,) and ours.params["beta"].shape == (7,)


def test_layer_norm_is_per_sample_so_training_and_inference_agree():
    x = np.random.default_rng(0).normal(2.0, 3.0, (6, 4))
    layer = layers.LayerNormalization(dtype="float64")
    np.testing.assert_array_equal(layer(x, training=True), layer(x, training=False))
    np.testing.assert_allclose(layer(x[:1]), layer(x)[:1], rtol=1e-12)  # independent of the batch
    assert not layer.state


@pytest.mark.parametrize("kwargs, shape, match", [
    ({"axis": 0}, (None, 4), "batch axis"),
    ({"axis": [1, -1]}, (None, 4), "twice"),
    ({"axis": 2}, (None, None, None), "must be known"),
])
def test_layer_norm_rejects_bad_axes(kwargs, shape, match):
    with pytest.raises(ValueError, match=match):
        layers.LayerNormalization(**kwargs).build(shape)
