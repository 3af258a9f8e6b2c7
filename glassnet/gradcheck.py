"""Finite-difference gradient checking: does a layer's ``backward`` match its ``forward``?

``check_gradients(layer, x)`` compares the gradients ``backward`` computes with central finite
differences of ``forward``, for the input and every parameter, and returns a printable report.
It works on any object that follows the layer contract, so use it on the layers you write.
"""

from __future__ import annotations

import types
from dataclasses import dataclass, field

import numpy as np

from glassnet import backend


@dataclass
class TensorCheck:
    """The comparison for one tensor (the input or one parameter).

    Attributes:
        name: ``"input"`` or the parameter's key (``"kernel"``, ``"bias"``).
        shape: the tensor's shape.
        max_rel_error: max |analytic - numeric| divided by the largest magnitude of either
            gradient, so entries that are zero in both cannot divide by zero.
        max_abs_error: max |analytic - numeric|.
        passed: ``max_rel_error < rtol`` (False when ``backward`` returned no gradient).
        note: why a check could not run, if it could not.
    """

    name: str
    shape: tuple
    max_rel_error: float
    max_abs_error: float
    passed: bool
    note: str = ""


@dataclass
class GradCheckResult:
    """All tensor checks of one ``check_gradients`` call; truthy when every check passed.

    Example:
        >>> import numpy as np, glassnet as gn
        >>> layer = gn.layers.Dense(3, activation="tanh", dtype="float64")
        >>> result = gn.gradcheck.check_gradients(layer, np.ones((2, 4)))
        >>> result.passed, [c.name for c in result.checks]
        (True, ['input', 'kernel', 'bias'])
    """

    checks: list[TensorCheck] = field(default_factory=list)
    rtol: float = 1e-7
    subject: str = ""

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    @property
    def max_rel_error(self) -> float:
        return max((c.max_rel_error for c in self.checks), default=float("nan"))

    def __bool__(self) -> bool:
        return self.passed

    def __getitem__(self, name: str) -> TensorCheck:
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(f"No check named {name!r}; checked: {[c.name for c in self.checks]}.")

    def __str__(self) -> str:
        header = f"Gradient check of {self.subject} (relative error must be < {self.rtol:.0e})"
        rows = [("tensor", "shape", "max rel error", "max abs error", "")]
        for c in self.checks:
            rows.append((c.name, str(c.shape), f"{c.max_rel_error:.2e}", f"{c.max_abs_error:.2e}",
                         ("ok" if c.passed else "FAIL") + (f" ({c.note})" if c.note else "")))
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = [header] + ["  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + r[4]
                            for r in rows]
        lines.append("PASSED" if self.passed else "FAILED")
        return "\n".join(lines)


_PROJECTION_STREAM = 1  # see _check_layer


