"""Activation functions, each a small object with ``forward`` and ``backward`` side by side.

An instance caches what its backward needs (a mask, its output), so every layer owns its own.
Use them by name (``Dense(64, activation="relu")``) or through ``layers.Activation``.
"""

from __future__ import annotations

import numpy as np

from glassnet import backend
from glassnet._registry import deserialize, register, registered
from glassnet._registry import serialize as _registry_serialize
from glassnet.parallel import over_batch


class ActivationFunction:
    """Base class. ``forward(x) -> y`` caches; ``backward(grad) -> grad wrt x``."""

    #: the string identifier, used in configs and to pair a final activation with its loss.
    name = "activation"

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


@register("activation", "linear")
class Linear(ActivationFunction):
    """Identity. Math: y = x; dx = grad."""

    name = "linear"

    def forward(self, x):
        return x

    def backward(self, grad):
        return grad


@register("activation", "relu")
class ReLU(ActivationFunction):
    """Math: y = max(0, x); dx = grad · [x > 0]."""

    name = "relu"

    def forward(self, x):
        # The samples split over glassnet's threads (glassnet.parallel), both passes in one hand-over.
        y = np.empty_like(x)  # like x: on its device too
        self._mask = over_batch(_relu_and_mask, x, y, out=backend.array_module(x).empty(x.shape, dtype=bool))
        return y

    def backward(self, grad):
        return over_batch(np.multiply, grad, self._mask, out=np.empty_like(grad))


def _relu_and_mask(x, y, out):
    """y = max(x, 0) and out = x > 0 (ReLU's output and the mask its backward reads)."""
    np.greater(x, 0, out=out)
    np.maximum(x, x.dtype.type(0), out=y)


@register("activation", "leaky_relu")
class LeakyReLUFunction(ActivationFunction):
    """Math: y = x if x > 0 else a·x; dx = grad · (1 if x > 0 else a). Keras' a = 0.2."""

    name = "leaky_relu"

    def __init__(self, negative_slope: float = 0.2):
        if negative_slope < 0:
            raise ValueError(f"negative_slope must be >= 0; got {negative_slope}.")
        self.negative_slope = float(negative_slope)

    def forward(self, x):
        self._mask = x > 0
        return np.where(self._mask, x, x * x.dtype.type(self.negative_slope))

    def backward(self, grad):
        return np.where(self._mask, grad, grad * grad.dtype.type(self.negative_slope))

    def get_config(self):
        return {"negative_slope": self.negative_slope}


@register("activation", "elu")
class ELU(ActivationFunction):
    """Math: y = x if x > 0 else α(eˣ - 1); dx = grad · (1 if x > 0 else y + α)."""

    name = "elu"

    def __init__(self, alpha: float = 1.0):
        self.alpha = float(alpha)

    def forward(self, x):
        self._mask = x > 0
        # expm1 of min(x, 0) so positive inputs cannot overflow in the branch np.where discards.
        neg = self.alpha * np.expm1(np.minimum(x, 0))
        self._y = np.where(self._mask, x, neg).astype(x.dtype, copy=False)
        return self._y

    def backward(self, grad):
        return np.where(self._mask, grad, grad * (self._y + self.alpha)).astype(grad.dtype, copy=False)

    def get_config(self):
        return {"alpha": self.alpha}


@register("activation", "sigmoid")
class Sigmoid(ActivationFunction):
    """Math: y = 1 / (1 + e⁻ˣ); dx = grad · y (1 - y)."""

    name = "sigmoid"

    def forward(self, x):
        self._y = sigmoid(x)
        return self._y

    def backward(self, grad):
        return grad * self._y * (1 - self._y)


@register("activation", "tanh")
class Tanh(ActivationFunction):
    """Math: y = tanh x; dx = grad · (1 - y²)."""

    name = "tanh"

    def forward(self, x):
        self._y = np.tanh(x)
        return self._y

    def backward(self, grad):
        return grad * (1 - self._y * self._y)


