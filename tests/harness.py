"""The shared test harness: one call checks a layer, a loss or an activation completely.

``check_layer`` builds float64 and float32 copies of a layer from its config, checks shapes and
dtypes, runs the finite-difference gradient check on the input and every parameter, checks that
a deliberately wrong backward fails that check, compares values and gradients with PyTorch
(when installed) and round-trips config and weights. ``check_loss`` does the same for a loss.

A layer that takes a list (``Add``, ``Concatenate``: ``layer.takes_list``) is checked the same
way with a list of inputs: each input gets its own gradient check (``input_0``, ``input_1``...),
and its torch oracle receives the list of torch tensors.

Torch oracles are written as functions of torch tensors: ``torch_fn(x, params)`` for a layer,
where ``params`` holds the layer's own arrays under the same keys (so a glassnet Dense kernel,
(in, out), enters ``F.linear`` as ``params["kernel"].T``: torch's weight is (out, in)).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from glassnet._registry import lookup
from glassnet.gradcheck import check_gradients, compare_gradients, numeric_gradient

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # the oracle comparisons skip; every other check still runs
    torch = F = None

#: a check must pass with a relative error below this (float64 central differences).
RTOL = 1e-7
#: float64 glassnet vs float64 torch: only the order of operations differs.
TORCH_RTOL, TORCH_ATOL = 1e-10, 1e-12
#: the relative size of the mistake a wrong backward makes; the check must still catch it.
WRONG_SCALE = 1 + 1e-5


def random_input(shape, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def _inputs(x) -> list:
    """The inputs as a list, for code that treats single- and multi-input layers alike."""
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _input_names(layer) -> list[str]:
    return [f"input_{i}" for i in range(len(layer.input_shape))] if layer.takes_list else ["input"]


def _shape_of(layer, x):
    """The model-level input shape(s) of ``x``: the batch axis as None."""
    return [(None, *xi.shape[1:]) for xi in x] if layer.takes_list else (None, *x.shape[1:])


def with_dtype(layer, dtype: str):
    """A fresh, unbuilt copy of ``layer`` made from its config with another dtype."""
    return type(layer).from_config({**layer.get_config(), "dtype": dtype})


# -- layers -------------------------------------------------------------------------------------
def check_layer(layer, input_shape=None, torch_fn=None, *, x=None, training: bool = False,
                seed: int = 0):
    """Run every contract check on ``layer`` and return its built float64 copy.

    Args:
        layer: an unbuilt layer instance; it is only a template: the checks run on copies made
            from its config (so a setting missing from ``get_config`` shows up as a failure).
        input_shape: the batch shape of a random normal input, e.g. ``(4, 5)``; a list of shapes
            for a layer that takes a list (input i is drawn with seed ``seed + i``).
        torch_fn: ``torch_fn(x, params) -> y`` computing the same function with torch;
            compared in float64 for the output, the input gradient and every parameter gradient.
        x: a specific input instead of a random one.
        training: run forward in training mode (Dropout); the checker reseeds the layer's
            generator before every forward, so the same mask is drawn each time.
        seed: seeds the input, the projection and the layer's generator.
    """
    if layer.takes_list:
        x = ([random_input(shape, seed + i) for i, shape in enumerate(input_shape)] if x is None
             else [np.asarray(xi, dtype=np.float64) for xi in x])
    else:
        x = random_input(input_shape, seed) if x is None else np.asarray(x, dtype=np.float64)
    check_config_roundtrip(layer)
    layer64 = with_dtype(layer, "float64")
    layer64.rng = np.random.default_rng(seed)
    x_before = [xi.copy() for xi in _inputs(x)]
    y = layer64(x, training=training)
    assert y.dtype == np.float64, f"float64 layer gave a {y.dtype} output"
    expected_shape = layer64.compute_output_shape(_shape_of(layer64, x))
    assert (None, *y.shape[1:]) == expected_shape == tuple(layer64.output_shape)

    result = check_gradients(layer64, x, training=training, seed=seed)
    assert result.passed, f"\n{result}"
    assert [c.name for c in result.checks] == [*_input_names(layer64), *layer64.params]
    check_wrong_backward_fails(layer64, x, training=training, seed=seed)
    check_backward_overwrites(layer64, x, training=training, seed=seed)
    for xi, before in zip(_inputs(x), x_before, strict=True):
        np.testing.assert_array_equal(xi, before, err_msg="forward/backward mutated their input")
    check_weights_roundtrip(layer64, x)
    check_float32(layer64, x, training=training, seed=seed)
    if torch_fn is not None:
        compare_with_torch(layer64, x, torch_fn, training=training, seed=seed)
    return layer64


def check_config_roundtrip(layer) -> None:
    """get_config is JSON-serializable, registered by class name and rebuilds an equal config."""
    config = layer.get_config()
    restored = json.loads(json.dumps(config))
    assert restored == config
    cls = lookup("layer", type(layer).__name__)
    assert cls is type(layer)
    assert cls.from_config(restored).get_config() == config


def check_wrong_backward_fails(layer, x, *, training=False, seed=0) -> None:
    """A backward that is off by a factor 1 + 1e-5 in one tensor fails exactly that tensor."""
    original = layer.backward
    inputs = _input_names(layer)
    names = [*inputs, *layer.params]
    for target in names:
        def wrong_backward(grad, target=target):
            dx = original(grad)
            if target in inputs and layer.takes_list:
                return [dxi * WRONG_SCALE if name == target else dxi for name, dxi in zip(inputs, dx)]
            if target == "input":
                return dx * WRONG_SCALE
            layer.grads[target] *= WRONG_SCALE
            return dx

        layer.backward = wrong_backward  # an instance attribute shadows the method
        try:
            result = check_gradients(layer, x, training=training, seed=seed)
        finally:
            del layer.backward
        assert not result.passed, f"a wrong {target} gradient passed:\n{result}"
        assert [c.name for c in result.checks if not c.passed] == [target], f"\n{result}"


def check_backward_overwrites(layer, x, *, training=False, seed=0) -> None:
    """Two backward passes leave the same grads: backward overwrites, never accumulates."""
    grad_out = random_input(layer.forward(x, training=False).shape, seed + 1)
    layer.rng = np.random.default_rng(seed)
    layer.forward(x, training=training)
    layer.backward(grad_out)
    first = {k: g.copy() for k, g in layer.grads.items()}
    layer.backward(grad_out)
    for key, grad in layer.grads.items():
        np.testing.assert_array_equal(grad, first[key], err_msg=f"grads[{key!r}] accumulated")


def check_weights_roundtrip(layer, x) -> None:
    """A layer rebuilt from the config and given get_weights() computes the same outputs."""
    weights = layer.get_weights()
    assert [w.shape for w in weights] == [a.shape for a in (*layer.params.values(), *layer.state.values())]
    twin = type(layer).from_config(layer.get_config())
    twin.build(layer.input_shape)
    twin.set_weights(weights)
    np.testing.assert_array_equal(twin.forward(x), layer.forward(x))
    for w in weights:  # get_weights returns copies: changing them changes nothing
        w += 1
    np.testing.assert_array_equal(twin.forward(x), layer.forward(x))
    if weights:
        with pytest.raises(ValueError, match="expects"):
            twin.set_weights(weights[:-1])


def check_float32(layer64, x, *, training=False, seed=0) -> None:
    """The float32 copy keeps float32 end to end and agrees with float64 to float32 precision."""
    layer32 = with_dtype(layer64, "float32")
    layer32.build(layer64.input_shape)
    layer32.set_weights([w.astype(np.float32) for w in layer64.get_weights()])
    x32 = [xi.astype(np.float32) for xi in x] if layer64.takes_list else x.astype(np.float32)
    layer32.rng, layer64.rng = np.random.default_rng(seed), np.random.default_rng(seed)
    y32, y64 = layer32(x32, training=training), layer64(x, training=training)
    grad = random_input(y64.shape, seed + 1)
    dx32, dx64 = layer32.backward(grad.astype(np.float32)), layer64.backward(grad)
    assert y32.dtype == np.float32, f"float32 input gave a {y32.dtype} output"
    for g32, g64 in zip(_inputs(dx32), _inputs(dx64), strict=True):
        assert g32.dtype == np.float32, f"float32 input gave a {g32.dtype} input gradient"
        np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-5)
    assert all(g.dtype == np.float32 for g in layer32.grads.values()), "float32 layer gave non-float32 grads"
    np.testing.assert_allclose(y32, y64, rtol=1e-4, atol=1e-5)


def compare_with_torch(layer, x, torch_fn, *, training=False, seed=0) -> None:
    """Output, input gradient and parameter gradients equal torch's (float64) on the same data."""
    if torch is None:
        pytest.skip("torch is not installed: the PyTorch oracle comparison was skipped")
    layer.rng = np.random.default_rng(seed)
    y = layer.forward(x, training=training)
    r = random_input(y.shape, seed + 1)
    dx = layer.backward(r)
    x_t = [torch.tensor(xi, requires_grad=True) for xi in _inputs(x)]
    params_t = {k: torch.tensor(v, requires_grad=True) for k, v in layer.params.items()}
    y_t = torch_fn(x_t if layer.takes_list else x_t[0], params_t)
    (y_t * torch.tensor(r)).sum().backward()
    np.testing.assert_allclose(y, y_t.detach().numpy(), rtol=TORCH_RTOL, atol=TORCH_ATOL)
    for dxi, xi_t in zip(_inputs(dx), x_t, strict=True):
        np.testing.assert_allclose(dxi, xi_t.grad.numpy(), rtol=TORCH_RTOL, atol=TORCH_ATOL)
    for key, p in params_t.items():
        np.testing.assert_allclose(layer.grads[key], p.grad.numpy(), rtol=TORCH_RTOL, atol=TORCH_ATOL,
                                   err_msg=f"grads[{key!r}]")