def check_gradients(layer, x, y=None, *, training: bool = False, seed: int = 0, eps: float = 1e-4,
                    rtol: float = 1e-7, verbose: bool = False) -> GradCheckResult:
    """Compare ``layer.backward`` with central finite differences of ``layer.forward``.

    The scalar checked is a fixed random projection of the output, f = Σ r ⊙ forward(x), not a
    plain sum: with a sum every output gets the same upstream gradient 1, which hides mistakes
    such as a transposed or mis-broadcast gradient. Its gradient wrt the output is exactly r,
    so ``backward(r)`` must equal ∂f/∂x and fill ``grads`` with ∂f/∂params.

    Everything runs in float64: the fourth-order central difference (see ``numeric_gradient``)
    has truncation error O(eps⁴) and round-off error O(10⁻¹⁶ / eps), both far below ``rtol``
    only in double precision. A float32 layer is checked through a float64 copy made with
    ``get_config``/``from_config`` and its weights; a layer that cannot be copied that way (a
    hand-written one) must be created with ``dtype="float64"`` (or work in float64 anyway)
    and is then checked in place.

    A whole model (``Sequential``, or a ``gn.Model`` graph with one output; several inputs as a
    list) is checked as one function of its input(s) and all its parameters.

    With ``y`` given, ``layer`` is a compiled model (all layers float64; a graph may have several
    outputs, ``y`` then a list or dict as ``fit`` takes it) and the scalar
    is the training loss including the weight penalties; then only parameters are checked,
    through the same forward and backward that ``fit`` uses (the fused softmax/sigmoid path
    included).

    Args:
        layer: an object with ``forward(x, training)``, ``backward(grad)``, ``params`` and
            ``grads`` (or a compiled Sequential when ``y`` is given).
        x: an input batch; converted to float64. A list of batches for a layer that takes a
            list (``Add``, ``Concatenate``): each input is checked, named ``input_0``, ``input_1``...
        y: targets, for checking a whole model and its loss.
        training: run ``forward`` in training mode. Random layers (Dropout) get their
            generator reset to the same seed before every forward, so each pass draws the
            same mask and the function being differentiated is deterministic.
        seed: seeds the projection r and the layer's generator.
        eps: finite-difference step; keep every input and pre-activation farther than
            2·eps from a kink (ReLU at 0), or that entry's difference is meaningless.
        rtol: a tensor passes when its max relative error is below this.
        verbose: print the report.

    Returns:
        GradCheckResult: truthy when every tensor passed; ``str()`` gives a table.
    """
    if y is not None:
        result = _check_model(layer, x, y, training=training, seed=seed, eps=eps, rtol=rtol)
    elif hasattr(layer, "layers") and hasattr(layer, "get_weights"):  # a whole model, no loss
        result = _check_layer(_model_function(_float64_model(layer)), x, training=training, seed=seed,
                              eps=eps, rtol=rtol)
        shapes = [np.shape(xi) for xi in x] if isinstance(x, (list, tuple)) else np.shape(x)
        result.subject = f"model {layer.name!r} on input {shapes}"
    else:
        result = _check_layer(_float64_layer(layer), x, training=training, seed=seed, eps=eps,
                              rtol=rtol)
    if verbose:
        print(result)
    return result


# -- a single layer -----------------------------------------------------------------------------
def _float64_layer(layer):
    """``layer`` itself when it computes in float64, else a float64 copy with the same weights."""
    if getattr(layer, "dtype", "float64") == "float64":
        return layer
    if not (hasattr(layer, "get_config") and hasattr(type(layer), "from_config")):
        raise TypeError(
            f"check_gradients needs float64 arithmetic: create {type(layer).__name__} with "
            f"dtype='float64', or give it get_config/from_config so a float64 copy can be made."
        )
    copy = type(layer).from_config({**layer.get_config(), "dtype": "float64"})
    if getattr(layer, "built", False):
        copy.build(layer.input_shape)
        copy.set_weights([np.asarray(w, dtype=np.float64) for w in layer.get_weights()])
    return copy


def _saved_states(layers) -> list[dict]:
    """Copies of every layer's ``state`` (BatchNormalization's moving statistics): each
    training-mode forward of the check moves them, and a check must leave the model as it was."""
    return [{key: value.copy() for key, value in getattr(layer, "state", {}).items()}
            for layer in layers]


def _restore_states(layers, saved: list[dict]) -> None:
    for layer, state in zip(layers, saved):
        for key, value in state.items():
            layer.state[key][...] = value  # in place: the layer may hold views of these arrays