@register("activation", "hard_sigmoid")
class HardSigmoid(ActivationFunction):
    """A piecewise-linear sigmoid, Keras 3's and PyTorch's: 0 below -3, 1 above 3, a line between.

    (Keras 2 used 0.2x + 0.5 clipped to [0, 1], its LSTM's old default ``recurrent_activation``;
    a model ported from Keras 2 that relied on that slope gets this one.)

    Math: y = min(max(x + 3, 0), 6) / 6; dx = grad / 6 where -3 < x < 3, else 0.
    """

    name = "hard_sigmoid"

    def forward(self, x):
        self._inside = (x > -3) & (x < 3)
        return np.minimum(np.maximum(x + 3, 0), 6) / x.dtype.type(6)

    def backward(self, grad):
        return grad * self._inside / grad.dtype.type(6)


@register("activation", "selu")
class SELU(ActivationFunction):
    """Scaled ELU (Klambauer et al.), self-normalising with ``lecun_normal`` weights, as in Keras.

    Math: y = λx if x > 0 else λα(eˣ - 1); dx = grad · (λ if x > 0 else y + λα),
    α = 1.6732632423543772, λ = 1.0507009873554805.
    """

    name = "selu"
    ALPHA, SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946

    def forward(self, x):
        self._mask = x > 0
        # expm1 of min(x, 0): positive inputs cannot overflow in the branch np.where discards.
        neg = (self.SCALE * self.ALPHA) * np.expm1(np.minimum(x, 0))
        self._y = np.where(self._mask, self.SCALE * x, neg).astype(x.dtype, copy=False)
        return self._y

    def backward(self, grad):
        slope = np.where(self._mask, self.SCALE, self._y + self.SCALE * self.ALPHA).astype(grad.dtype, copy=False)
        return grad * slope


@register("activation", "gelu")
class GELU(ActivationFunction):
    """Gaussian error linear unit: x times the standard normal CDF Φ(x), as Keras and PyTorch.

    Args:
        approximate: False (Keras' default) for the exact Φ through erf; True for the tanh form,
            Φ(x) ≈ (1 + tanh(√(2/π)(x + 0.044715x³))) / 2.

    Math: y = x Φ(x); dx = grad · (Φ(x) + x φ(x)), φ the normal density (the tanh form
    differentiates its own formula).
    """

    name = "gelu"
    _C = 0.7978845608028654  # √(2/π)

    def __init__(self, approximate: bool = False):
        self.approximate = bool(approximate)

    def forward(self, x):
        self._x = x
        if self.approximate:
            self._t = np.tanh(self._C * (x + 0.044715 * x ** 3))
            return (0.5 * x * (1 + self._t)).astype(x.dtype, copy=False)
        self._cdf = 0.5 * (1 + _erf(x * 0.7071067811865476))  # x / √2
        return (x * self._cdf).astype(x.dtype, copy=False)

    def backward(self, grad):
        x = self._x
        if self.approximate:
            t = self._t
            slope = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * self._C * (1 + 3 * 0.044715 * x * x)
        else:
            slope = self._cdf + x * np.exp(-0.5 * x * x) * 0.3989422804014327  # φ(x) = e^(-x²/2) / √(2π)
        return (grad * slope).astype(grad.dtype, copy=False)

    def get_config(self):
        return {"approximate": self.approximate}


def _erf(x):
    """The error function, elementwise (NumPy has none): SciPy's, or CuPy's on a GPU array."""
    if backend.device_of(x) == "gpu":
        from cupyx.scipy.special import erf
    else:
        from scipy.special import erf
    return erf(x)


@register("activation", "silu", "swish")
class SiLU(ActivationFunction):
    """Sigmoid-weighted linear unit, Keras' ``silu`` (alias ``swish``).

    Math: y = x σ(x); dx = grad · σ(x) (1 + x (1 - σ(x))).
    """

    name = "silu"

    def forward(self, x):
        self._x, self._s = x, sigmoid(x)
        return x * self._s

    def backward(self, grad):
        s = self._s
        return grad * (s * (1 + self._x * (1 - s)))


