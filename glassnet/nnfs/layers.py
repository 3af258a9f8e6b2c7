"""The book's layers and activations: glassnet layers with the book's constructors, attributes and rounding."""

from __future__ import annotations

import numpy as np

from glassnet import activations, backend, layers, regularizers
from glassnet._registry import register
from glassnet.nnfs.data import draw_normal


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` the way the package's patched ``np.dot`` computes it: float64 sums rounded to
    float32, so the result does not depend on the BLAS build (numpy/numpy#15591). float64
    layers (gradient checks) keep float64."""
    if a.dtype == np.float64 and b.dtype == np.float64:
        return a @ b
    return (a.astype(np.float64) @ b.astype(np.float64)).astype(np.float32)


class _BookLayer:
    """The book's protocol on glassnet layers: results also land in ``.output`` / ``.dinputs``."""

    # A plain attribute, as in the book: this shadows the base Layer's ``output`` property (the
    # tensor of a graph call), so ``self.output = ...`` below stores the last forward's result.
    output = None

    def forward(self, inputs, training=False):
        inputs = backend.asarray(inputs)  # a list, as the book passes, or a device array
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
        self._wide_grads: dict = {}  # see backward_logits
        # float32 draws times the scale in float32: the package's patched randn returns float32.
        self._initial_weights = draw_normal(self.n_inputs, self.units) * np.float32(weight_scale)
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
        bias = grad.sum(axis=0)
        self.grads["bias"][...] = bias
        # A float64 gradient (after the book's float64 dropout mask, or float64 targets) gives
        # the book a float64 bias gradient, and float64 optimizer state from it: kept here for
        # the book's optimizers (update_gradients), beside the rounded copy in grads.
        self._wide_grads = {} if bias.dtype == self.grads["bias"].dtype else {"bias": bias}
        return _dot(grad, self.params["kernel"].T)  # (N, U) @ (U, D) -> (N, D)

    def backward(self, dvalues):
        # The book adds the penalties' gradients in the layer's own backward, so hand-written
        # loops get them; the model's separate pass (below) is then skipped so they count once.
        dinputs = super().backward(dvalues)
        for key, reg in self.regularizers.items():
            grad = self.update_gradients()[key]
            _add_book_penalty_gradient(grad, self.params[key], reg.l1, reg.l2)
            if grad is not self.grads[key]:
                self.grads[key][...] = grad
        return dinputs

    def update_gradients(self) -> dict:
        """The gradients the book's optimizers step with: ``grads``, except a bias gradient the
        book's code holds in float64, which is kept in float64 here too."""
        return {**self.grads, **self._wide_grads}

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
    dbiases = property(lambda self: self.update_gradients()["bias"].reshape(1, -1))

    def get_parameters(self):
        return self.weights, self.biases

    def set_parameters(self, weights, biases):
        if not self.built:
            self.build((None, self.n_inputs))
        self.set_weights([np.asarray(weights), np.asarray(biases).reshape(-1)])

    def get_config(self):
        return {**layers.Layer.get_config(self), **self._book_args}


def _add_book_penalty_gradient(grad: np.ndarray, w: np.ndarray, l1: float, l2: float) -> None:
    """Add the penalties' gradient to ``grad`` in place, as the book's layer does: the L1 term
    first, with the derivative +1 at w = 0 (the book's ones, -1 where w < 0; glassnet's
    regularizers use sign(w), 0 there), then the L2 term 2·λ·w."""
    if l1:
        grad += l1 * np.where(w < 0, -1, 1).astype(w.dtype)
    if l2:
        grad += 2 * l2 * w


def _penalty(l1: float, l2: float):
    return regularizers.L1L2(l1=l1, l2=l2) if (l1 or l2) else None


@register("layer")
class Layer_Dropout(_BookLayer, layers.Dropout):
    """The book's dropout: ``rate`` is the share of units DROPPED (``Layer_Dropout(0.1)`` keeps 90%).

    The book stores the keep share ``1 - rate`` internally; glassnet's ``Dropout(rate)`` takes the
    same drop share, so the argument passes straight through.

    As in the book, the masks come from NumPy's global generator (``np.random.binomial``), in
    the order the program asks for them, so after ``init()`` a chapter draws the book's masks,
    in a hand-written loop and in ``Model.train`` alike. (glassnet's own ``Dropout`` draws from
    the model's seeded generator instead.) A saved model therefore resumes with the same masks
    only from the same state of that generator, as the book's code would. Called by hand,
    ``forward(inputs)`` drops, as the class of the book's dropout chapter always does; a model
    passes ``training`` itself.

    Shapes:
        x: (N, ...) -> y: same shape; float64 while training, as the book's float64 mask makes it.

    Math:
        forward y = x ⊙ m / (1 - rate), m ~ Bernoulli(1 - rate); backward dx = grad ⊙ m / (1 - rate).
    """

    def __init__(self, rate: float, **kwargs):
        super().__init__(rate, **kwargs)

    def forward(self, inputs, training=True):
        inputs = backend.asarray(inputs)  # a list, as the book passes, or a device array
        if not self.built:
            self.build((None, *inputs.shape[1:]))
        if not training:
            self._mask = None
            self.output = inputs
            return inputs
        keep = 1 - self.rate
        # An int64 draw divided by a float: a float64 mask, and a float64 output, as in the book.
        self._mask = backend.drawn_on_host(np.random.binomial(1, keep, size=inputs.shape) / keep, inputs)
        self.output = inputs * self._mask
        return self.output


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


class BookSigmoid(activations.Sigmoid):
    """The book's sigmoid, 1 / (1 + e⁻ˣ), and its backward g · (1 - y) · y, in the book's order
    (glassnet's overflow-safe form rounds differently for x < 0). e⁻ˣ is capped at the dtype's
    largest value / e, so below x ≈ -87.7 (float32) the output stays near 8e-39 where the
    book's shrinks on and, below -88.7, reaches 0 with an overflow warning."""

    def forward(self, x):
        limit = np.log(np.finfo(x.dtype).max) - 1  # e^limit = max / e: no rounding past the top
        self._y = 1 / (1 + np.exp(np.minimum(-x, limit)))
        return self._y

    def backward(self, grad):
        return grad * (1 - self._y) * self._y


@register("layer")
class Activation_Sigmoid(_BookActivation):
    function = BookSigmoid()

    def predictions(self, outputs):
        return (outputs > 0.5) * 1


@register("layer")
class Activation_Linear(_BookActivation):
    function = "linear"
