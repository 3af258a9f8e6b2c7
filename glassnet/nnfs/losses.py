"""The book's losses: glassnet losses with ``calculate`` / ``backward`` and the book's gradients."""

from __future__ import annotations

import numpy as np

from glassnet import losses
from glassnet._registry import register
from glassnet.activations import softmax
from glassnet.nnfs.layers import Activation_Softmax
from glassnet.utils import to_categorical


class _BookLoss:
    """The book's loss protocol: ``calculate(output, y)``, ``backward(dvalues, y)`` -> ``.dinputs``."""

    def _book_targets(self, output, y):
        # float64 targets stay float64 (sine_data's): the book's gradient then is float64 too.
        y, dtype = np.asarray(y), np.asarray(output).dtype
        dtype = np.result_type(y.dtype, dtype) if y.dtype.kind == "f" else dtype
        return y.astype(dtype).reshape(np.shape(output))

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
