"""The NNFS book's names ("Neural Networks from Scratch in Python") on glassnet's engine.

A reader's chapter code runs with ``from glassnet.nnfs import *`` in place of the classes the
book builds: each class here is a glassnet class under the book's name and constructor, plus
the book's attribute protocol (``forward`` also sets ``.output``, ``backward`` sets
``.dinputs``, ``.weights``/``.dweights`` ...) so the early chapters' hand-written loops work
too. There is no second engine here: the model, its training loop and the layers are glassnet's.
Where the book's code rounds the same maths in another order (the dense products, the
optimizers' steps, the fused softmax step), the class here computes in the book's order, so
runs give the book's figures to the last bit.

As in the book, ``init()`` seeds NumPy's global generator, and the data (``spiral_data``,
``vertical_data``) and the dense layers' weights are drawn from it in the order the program
asks for them, so a chapter's numbers follow from the same draws as with the
``nnfs`` package. ``init()`` patches nothing in NumPy: the book's layers compute their products
the way the package's patched ``np.dot`` does (in float64, rounded to float32) on their own.
``Model.save`` writes glassnet's safe file format instead of a pickle.

Example:
    >>> from glassnet.nnfs import *
    >>> init()
    >>> X, y = spiral_data(samples=100, classes=3)
    >>> model = Model()
    >>> model.add(Layer_Dense(2, 64))
    >>> model.add(Activation_ReLU())
    >>> model.add(Layer_Dense(64, 3))
    >>> model.add(Activation_Softmax())
    >>> model.set(loss=Loss_CategoricalCrossentropy(), optimizer=Optimizer_Adam(learning_rate=0.05, decay=5e-7),
    ...           accuracy=Accuracy_Categorical())
    >>> model.finalize()
    >>> history = model.train(X, y, epochs=10, print_every=100)
"""

from __future__ import annotations

import numpy as np

from glassnet import activations, layers, losses, metrics, optimizers, regularizers
from glassnet._registry import register
from glassnet.activations import softmax
from glassnet.callbacks import Callback
from glassnet.models import Sequential, training
from glassnet.utils import to_categorical

__all__ = ["Accuracy_Categorical", "Accuracy_Regression", "Activation_Linear", "Activation_ReLU",
           "Activation_Sigmoid", "Activation_Softmax", "Activation_Softmax_Loss_CategoricalCrossentropy",
           "Layer_Dense", "Layer_Dropout", "Loss_BinaryCrossentropy", "Loss_CategoricalCrossentropy",
           "Loss_MeanAbsoluteError", "Loss_MeanSquaredError", "Model", "Optimizer_Adagrad", "Optimizer_Adam",
           "Optimizer_RMSprop", "Optimizer_SGD", "init", "sine_data", "spiral_data", "vertical_data"]


# -- nnfs.init() and the package's data -------------------------------------------------------------
def init(dot_precision_workaround: bool = True, default_dtype: str = "float32", random_seed: int | None = 0):
    """The ``nnfs.init()`` of the book: seed NumPy's global generator (0 by default).

    The package also patches NumPy for the whole process: ``np.dot`` computes in float64 and
    returns float32 (so results agree between machines) and ``np.zeros``/``np.random.randn``
    return float32. glassnet changes nothing in NumPy: the book's classes here already work in
    float32 and ``Layer_Dense`` computes its products that way itself, and the data functions
    below return what the package's return after its ``init()``. Only the defaults are accepted
    for the first two arguments, since there is nothing to switch off.

    Args:
        dot_precision_workaround: must be True (the book's layers always compute that way).
        default_dtype: must be "float32".
        random_seed: the seed for ``np.random.seed``; None leaves the generator as it is.
    """
    if dot_precision_workaround is not True or default_dtype != "float32":
        raise ValueError("glassnet.nnfs.init() supports only dot_precision_workaround=True and "
                         "default_dtype='float32' (the book's settings); call init() without them.")
    if random_seed is not None:
        np.random.seed(random_seed)