@register("activation", "softplus")
class Softplus(ActivationFunction):
    """A smooth ReLU. Math: y = log(1 + eˣ) (as logaddexp(0, x): no overflow); dx = grad · σ(x)."""

    name = "softplus"

    def forward(self, x):
        self._x = x
        return np.logaddexp(0, x).astype(x.dtype, copy=False)

    def backward(self, grad):
        return grad * sigmoid(self._x)


@register("activation", "softsign")
class Softsign(ActivationFunction):
    """Math: y = x / (1 + |x|); dx = grad / (1 + |x|)²."""

    name = "softsign"

    def forward(self, x):
        self._d = 1 + np.abs(x)
        return x / self._d

    def backward(self, grad):
        return grad / (self._d * self._d)


@register("activation", "relu6")
class ReLU6(ActivationFunction):
    """ReLU capped at 6. Math: y = min(max(x, 0), 6); dx = grad where 0 < x < 6, else 0."""

    name = "relu6"

    def forward(self, x):
        self._inside = (x > 0) & (x < 6)
        return np.minimum(np.maximum(x, 0), 6).astype(x.dtype, copy=False)

    def backward(self, grad):
        return grad * self._inside


@register("activation", "exponential")
class Exponential(ActivationFunction):
    """Math: y = eˣ; dx = grad · y."""

    name = "exponential"

    def forward(self, x):
        self._y = np.exp(x)
        return self._y

    def backward(self, grad):
        return grad * self._y


@register("activation", "mish")
class Mish(ActivationFunction):
    """Mish (Misra). Math: y = x tanh(softplus(x)); dx = grad · (t + x (1 - t²) σ(x)), t = tanh(softplus(x))."""

    name = "mish"

    def forward(self, x):
        self._x = x
        self._t = np.tanh(np.logaddexp(0, x)).astype(x.dtype, copy=False)
        return x * self._t

    def backward(self, grad):
        t = self._t
        return grad * (t + self._x * (1 - t * t) * sigmoid(self._x))


@register("activation", "softmax")
class Softmax(ActivationFunction):
    """Math: yᵢ = e^{xᵢ} / Σⱼ e^{xⱼ} along ``axis``; dx = y ⊙ (grad - Σ grad ⊙ y)."""

    name = "softmax"

    def __init__(self, axis: int = -1):
        self.axis = int(axis)

    def forward(self, x):
        self._y = softmax(x, self.axis)
        return self._y

    def backward(self, grad):
        y = self._y
        return y * (grad - (grad * y).sum(axis=self.axis, keepdims=True))

    def get_config(self):
        return {"axis": self.axis}


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function without overflow: e^{-|x|} never exceeds 1."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax; subtracts the max along ``axis`` so exp cannot overflow."""
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """log(softmax(x)) computed as shifted x minus log-sum-exp, accurate for large |x|."""
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


# -- Keras' functional forms: ``gn.activations.relu(x)``, also a value for ``activation=`` ------
def _as_float(x) -> np.ndarray:
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float32)


def linear(x) -> np.ndarray:
    """x unchanged (``keras.activations.linear``)."""
    return _as_float(x)


def relu(x, negative_slope: float = 0.0, max_value: float | None = None, threshold: float = 0.0) -> np.ndarray:
    """``keras.activations.relu``: max(x, 0) with the default arguments.

    Otherwise x where x > threshold, else 0; capped at ``max_value``; minus
    negative_slope · max(threshold - x, 0) below the threshold, as Keras computes it. (As an
    ``activation=`` value the function stands for the ``"relu"`` class, the default form.)

    Example:
        >>> import numpy as np, glassnet as gn
        >>> gn.activations.relu(np.float32([[-2.0, 0.5, 3.0, 8.0]]), negative_slope=0.5, max_value=6.0, threshold=1.0)
        array([[-1.5 , -0.25,  3.  ,  6.  ]], dtype=float32)
    """
    x = _as_float(x)
    if negative_slope == 0 and max_value is None and threshold == 0:
        return ReLU().forward(x)
    y = np.where(x > threshold, x, x.dtype.type(0))
    if max_value is not None:
        y = np.clip(y, 0, max_value)
    if negative_slope:
        y = y - negative_slope * np.maximum(threshold - x, 0)
    return y.astype(x.dtype, copy=False)