def _check_layer(layer, x, *, training, seed, eps, rtol) -> GradCheckResult:
    # A layer that takes a list (Add, Concatenate) gets one check per input: "input_0", "input_1"...
    several = getattr(layer, "takes_list", False)
    xs = [np.array(xi, dtype=np.float64) for xi in x] if several else [np.array(x, dtype=np.float64)]
    inputs = xs if several else xs[0]  # copies: the check perturbs them in place
    if not getattr(layer, "built", True):
        layer.build([(None, *xi.shape[1:]) for xi in xs] if several else (None, *xs[0].shape[1:]))
    if backend.get_device() != "cpu":  # check the layer where it computes (gn.config.set_device)
        from glassnet.models import placement  # imported here: the models sit above this module

        placement.place(types.SimpleNamespace(layers=[layer]))
        xs = [backend.to_device(xi) for xi in xs]
        inputs = xs if several else xs[0]
    saved_rng = getattr(layer, "rng", None)
    members = layer.sublayers if hasattr(layer, "sublayers") else [layer]  # a model: its layers
    saved_states = _saved_states(members)

    def forward():
        if hasattr(layer, "rng"):
            layer.rng = np.random.default_rng(seed)
        return layer.forward(inputs, training=training)

    try:
        y = forward()
        # A stream of its own: drawn from default_rng(seed) like a caller's x, r would equal x for
        # shape-preserving layers, and BatchNormalization's output is blind to exactly that direction.
        r = backend.drawn_on_host(np.random.default_rng([seed, _PROJECTION_STREAM]).standard_normal(y.shape), y)

        def objective():
            return float(np.sum(r * forward()))

        dx = layer.backward(r.copy())  # a copy, in case backward writes into its argument
        analytic = {key: backend.to_host(g).astype(np.float64) for key, g in layer.grads.items()}
        # Σ|r·y|, not |Σ r·y|: the terms' size sets the round-off, and their sum can cancel.
        atol = roundoff_floor(float(np.sum(np.abs(r * y))), eps)
        if several:
            if not isinstance(dx, (list, tuple)) or len(dx) != len(xs):
                dx = [None] * len(xs)  # every input check then fails with "no gradient"
            checks = [compare_gradients(f"input_{i}", dxi, numeric_gradient(objective, xi, eps), rtol, atol)
                      for i, (dxi, xi) in enumerate(zip(dx, xs))]
        else:
            checks = [compare_gradients("input", dx, numeric_gradient(objective, xs[0], eps), rtol, atol)]
        for key, param in layer.params.items():
            checks.append(compare_gradients(key, analytic.get(key), numeric_gradient(objective, param, eps),
                                            rtol, atol))
    finally:
        if hasattr(layer, "rng"):
            layer.rng = saved_rng
        _restore_states(members, saved_states)
    shapes = [xi.shape for xi in xs] if several else xs[0].shape
    return GradCheckResult(checks, rtol, subject=f"{type(layer).__name__} on input {shapes}")


# -- a whole model as one function (no loss) ---------------------------------------------------------
def _model_function(model):
    """A Sequential or a one-output graph as one layer (a ``ModelLayer``, as when nested), so
    ``_check_layer`` checks its input(s) and every parameter, keyed ``"<layer name>/<key>"``."""
    from glassnet.models.nested import ModelLayer  # imported here: the engine sits above this module

    if getattr(model, "is_graph", False) and len(model.outputs) > 1:
        raise ValueError(f"check_gradients without y checks a one-output model; {model.name!r} has "
                         f"{len(model.outputs)} outputs: compile it and pass y to check through its losses.")
    return ModelLayer(model)


def _float64_model(model):
    """``model`` itself when every layer is float64, else a float64 copy with the same weights."""
    if all(layer.dtype == "float64" for layer in model.layers):
        return model
    config = model.get_config()
    for spec in config["layers"]:
        if "dtype" in spec["config"]:
            spec["config"]["dtype"] = "float64"
    copy = type(model).from_config(config)
    if model.built:
        if not copy.built:
            copy.build(model.input_shape)
        copy.set_weights([np.asarray(w, dtype=np.float64) for w in model.get_weights()])
    return copy


# -- a whole model and its loss ------------------------------------------------------------------
def _check_model(model, x, y, *, training, seed, eps, rtol) -> GradCheckResult:
    from glassnet.models import placement, training as fitting  # the same forward/backward that fit uses

    if not model.compiled:
        raise ValueError("check_gradients with y needs a compiled model: call model.compile(...) first.")
    x, y = fitting.prepare_xy(model, x, y)
    placement.place(model)  # on the current device (gn.config.set_device), as fit computes
    x, y = placement.batch(x, y)
    wrong = [layer.name for layer in model.layers if layer.dtype != "float64"]
    if wrong:
        raise ValueError(f"check_gradients needs float64 layers; create {wrong} with dtype='float64'.")
    saved = [layer.rng for layer in model.layers]
    saved_states = _saved_states(model.layers)

    def loss_and_grad():
        for i, layer in enumerate(model.layers):
            layer.rng = np.random.default_rng([seed, i])
        value, _, grad = fitting.forward_loss(model, x, y, None, training=training)
        return value + fitting.regularization_loss(model), grad

    try:
        value, grad = loss_and_grad()
        fitting.backward(model, grad)
        analytic = [{key: g.copy() for key, g in layer.grads.items()} for layer in model.layers]
        atol = roundoff_floor(value, eps)
        checks = []
        for layer, grads in zip(model.layers, analytic):
            for key, param in layer.params.items():
                numeric = numeric_gradient(lambda: loss_and_grad()[0], param, eps)
                checks.append(compare_gradients(f"{layer.name}/{key}", grads[key], numeric, rtol, atol))
    finally:
        for layer, rng in zip(model.layers, saved):
            layer.rng = rng
        _restore_states(model.layers, saved_states)
    losses = model.loss if isinstance(model.loss, list) else [model.loss]  # a graph: one per output
    return GradCheckResult(checks, rtol, subject=f"{model.name} with {', '.join(item.name for item in losses)}")


