"""The NNFS book's names ("Neural Networks from Scratch in Python") on glassnet's engine.

A reader's chapter code runs with ``from glassnet.nnfs import *`` in place of the classes the
book builds: each class here is a glassnet class under the book's name and constructor, plus
the book's attribute protocol (``forward`` also sets ``.output``, ``backward`` sets
``.dinputs``, ``.weights``/``.dweights`` ...) so the early chapters' hand-written loops work
too. There is no second engine here: every formula is glassnet's. Two differences: randomness
comes from a seed (``Model(seed=0)``; layers used alone draw from a fixed generator) instead of
``nnfs.init()``, and ``Model.save`` writes glassnet's safe file format instead of a pickle.

Example:
    >>> from glassnet.nnfs import *
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

from glassnet import initializers, layers, losses, metrics, optimizers, regularizers
from glassnet._registry import register
from glassnet.callbacks import Callback
from glassnet.datasets import sine_data, spiral_data
from glassnet.models import Sequential, training
from glassnet.utils import to_categorical

__all__ = ["Accuracy_Categorical", "Accuracy_Regression", "Activation_Linear", "Activation_ReLU",
           "Activation_Sigmoid", "Activation_Softmax", "Activation_Softmax_Loss_CategoricalCrossentropy",
           "Layer_Dense", "Layer_Dropout", "Loss_BinaryCrossentropy", "Loss_CategoricalCrossentropy",
           "Loss_MeanAbsoluteError", "Loss_MeanSquaredError", "Model", "Optimizer_Adagrad", "Optimizer_Adam",
           "Optimizer_RMSprop", "Optimizer_SGD", "sine_data", "spiral_data"]


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
    """The book's dense layer: weights 0.01 · N(0, 1), biases 0, optional L1/L2 penalties.

    Args:
        n_inputs: inputs per sample (checked against the previous layer).
        n_neurons: units.
        weight_regularizer_l1 / _l2, bias_regularizer_l1 / _l2: penalty factors.
    """

    def __init__(self, n_inputs: int, n_neurons: int, weight_regularizer_l1: float = 0,
                 weight_regularizer_l2: float = 0, bias_regularizer_l1: float = 0,
                 bias_regularizer_l2: float = 0, **kwargs):
        super().__init__(n_neurons, kernel_initializer=initializers.RandomNormal(stddev=0.01),
                         kernel_regularizer=_penalty(weight_regularizer_l1, weight_regularizer_l2),
                         bias_regularizer=_penalty(bias_regularizer_l1, bias_regularizer_l2), **kwargs)
        self.n_inputs = int(n_inputs)
        self._book_args = {"n_inputs": self.n_inputs, "n_neurons": self.units,
                           "weight_regularizer_l1": weight_regularizer_l1,
                           "weight_regularizer_l2": weight_regularizer_l2,
                           "bias_regularizer_l1": bias_regularizer_l1, "bias_regularizer_l2": bias_regularizer_l2}

    def build(self, input_shape):
        if input_shape[-1] != self.n_inputs:
            raise ValueError(f"Layer_Dense({self.n_inputs}, {self.units}) expects {self.n_inputs} inputs "
                             f"per sample but receives {input_shape[-1]}; set n_inputs to the previous "
                             f"layer's n_neurons (or the number of features).")
        super().build(input_shape)

    def backward(self, dvalues):
        # The book adds the penalties' gradients in the layer's own backward, so hand-written
        # loops get them; the model's separate pass (below) is then skipped so they count once.
        dinputs = super().backward(dvalues)
        layers.Dense.add_regularization_grads(self)
        return dinputs

    def add_regularization_grads(self):
        """Done in ``backward`` already, as in the book."""

    # The book's attribute names, as views of glassnet's params and grads.
    weights = property(lambda self: self.params["kernel"])
    biases = property(lambda self: self.params["bias"].reshape(1, -1))
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
    same drop share, so the argument passes straight through.
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


@register("layer")
class Activation_Sigmoid(_BookActivation):
    function = "sigmoid"

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
        data_loss = self(self._book_targets(output, y), np.asarray(output))
        if not include_regularization:
            return data_loss
        return data_loss, sum(self.regularization_loss(layer) for layer in layers)

    def regularization_loss(self, layer):
        return layer.regularization_loss()

    def backward(self, dvalues, y_true):
        self.dinputs = self.gradient(self._book_targets(dvalues, y_true), np.asarray(dvalues))
        return self.dinputs


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


@register("loss")
class Loss_BinaryCrossentropy(_BookLoss, losses.BinaryCrossentropy):
    pass


@register("loss")
class Loss_MeanSquaredError(_BookLoss, losses.MeanSquaredError):
    pass


@register("loss")
class Loss_MeanAbsoluteError(_BookLoss, losses.MeanAbsoluteError):
    pass


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
    book_args = ("learning_rate", "decay", "momentum")

    def __init__(self, learning_rate=1.0, decay=0.0, momentum=0.0):
        super().__init__(learning_rate, momentum=momentum, decay=decay)


@register("optimizer")
class Optimizer_Adagrad(_BookOptimizer, optimizers.Adagrad):
    book_args = ("learning_rate", "decay", "epsilon")

    def __init__(self, learning_rate=1.0, decay=0.0, epsilon=1e-7):
        super().__init__(learning_rate, initial_accumulator_value=0.0, epsilon=epsilon, decay=decay)


@register("optimizer")
class Optimizer_RMSprop(_BookOptimizer, optimizers.RMSprop):
    book_args = ("learning_rate", "decay", "epsilon", "rho")

    def __init__(self, learning_rate=0.001, decay=0.0, epsilon=1e-7, rho=0.9):
        super().__init__(learning_rate, rho=rho, epsilon=epsilon, decay=decay)


@register("optimizer")
class Optimizer_Adam(_BookOptimizer, optimizers.Adam):
    book_args = ("learning_rate", "decay", "epsilon", "beta_1", "beta_2")

    def __init__(self, learning_rate=0.001, decay=0.0, epsilon=1e-7, beta_1=0.9, beta_2=0.999):
        super().__init__(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, decay=decay)


# -- accuracy ----------------------------------------------------------------------------------------
class _BookAccuracy:
    def calculate(self, predictions, y):
        return float(np.mean(self.compare(np.asarray(predictions), np.asarray(y))))


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
        seed: seeds initialisation and dropout (the book's ``nnfs.init()`` seeds with 0 too).
    """

    def __init__(self, seed: int = 0):
        self.layers = []
        self.loss = self.optimizer = self.accuracy = None
        self.seed = seed
        self.network: Sequential | None = None

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

        Prints ``epoch: N, acc: ..., loss: ... (data_loss: ..., reg_loss: ...), lr: ...`` every
        ``print_every`` epochs and the validation figures at the end. Returns the ``History``.
        """
        self._require_finalized("train")
        n = len(X)
        history = self.network.fit(X, y, epochs=epochs, batch_size=batch_size or n, shuffle=False,
                                   validation_data=validation_data, verbose=0,
                                   callbacks=[_BookPrinter(print_every)])
        if validation_data is not None:
            self.evaluate(*validation_data, batch_size=batch_size)
        return history

    def evaluate(self, X_val, y_val, *, batch_size: int | None = None):
        """Print and return the validation loss and accuracy."""
        self._require_finalized("evaluate")
        results = self.network.evaluate(X_val, y_val, batch_size=batch_size, return_dict=True)
        acc = results.get(self.accuracy.name, float("nan")) if self.accuracy else float("nan")
        print(f"validation, acc: {acc:.3f}, loss: {results['loss']:.3f}")
        return results["loss"], acc

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
        return model


class _BookPrinter(Callback):
    """Print the book's epoch line every ``print_every`` epochs."""

    def __init__(self, print_every: int):
        super().__init__()
        self.print_every = int(print_every)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.print_every:
            return
        logs = logs or {}
        reg = training.regularization_loss(self.model)
        acc = next((v for k, v in logs.items() if k not in ("loss", "learning_rate") and not k.startswith("val_")),
                   float("nan"))
        print(f"epoch: {epoch + 1}, acc: {acc:.3f}, loss: {logs['loss']:.3f} (data_loss: "
              f"{logs['loss'] - reg:.3f}, reg_loss: {reg:.3f}), lr: {self.model.optimizer.current_learning_rate}")