def leaky_relu(x, negative_slope: float = 0.2) -> np.ndarray:
    """x where x > 0, else negative_slope · x (``keras.activations.leaky_relu``)."""
    return LeakyReLUFunction(negative_slope).forward(_as_float(x))


def elu(x, alpha: float = 1.0) -> np.ndarray:
    """x where x > 0, else alpha · (eˣ - 1) (``keras.activations.elu``)."""
    return ELU(alpha).forward(_as_float(x))


def tanh(x) -> np.ndarray:
    """Hyperbolic tangent (``keras.activations.tanh``)."""
    return np.tanh(_as_float(x))


def hard_sigmoid(x) -> np.ndarray:
    """relu6(x + 3) / 6 (``keras.activations.hard_sigmoid``, Keras 3)."""
    return HardSigmoid().forward(_as_float(x))


def selu(x) -> np.ndarray:
    """Scaled ELU (``keras.activations.selu``)."""
    return SELU().forward(_as_float(x))


def gelu(x, approximate: bool = False) -> np.ndarray:
    """x Φ(x) (``keras.activations.gelu``; ``approximate=True``: the tanh form)."""
    return GELU(approximate).forward(_as_float(x))


def silu(x) -> np.ndarray:
    """x σ(x) (``keras.activations.silu``, also ``swish``)."""
    return SiLU().forward(_as_float(x))


swish = silu


def softplus(x) -> np.ndarray:
    """log(1 + eˣ) (``keras.activations.softplus``)."""
    return Softplus().forward(_as_float(x))


def softsign(x) -> np.ndarray:
    """x / (1 + |x|) (``keras.activations.softsign``)."""
    return Softsign().forward(_as_float(x))


def relu6(x) -> np.ndarray:
    """min(max(x, 0), 6) (``keras.activations.relu6``)."""
    return ReLU6().forward(_as_float(x))


def exponential(x) -> np.ndarray:
    """eˣ (``keras.activations.exponential``)."""
    return np.exp(_as_float(x))


def mish(x) -> np.ndarray:
    """x tanh(softplus(x)) (``keras.activations.mish``)."""
    return Mish().forward(_as_float(x))


# ``sigmoid`` and ``softmax`` above are Keras' functions already. Passed as ``activation=``,
# each function stands for its class (a plain function has no backward).
_FUNCTIONS = {linear: "linear", relu: "relu", leaky_relu: "leaky_relu", elu: "elu", tanh: "tanh",
              sigmoid: "sigmoid", softmax: "softmax", hard_sigmoid: "hard_sigmoid", selu: "selu", gelu: "gelu",
              silu: "silu", softplus: "softplus", softsign: "softsign", relu6: "relu6", exponential: "exponential",
              mish: "mish"}


def get(identifier) -> ActivationFunction:
    """A fresh activation object from a name, a serialized dict, None (linear), an instance or
    one of this module's functions (``activation=gn.activations.relu``, as in Keras)."""
    if identifier is None:
        return Linear()
    if callable(identifier) and not isinstance(identifier, type) and identifier in _FUNCTIONS:
        return deserialize("activation", _FUNCTIONS[identifier])
    if isinstance(identifier, ActivationFunction):
        return type(identifier).from_config(identifier.get_config())
    if isinstance(identifier, (str, dict)):
        return deserialize("activation", identifier)
    raise TypeError(
        f"activation must be a name such as 'relu', a dict, an ActivationFunction or one of "
        f"gn.activations' functions (a function of your own has no backward: subclass "
        f"ActivationFunction); "
        f"got {type(identifier).__name__}. Valid names: {', '.join(sorted(registered('activation')))}."
    )


def serialize(fn: ActivationFunction):
    """The shortest faithful form: a plain name when the config is the default.

    Only the classes of this module (each registered under its ``name``) are written by name. A
    class of your own, or a subclass of one of these, inherits a ``name`` that would load as
    another class, so it is written as ``{"class_name": ..., "config": ...}`` and loads through
    ``custom_objects``.
    """
    if type(fn).__module__ == __name__ and fn.get_config() == type(fn)().get_config():
        return fn.name
    return _registry_serialize(fn)