# -- the arithmetic -----------------------------------------------------------------------------
def roundoff_floor(f_value: float, eps: float) -> float:
    """The absolute error numeric_gradient's round-off can reach for an objective of size
    |f_value|: (8·2 + 2)/12 · 2⁻⁵² · |f| / h per entry, times a safety factor of 30. A gradient
    that is zero in exact arithmetic can be checked no closer than this."""
    return 30 * 1.5 * np.finfo(np.float64).eps * abs(f_value) / eps


def numeric_gradient(f, array: np.ndarray, eps: float = 1e-4) -> np.ndarray:
    """Fourth-order central differences of ``f``, one entry of ``array`` at a time.

    The textbook formula (f(a + h) - f(a - h)) / 2h has truncation error O(h²) and round-off
    error O(10⁻¹⁶ |f| / h); the best h (about 1e-6) still leaves ~1e-9 of noise, too much
    for a 1e-7 test when a gradient is small next to f (BatchNormalization's input
    gradient). Combining the steps h and 2h cancels the h² term:

        f'(a) ≈ (8 [f(a + h) - f(a - h)] - [f(a + 2h) - f(a - 2h)]) / 12h,   error O(h⁴),

    so h = 1e-4 makes truncation ~1e-16 and round-off ~1e-12. The price: a kink (ReLU at 0,
    a max-pooling tie) closer than 2h to an entry makes that entry's difference meaningless.

    Args:
        f: a function of no arguments returning a float that reads ``array``.
        array: a float64 array, perturbed in place (a parameter must be changed where the
            layer reads it); every entry is restored exactly afterwards.
        eps: the step h.

    Returns:
        np.ndarray: df/d(array), same shape as ``array``.
    """
    grad = np.zeros(array.shape, dtype=np.float64)
    flat, out = array.reshape(-1), grad.reshape(-1)
    if not np.shares_memory(flat, array):
        raise ValueError("check_gradients needs contiguous arrays it can perturb in place.")

    def f_at(i, value):
        flat[i] = value
        return f()

    for i in range(flat.size):
        a = flat[i]
        near = f_at(i, a + eps) - f_at(i, a - eps)
        far = f_at(i, a + 2 * eps) - f_at(i, a - 2 * eps)
        flat[i] = a
        out[i] = (8 * near - far) / (12 * eps)
    return grad


def compare_gradients(name: str, analytic, numeric: np.ndarray, rtol: float = 1e-7,
                      atol: float = 0.0) -> TensorCheck:
    """Compare an analytic gradient with a numeric one (None or a wrong shape fails).

    The relative error is max |analytic - numeric| over the largest magnitude in either; a
    tensor also passes when that absolute error is below ``atol`` (``check_gradients`` passes
    ``roundoff_floor`` of its objective, so a true zero gradient is not failed on noise).
    """
    if analytic is None:
        return TensorCheck(name, numeric.shape, float("inf"), float("inf"), False,
                           note="backward returned no gradient")
    analytic = np.asarray(backend.to_host(analytic), dtype=np.float64)
    if analytic.shape != numeric.shape:
        return TensorCheck(name, numeric.shape, float("inf"), float("inf"), False,
                           note=f"gradient has shape {analytic.shape}")
    abs_err = float(np.max(np.abs(analytic - numeric), initial=0.0))
    # Relative to the tensor's scale, not entry by entry: an entry that is ~0 in both would
    # otherwise turn harmless round-off into a huge ratio.
    scale = max(float(np.max(np.abs(analytic), initial=0.0)), float(np.max(np.abs(numeric), initial=0.0)))
    rel_err = abs_err / scale if scale > 0 else 0.0
    if not np.isfinite(rel_err):
        rel_err = float("inf")
    # A gradient that is zero in exact arithmetic (a bias just before BatchNormalization, whose
    # batch mean removes it) comes out as round-off in both, and its own scale is that noise:
    # agreement within the round-off floor of the objective (atol) passes whatever the ratio says.
    return TensorCheck(name, numeric.shape, rel_err, abs_err, rel_err < rtol or abs_err < atol)