def torch_dense(activation=None):
    """The torch oracle of ``Dense``: ``activation(x Wᵀ + b)`` with W = kernel.T."""
    def fn(x, p):
        z = F.linear(x, p["kernel"].T, p.get("bias"))
        return z if activation is None else activation(z)
    return fn


# -- losses -------------------------------------------------------------------------------------
def check_loss(loss, y_true, y_pred, torch_fn=None, *, sample_weight=None) -> None:
    """Check a loss's value and gradient: finite differences, value_and_gradient, dtypes, torch.

    Args:
        loss: a glassnet Loss.
        y_true, y_pred: float64 arrays (integer labels for the sparse loss).
        torch_fn: ``torch_fn(y_true, y_pred) -> per-sample losses (N,)``; the harness applies
            glassnet's reduction, (1/N) Σ wₙ ℓₙ, so the two must agree exactly.
        sample_weight: optional (N,) weights.
    """
    y_pred = np.array(y_pred, dtype=np.float64)
    pred_before = y_pred.copy()
    value = loss(y_true, y_pred, sample_weight)
    grad = loss.gradient(y_true, y_pred, sample_weight)
    assert isinstance(value, float) and np.isfinite(value)
    assert grad.shape == y_pred.shape and grad.dtype == np.float64

    numeric = numeric_gradient(lambda: loss(y_true, y_pred, sample_weight), y_pred)
    check = compare_gradients("y_pred", grad, numeric, RTOL)
    assert check.passed, f"gradient vs finite differences: max relative error {check.max_rel_error:.2e}"
    # The (value, gradient) fast path used in training must equal the two separate calls.
    fast_value, fast_grad = loss.value_and_gradient(y_true, y_pred, sample_weight)
    np.testing.assert_allclose(fast_value, value, rtol=1e-12)
    np.testing.assert_allclose(fast_grad, grad, rtol=1e-12, atol=1e-15)
    assert not compare_gradients("y_pred", grad * WRONG_SCALE, numeric, RTOL).passed
    np.testing.assert_array_equal(y_pred, pred_before, err_msg="the loss mutated y_pred")

    y_true32 = y_true.astype(np.float32) if y_true.dtype.kind == "f" else y_true
    assert loss.gradient(y_true32, y_pred.astype(np.float32), sample_weight).dtype == np.float32
    config = json.loads(json.dumps(loss.get_config()))
    assert type(loss).from_config(config).get_config() == loss.get_config()
    if torch_fn is not None:
        compare_loss_with_torch(loss, y_true, y_pred, torch_fn, sample_weight=sample_weight)


