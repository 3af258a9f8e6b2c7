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


# ``sigmoid`` and ``softmax`` above are Keras' functions already. Passed as ``activation=``,
# each function stands for its class (a plain function has no backward).
_FUNCTIONS = {linear: "linear", relu: "relu", leaky_relu: "leaky_relu", elu: "elu", tanh: "tanh",
              sigmoid: "sigmoid", softmax: "softmax", hard_sigmoid: "hard_sigmoid"}


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