def spiral_data(samples: int, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """The book's spiral, drawn from NumPy's global generator: each call draws new points.

    Equal, value for value, to ``nnfs.datasets.spiral_data`` after ``nnfs.init()`` from the same
    generator state. For a seeded copy that leaves global state alone, use
    ``glassnet.datasets.spiral_data(seed=...)``.

    Shapes:
        X: (samples * classes, 2) float32; y: (samples * classes,) uint8.
    """
    _check_counts(samples, classes)
    X = np.zeros((samples * classes, 2), dtype=np.float32)
    y = np.repeat(np.arange(classes, dtype=np.uint8), samples)
    r = np.linspace(0.0, 1.0, samples)
    for c in range(classes):
        # The noise rounded to float32 first: the package's patched randn returns float32.
        t = np.linspace(c * 4, (c + 1) * 4, samples) + _randn(samples) * 0.2
        X[c * samples:(c + 1) * samples] = np.column_stack([r * np.sin(t * 2.5), r * np.cos(t * 2.5)])
    return X, y


def vertical_data(samples: int, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """The book's vertical clusters (class c around x = c / 3, y = 0.5, spread 0.1), drawn from
    NumPy's global generator like ``nnfs.datasets.vertical_data`` after ``nnfs.init()``.

    Shapes:
        X: (samples * classes, 2) float32; y: (samples * classes,) uint8.
    """
    _check_counts(samples, classes)
    X = np.zeros((samples * classes, 2), dtype=np.float32)
    y = np.repeat(np.arange(classes, dtype=np.uint8), samples)
    for c in range(classes):
        column_x = _randn(samples) * 0.1 + c / 3  # drawn before column_y, as the package does
        column_y = _randn(samples) * 0.1 + 0.5
        X[c * samples:(c + 1) * samples] = np.column_stack([column_x, column_y])
    return X, y


def sine_data(samples: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """The book's sine: x = i / samples, y = sin(2π x), both (samples, 1) float64 as the package's."""
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples <= 1:
        raise ValueError(f"sine_data: samples must be an integer > 1; got {samples!r}.")
    X = np.arange(samples).reshape(-1, 1) / samples
    return X, np.sin(2 * np.pi * X)


def _randn(*shape) -> np.ndarray:
    return np.random.randn(*shape).astype(np.float32)


def _check_counts(samples, classes) -> None:
    for arg, value in (("samples", samples), ("classes", classes)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(f"{arg} must be a positive integer; got {value!r}.")


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` the way the package's patched ``np.dot`` computes it: float64 sums rounded to
    float32, so the result does not depend on the BLAS build (numpy/numpy#15591). float64
    layers (gradient checks) keep float64."""
    if a.dtype == np.float64 and b.dtype == np.float64:
        return a @ b
    return (a.astype(np.float64) @ b.astype(np.float64)).astype(np.float32)


# -- layers -----------------------------------------------------------------------------------------
class _BookLayer:
    """The book's protocol on glassnet layers: results also land in ``.output`` / ``.dinputs``."""

    def forward(self, inputs, training=False):
        inputs = np.asarray(inputs)
        if not self.built:
            self.build((None, *inputs.shape[1:]))
        self.output = super().forward(inputs, training)
        return self.output

    def backward(self, dvalues):
        self.dinputs = super().backward(dvalues)
        return self.dinputs


@register("layer")
class Layer_Dense(_BookLayer, layers.Dense):
    """The book's dense layer: weights ``weight_scale`` · N(0, 1), biases 0, optional L1/L2 penalties.

    The weights are drawn when the layer is made, from NumPy's global generator, as the book's
    ``0.01 * np.random.randn(n_inputs, n_neurons)`` does: after ``init()`` they are the book's
    numbers. Products are computed in float64 and rounded to float32, as under ``nnfs.init()``.

    Args:
        n_inputs: inputs per sample (checked against the previous layer).
        n_neurons: units.
        weight_regularizer_l1 / _l2, bias_regularizer_l1 / _l2: penalty factors.
        weight_scale: the factor on N(0, 1). The book uses 0.01, except the regression chapter
            (17), which changes its class to 0.1: pass ``weight_scale=0.1`` there (and wherever
            you changed the number in your own copy of the class).

    Math: forward y = x W + b; backward dW = xᵀ g, db = Σ g, dx = g Wᵀ.
    """

    def __init__(self, n_inputs: int, n_neurons: int, weight_regularizer_l1: float = 0,
                 weight_regularizer_l2: float = 0, bias_regularizer_l1: float = 0,
                 bias_regularizer_l2: float = 0, weight_scale: float = 0.01, **kwargs):
        super().__init__(n_neurons, kernel_initializer="zeros",
                         kernel_regularizer=_penalty(weight_regularizer_l1, weight_regularizer_l2),
                         bias_regularizer=_penalty(bias_regularizer_l1, bias_regularizer_l2), **kwargs)
        self.n_inputs = int(n_inputs)
        # float32 draws times the scale in float32: the package's patched randn returns float32.
        self._initial_weights = _randn(self.n_inputs, self.units) * np.float32(weight_scale)
        self._book_args = {"n_inputs": self.n_inputs, "n_neurons": self.units,
                           "weight_regularizer_l1": weight_regularizer_l1,
                           "weight_regularizer_l2": weight_regularizer_l2,
                           "bias_regularizer_l1": bias_regularizer_l1, "bias_regularizer_l2": bias_regularizer_l2,
                           "weight_scale": weight_scale}

    def build(self, input_shape):
        if input_shape[-1] != self.n_inputs:
            raise ValueError(f"Layer_Dense({self.n_inputs}, {self.units}) expects {self.n_inputs} inputs "
                             f"per sample but receives {input_shape[-1]}; set n_inputs to the previous "
                             f"layer's n_neurons (or the number of features).")
        super().build(input_shape)
        self.params["kernel"][...] = self._initial_weights  # in place: params may be views of one buffer

    def forward_logits(self, x, training=False):
        self._x = x
        return _dot(x, self.params["kernel"]) + self.params["bias"]  # (N, D) @ (D, U) -> (N, U)

    def backward_logits(self, grad):
        # Gradients are written in place: parameters and gradients may be views of one buffer.
        self.grads["kernel"][...] = _dot(self._x.T, grad)  # (D, N) @ (N, U) -> (D, U)
        self.grads["bias"][...] = grad.sum(axis=0)
        return _dot(grad, self.params["kernel"].T)  # (N, U) @ (U, D) -> (N, D)

    def backward(self, dvalues):
        # The book adds the penalties' gradients in the layer's own backward, so hand-written
        # loops get them; the model's separate pass (below) is then skipped so they count once.
        dinputs = super().backward(dvalues)
        layers.Dense.add_regularization_grads(self)
        return dinputs

    def add_regularization_grads(self):
        """Done in ``backward`` already, as in the book."""

    # The book's attribute names, as views of glassnet's params and grads. The book's weights
    # exist from the start (chapter 6 assigns new ones before any forward), so reading or
    # assigning them builds the layer.
    def _built_params(self) -> dict:
        if not self.built:
            self.build((None, self.n_inputs))
        return self.params

    @property
    def weights(self):
        return self._built_params()["kernel"]

    @weights.setter
    def weights(self, value):
        self._built_params()["kernel"][...] = value

    @property
    def biases(self):
        return self._built_params()["bias"].reshape(1, -1)

    @biases.setter
    def biases(self, value):
        self._built_params()["bias"][...] = np.reshape(value, -1)

    dweights = property(lambda self: self.grads["kernel"])
    dbiases = property(lambda self: self.grads["bias"].reshape(1, -1))

    def get_parameters(self):
        return self.weights, self.biases

    def set_parameters(self, weights, biases):
        if not self.built:
            self.build((None, self.n_inputs))
        self.set_weights([np.asarray(weights), np.asarray(biases).reshape(-1)])

    def get_config(self):
        return {**layers.Layer.get_config(self), **self._book_args}


def _penalty(l1: float, l2: float):
    return regularizers.L1L2(l1=l1, l2=l2) if (l1 or l2) else None


@register("layer")
class Layer_Dropout(_BookLayer, layers.Dropout):
    """The book's dropout: ``rate`` is the share of units DROPPED (``Layer_Dropout(0.1)`` keeps 90%).

    The book stores the keep share ``1 - rate`` internally; glassnet's ``Dropout(rate)`` takes the
    same drop share, so the argument passes straight through. The masks come from the model's
    seeded generator (a saved model resumes with the same draws), not from NumPy's global one
    as in the book: a chapter with dropout trains to nearby figures, not the book's digits.
    """

    def __init__(self, rate: float, **kwargs):
        super().__init__(rate, **kwargs)


class _BookActivation(_BookLayer, layers.Activation):
    function = "linear"

    def __init__(self, **kwargs):
        super().__init__(self.function, **kwargs)

    def predictions(self, outputs):
        return outputs

    def get_config(self):
        return layers.Layer.get_config(self)


@register("layer")
class Activation_ReLU(_BookActivation):
    function = "relu"


@register("layer")
class Activation_Softmax(_BookActivation):
    function = "softmax"

    def predictions(self, outputs):
        return np.argmax(outputs, axis=1)


class _BookSigmoid(activations.Sigmoid):
    """The book's sigmoid, 1 / (1 + e⁻ˣ), and its backward g · (1 - y) · y, in the book's order
    (glassnet's overflow-safe form rounds differently for x < 0). e⁻ˣ is capped below the
    dtype's overflow, where the book's gives 0 with an overflow warning and this a subnormal."""

    def forward(self, x):
        limit = np.log(np.finfo(x.dtype).max)
        self._y = 1 / (1 + np.exp(np.minimum(-x, limit)))
        return self._y

    def backward(self, grad):
        return grad * (1 - self._y) * self._y


@register("layer")
class Activation_Sigmoid(_BookActivation):
    function = _BookSigmoid()

    def predictions(self, outputs):
        return (outputs > 0.5) * 1


@register("layer")
class Activation_Linear(_BookActivation):
    function = "linear"


# -- losses ------------------------------------------------------------------------------------------
class _BookLoss:
    """The book's loss protocol: ``calculate(output, y)``, ``backward(dvalues, y)`` -> ``.dinputs``."""

    def _book_targets(self, output, y):
        return np.asarray(y, dtype=np.asarray(output).dtype).reshape(np.shape(output))

    def calculate(self, output, y, *, include_regularization=False, layers=()):
        output = np.asarray(output)
        # The mean of the per-sample losses in their own dtype, as the book's np.mean gives it.
        data_loss = np.mean(self.call(self.conform(self._book_targets(output, y), output), output))
        if not include_regularization:
            return data_loss
        return data_loss, sum(self.regularization_loss(layer) for layer in layers)

    def regularization_loss(self, layer):
        return layer.regularization_loss()

    def backward(self, dvalues, y_true):
        dvalues = np.asarray(dvalues)
        self.dinputs = self.book_gradient(self._book_targets(dvalues, y_true), dvalues)
        return self.dinputs

    def book_gradient(self, y, output):
        """dL/d(output) of the batch mean, rounded as the book's ``backward`` rounds it."""
        return self.gradient(y, output)

    def value_and_gradient(self, y_true, y_pred, sample_weight=None):
        # The model's training step: the book's gradient too, unless weighted (not in the book).
        if sample_weight is not None or getattr(self, "from_logits", False):
            return super().value_and_gradient(y_true, y_pred, sample_weight)
        y = self.conform(y_true, y_pred)
        return float(np.mean(self.call(y, y_pred), dtype=np.float64)), self.book_gradient(y, y_pred)


@register("loss")
class Loss_CategoricalCrossentropy(_BookLoss, losses.CategoricalCrossentropy):
    """Categorical cross-entropy taking integer labels or one-hot rows, as the book's does."""

    def _book_targets(self, output, y):
        y = np.asarray(y)
        if y.ndim == 1:
            y = to_categorical(y, np.shape(output)[-1], dtype=np.asarray(output).dtype)
        return y

    def validate_targets(self, y, output_shape):
        y = np.asarray(y)
        if y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1 and output_shape[-1] != 1):
            y = to_categorical(y, output_shape[-1])
        return super().validate_targets(y, output_shape)

    def value_and_gradient(self, y_true, y_pred, sample_weight=None):
        """After a softmax, the model trains on the logits (``from_logits``): the book's fused
        step, p = softmax(z) and dL/dz = (p - y) / N, rounded as the book's code rounds it
        (glassnet's own fused form goes through log-softmax and multiplies by 1/N)."""
        if not self.from_logits or sample_weight is not None:
            return super().value_and_gradient(y_true, y_pred, sample_weight)
        y_true = self.conform(y_true, y_pred)
        p = softmax(y_pred)
        values = -np.log(np.clip((y_true * p).sum(axis=-1), losses.EPSILON, 1 - losses.EPSILON))
        return float(np.mean(values, dtype=np.float64)), (p - y_true) / len(p)


@register("loss")
class Loss_BinaryCrossentropy(_BookLoss, losses.BinaryCrossentropy):
    """Binary cross-entropy as the book computes it: after ``Activation_Sigmoid``, not fused with it.

    Math: dL/dp = -(y / p - (1 - y) / (1 - p)) / K / N, p clipped to [1e-7, 1 - 1e-7].
    """

    fuses_with = None  # the book back-propagates through the sigmoid itself

    def book_gradient(self, y, output):
        clipped = np.clip(output, losses.EPSILON, 1 - losses.EPSILON)
        return -(y / clipped - (1 - y) / (1 - clipped)) / output.shape[-1] / len(output)


@register("loss")
class Loss_MeanSquaredError(_BookLoss, losses.MeanSquaredError):
    """Mean squared error; Math: dL/dŷ = -2 (y - ŷ) / K / N, in the book's order."""

    def book_gradient(self, y, output):
        return -2 * (y - output) / output.shape[-1] / len(output)


@register("loss")
class Loss_MeanAbsoluteError(_BookLoss, losses.MeanAbsoluteError):
    """Mean absolute error; Math: dL/dŷ = -sign(y - ŷ) / K / N."""

    def book_gradient(self, y, output):
        return -np.sign(y - output) / output.shape[-1] / len(output)


class Activation_Softmax_Loss_CategoricalCrossentropy:
    """The book's fused softmax + cross-entropy for hand-written loops.

    ``forward(inputs, y_true)`` sets ``.output`` (the probabilities) and returns the mean loss;
    ``backward(dvalues, y_true)`` sets ``.dinputs = (p - y) / N``, the gradient on the logits.
    """

    def __init__(self):
        self.activation = Activation_Softmax()
        self.loss = Loss_CategoricalCrossentropy()

    def forward(self, inputs, y_true):
        self.output = self.activation.forward(inputs)
        return self.loss.calculate(self.output, y_true)

    def backward(self, dvalues, y_true):
        dvalues = np.asarray(dvalues)
        y = self.loss._book_targets(dvalues, y_true)
        self.dinputs = (dvalues - y) / dvalues.shape[0]
        return self.dinputs


# -- optimizers --------------------------------------------------------------------------------------
class _BookOptimizer:
    """The book's loop protocol: ``pre_update_params``, ``update_params(layer)``, ``post_update_params``."""

    book_args: tuple = ()

    def pre_update_params(self):
        """Nothing to do: ``current_learning_rate`` already applies the decay for this step."""

    def update_params(self, layer):
        lr = self.current_learning_rate
        for key, param in layer.params.items():
            self.update_step(f"{layer.name}/{key}", param, layer.grads[key], lr)

    def post_update_params(self):
        self.iterations += 1

    def get_config(self):
        config = super().get_config()
        return {k: config[k] for k in self.book_args}


@register("optimizer")
class Optimizer_SGD(_BookOptimizer, optimizers.SGD):
    """The book's SGD. Its momentum keeps the update itself, u ← μu - lr·g; θ ← θ + u, which
    differs from glassnet's (PyTorch's) b ← μb + g; θ ← θ - lr·b once the rate decays."""

    book_args = ("learning_rate", "decay", "momentum")

    def __init__(self, learning_rate=1.0, decay=0.0, momentum=0.0):
        super().__init__(learning_rate, momentum=momentum, decay=decay)

    def update_step(self, key, param, grad, lr):
        if not self.momentum:
            param += -lr * grad
            return
        u = self.slot(key, "momentum", param)
        u *= self.momentum
        u -= lr * grad
        self.flush(u)
        param += u


@register("optimizer")
class Optimizer_Adagrad(_BookOptimizer, optimizers.Adagrad):
    """The book's Adagrad: glassnet's, with the accumulator starting at 0 (same arithmetic)."""

    book_args = ("learning_rate", "decay", "epsilon")

    def __init__(self, learning_rate=1.0, decay=0.0, epsilon=1e-7):
        super().__init__(learning_rate, initial_accumulator_value=0.0, epsilon=epsilon, decay=decay)


@register("optimizer")
class Optimizer_RMSprop(_BookOptimizer, optimizers.RMSprop):
    """The book's RMSprop, each product rounded in the book's order (so its figures come out).

    Math: c ← ρc + (1-ρ)g²;  θ ← θ - lr·g / (√c + ε).
    """

    book_args = ("learning_rate", "decay", "epsilon", "rho")

    def __init__(self, learning_rate=0.001, decay=0.0, epsilon=1e-7, rho=0.9):
        super().__init__(learning_rate, rho=rho, epsilon=epsilon, decay=decay)

    def update_step(self, key, param, grad, lr):
        c = self.slot(key, "square_avg", param)
        c *= self.rho
        c += (1 - self.rho) * grad**2
        self.flush(c, nonnegative=True)
        param += -lr * grad / (np.sqrt(c) + self.epsilon)


@register("optimizer")
class Optimizer_Adam(_BookOptimizer, optimizers.Adam):
    """The book's Adam, each product rounded in the book's order (glassnet's Adam folds both
    bias corrections into one step size: the same number in exact arithmetic, but rounding
    differences grow over a long run into different printed figures).

    Math: m ← β₁m + (1-β₁)g;  v ← β₂v + (1-β₂)g²;  θ ← θ - lr·m̂ / (√v̂ + ε),
    m̂ = m / (1-β₁ᵗ), v̂ = v / (1-β₂ᵗ).
    """

    book_args = ("learning_rate", "decay", "epsilon", "beta_1", "beta_2")

    def __init__(self, learning_rate=0.001, decay=0.0, epsilon=1e-7, beta_1=0.9, beta_2=0.999):
        super().__init__(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, decay=decay)

    def update_step(self, key, param, grad, lr):
        t = self.iterations + 1
        m = self.slot(key, "m", param)
        v = self.slot(key, "v", param)
        m *= self.beta_1
        m += (1 - self.beta_1) * grad
        self.flush(m)
        v *= self.beta_2
        v += (1 - self.beta_2) * grad**2
        self.flush(v, nonnegative=True)
        m_hat = m / (1 - self.beta_1**t)
        v_hat = v / (1 - self.beta_2**t)
        param += -lr * m_hat / (np.sqrt(v_hat) + self.epsilon)


# -- accuracy ----------------------------------------------------------------------------------------
class _BookAccuracy:
    #: the figure on the last batch the model measured (the book's step lines print it).
    batch_result = float("nan")

    def calculate(self, predictions, y):
        return float(np.mean(self.compare(np.asarray(predictions), np.asarray(y))))

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(y_true, y_pred, sample_weight)
        self.batch_result = float(np.mean(self.values(np.asarray(y_true), np.asarray(y_pred))))


@register("metric")
class Accuracy_Categorical(_BookAccuracy, metrics.Accuracy):
    """Share of correct classes; ``binary=True`` for sigmoid outputs compared with 0/1 labels."""

    def __init__(self, *, binary: bool = False, name: str | None = None):
        super().__init__(name or "acc")
        self.binary = bool(binary)

    def init(self, y):
        """Nothing to learn from the targets (the book's hook)."""

    def compare(self, predictions, y):
        if not self.binary and y.ndim == 2:
            y = np.argmax(y, axis=1)
        if y.size == predictions.size:  # (N,) targets meet (N, 1) predictions row by row
            y = y.reshape(predictions.shape)
        return predictions == y

    def get_config(self):
        return {"name": self.name, "binary": self.binary}


@register("metric")
class Accuracy_Regression(_BookAccuracy, metrics.RegressionAccuracy):
    """Share of predictions within std(y) / 250 of the target, the book's regression accuracy."""

    def __init__(self, name: str | None = None, adapted_tolerance: float | None = None):
        super().__init__(name or "acc", adapted_tolerance=adapted_tolerance)

    def init(self, y, reinit: bool = False):
        if self._adapted is None or reinit:
            self.adapt(y)

    def compare(self, predictions, y):
        return self.values(np.asarray(y), np.asarray(predictions)).astype(bool)

    def get_config(self):
        # The learned precision travels with a saved model, as RegressionAccuracy's does.
        return {"name": self.name, "adapted_tolerance": self._adapted}


# -- the model ---------------------------------------------------------------------------------------
class Model:
    """The book's model: ``add``, ``set``, ``finalize``, ``train``, ``evaluate``, ``predict``,
    ``save`` / ``load``, on a glassnet ``Sequential`` (``model.network``).

    Args:
        seed: seeds the glassnet layers you mix in; the book's layers draw from NumPy's global
            generator, as in the book (seed it with ``init()``).
    """

    def __init__(self, seed: int = 0):
        self.layers = []
        self.loss = self.optimizer = self.accuracy = None
        self.seed = seed
        self.network: Sequential | None = None
        #: the last layer, whose ``predictions(outputs)`` turns outputs into classes (set by finalize).
        self.output_layer_activation = None

    def add(self, layer):
        self.layers.append(layer)

    def set(self, *, loss=None, optimizer=None, accuracy=None):
        if loss is not None:
            self.loss = loss
        if optimizer is not None:
            self.optimizer = optimizer
        if accuracy is not None:
            self.accuracy = accuracy

    def finalize(self):
        """Assemble the glassnet model: build it from the first Layer_Dense's n_inputs, compile it."""
        previous = self.network
        self.network = Sequential(self.layers, seed=self.seed)
        self.output_layer_activation = self.layers[-1] if self.layers else None
        if previous is not None and self.optimizer is not None:
            # finalize again: the same layers in a new network, which takes the optimizer and
            # its state over (the book's model keeps training where it was).
            previous.optimizer = None
            training.hand_over_optimizer(self.optimizer, self.network)
        first = self.layers[0] if self.layers else None
        if isinstance(first, Layer_Dense) and not self.network.built:
            self.network.build((first.n_inputs,))
        if self.loss is not None:
            # Evaluating a loaded model needs no optimizer; plain SGD stands in, never stepping.
            self.network.compile(optimizer=self.optimizer or optimizers.SGD(),
                                 loss=self.loss, metrics=[self.accuracy] if self.accuracy else None)

    def _require_finalized(self, action):
        if self.network is None or not self.network.compiled:
            raise ValueError(f"Cannot {action}: call model.set(loss=..., optimizer=..., accuracy=...) "
                             f"and model.finalize() first.")

    def train(self, X, y, *, epochs: int = 1, batch_size: int | None = None, print_every: int = 1,
              validation_data=None):
        """Train as the book does: no shuffling, the whole set as one batch unless ``batch_size``.

        Prints what the book's code of the matching chapter prints:

        - without ``batch_size`` (chapter 18 before batches), ``epoch: N, acc: ..., loss: ...
          (data_loss: ..., reg_loss: ...), lr: ...`` every ``print_every`` epochs, and the
          validation figures once at the end;
        - with ``batch_size`` (chapter 18's final code and later), per epoch ``epoch: N``, a
          ``step: S, ...`` line every ``print_every`` batch steps and on the last step, a
          ``training, ...`` summary, and ``validation, ...`` when ``validation_data`` is given.

        Returns the ``History``.
        """
        self._require_finalized("train")
        n = len(X)
        if batch_size is None:
            printer = _EpochPrinter(print_every)
        else:
            printer = _StepPrinter(print_every, -(-n // batch_size), self.accuracy,
                                   validate=validation_data is not None)
        history = self.network.fit(X, y, epochs=epochs, batch_size=batch_size or n, shuffle=False,
                                   validation_data=validation_data, verbose=0, callbacks=[printer])
        if validation_data is not None and batch_size is None:
            self.evaluate(*validation_data)
        return history

    def evaluate(self, X_val, y_val, *, batch_size: int | None = None):
        """Print and return the validation loss and accuracy."""
        self._require_finalized("evaluate")
        results = self.network.evaluate(X_val, y_val, batch_size=batch_size, verbose=0, return_dict=True)
        acc = results.get(self.accuracy.name, float("nan")) if self.accuracy else float("nan")
        # The book's validation loss is the data loss alone, without the penalties.
        loss = results["loss"] - training.regularization_loss(self.network)
        print(f"validation, acc: {acc:.3f}, loss: {loss:.3f}")
        return loss, acc

    def predict(self, X, *, batch_size: int | None = None):
        if self.network is None:
            raise ValueError("Cannot predict: call model.finalize() first.")
        return self.network.predict(X, batch_size=batch_size)

    def get_parameters(self):
        return [layer.get_parameters() for layer in self.layers if hasattr(layer, "get_parameters")]

    def set_parameters(self, parameters):
        trainable = [layer for layer in self.layers if hasattr(layer, "set_parameters")]
        for (weights, biases), layer in zip(parameters, trainable):
            layer.set_parameters(weights, biases)

    def save_parameters(self, path):
        self.network.save_weights(path)

    def load_parameters(self, path):
        self.network.load_weights(path)

    def save(self, path):
        """Save the whole model (architecture, weights, loss, optimizer, accuracy) in glassnet's format."""
        self.network.save(path)

    @staticmethod
    def load(path) -> "Model":
        from glassnet.saving import load_model

        network = load_model(path)
        model = Model(seed=network.seed)
        model.layers, model.network = list(network.layers), network
        model.loss, model.optimizer = network.loss, network.optimizer
        model.accuracy = network.metrics[0] if network.metrics else None
        model.output_layer_activation = model.layers[-1] if model.layers else None
        return model


def _figures(model, logs: dict, accuracy: float | None = None, prefix: str = "") -> str:
    """``acc: ..., loss: ... (data_loss: ..., reg_loss: ...), lr: ...`` as the book prints it.

    glassnet's losses include the penalties; the book's data loss is that minus the penalty
    at the current weights."""
    reg = training.regularization_loss(model)
    if accuracy is None:
        accuracy = next((v for k, v in logs.items()
                         if k not in ("loss", "learning_rate") and not k.startswith("val_")), float("nan"))
    return (f"{prefix}acc: {accuracy:.3f}, loss: {logs['loss']:.3f} (data_loss: {logs['loss'] - reg:.3f}, "
            f"reg_loss: {reg:.3f}), lr: {model.optimizer.current_learning_rate}")


class _EpochPrinter(Callback):
    """Chapter 18's first ``train``: a line every ``print_every`` epochs."""

    def __init__(self, print_every: int):
        super().__init__()
        self.print_every = int(print_every)

    def on_epoch_end(self, epoch, logs=None):
        if not (epoch + 1) % self.print_every:
            print(_figures(self.model, logs or {}, prefix=f"epoch: {epoch + 1}, "))


class _StepPrinter(Callback):
    """The book's batched ``train``: the epoch number, a line every ``print_every`` steps and on
    the last one, then the epoch's training (and validation) figures."""

    def __init__(self, print_every: int, steps: int, accuracy, validate: bool):
        super().__init__()
        self.print_every, self.steps = int(print_every), steps
        self.accuracy, self.validate = accuracy, validate

    def on_epoch_begin(self, epoch, logs=None):
        print(f"epoch: {epoch + 1}")

    def on_train_batch_end(self, batch, logs=None):
        if not batch % self.print_every or batch == self.steps - 1:
            acc = self.accuracy.batch_result if self.accuracy is not None else float("nan")
            print(_figures(self.model, logs or {}, accuracy=acc, prefix=f"step: {batch}, "))

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        print(_figures(self.model, logs, prefix="training, "))
        if self.validate:
            name = self.accuracy.name if self.accuracy is not None else None
            loss = logs["val_loss"] - training.regularization_loss(self.model)
            print(f"validation, acc: {logs.get(f'val_{name}', float('nan')):.3f}, loss: {loss:.3f}")