def compare_loss_with_torch(loss, y_true, y_pred, torch_fn, *, sample_weight=None) -> None:
    if torch is None:
        pytest.skip("torch is not installed: the PyTorch oracle comparison was skipped")
    pred_t = torch.tensor(y_pred, requires_grad=True)
    per_sample = torch_fn(torch.tensor(y_true), pred_t)
    assert tuple(per_sample.shape) == (y_pred.shape[0],)
    weights = torch.ones(y_pred.shape[0], dtype=torch.float64) if sample_weight is None \
        else torch.tensor(np.asarray(sample_weight, dtype=np.float64))
    value_t = (per_sample * weights).sum() / y_pred.shape[0]
    value_t.backward()
    np.testing.assert_allclose(loss(y_true, y_pred, sample_weight), value_t.item(),
                               rtol=TORCH_RTOL, atol=TORCH_ATOL)
    np.testing.assert_allclose(loss.gradient(y_true, y_pred, sample_weight), pred_t.grad.numpy(),
                               rtol=TORCH_RTOL, atol=TORCH_ATOL)


# -- activations --------------------------------------------------------------------------------
def check_activation_function(fn, torch_fn, x) -> None:
    """An ActivationFunction alone: values and gradient equal torch's at the points ``x``.

    Use points where finite differences cannot go (exactly 0, ±1000): torch's convention for
    the derivative at a kink and its overflow-free values are the reference.
    """
    x = np.asarray(x, dtype=np.float64)
    y = fn.forward(x)
    r = random_input(x.shape, 1)
    dx = fn.backward(r)
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(dx))
    if torch is None:
        pytest.skip("torch is not installed: the PyTorch oracle comparison was skipped")
    x_t = torch.tensor(x, requires_grad=True)
    y_t = torch_fn(x_t)
    (y_t * torch.tensor(r)).sum().backward()
    np.testing.assert_allclose(y, y_t.detach().numpy(), rtol=TORCH_RTOL, atol=TORCH_ATOL)
    np.testing.assert_allclose(dx, x_t.grad.numpy(), rtol=TORCH_RTOL, atol=TORCH_ATOL)
