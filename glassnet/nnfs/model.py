"""The book's ``Model`` on a glassnet ``Sequential``, and the lines its ``train`` prints."""

from __future__ import annotations

from glassnet import optimizers
from glassnet.callbacks import Callback
from glassnet.models import Sequential, ownership, training
from glassnet.nnfs.layers import Layer_Dense


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
            ownership.hand_over_optimizer(self.optimizer, self.network)
        first = self.layers[0] if self.layers else None
        if isinstance(first, Layer_Dense) and not self.network.built:
            self.network.build((first.n_inputs,))
        if hasattr(self.optimizer, "follow"):
            self.optimizer.follow(self.layers)
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
            printer = _EpochPrinter(print_every, n)
        else:
            printer = _StepPrinter(print_every, n, batch_size, self.accuracy, validate=validation_data is not None)
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
        if hasattr(model.optimizer, "follow"):
            model.optimizer.follow(model.layers)
        return model


def _figures(data_loss: float, reg_loss: float, accuracy: float, lr: float, prefix: str = "") -> str:
    """``acc: ..., loss: ... (data_loss: ..., reg_loss: ...), lr: ...`` as the book prints it."""
    return (f"{prefix}acc: {accuracy:.3f}, loss: {data_loss + reg_loss:.3f} (data_loss: {data_loss:.3f}, "
            f"reg_loss: {reg_loss:.3f}), lr: {lr}")


def _accuracy(logs: dict) -> float:
    return next((v for k, v in logs.items() if k not in ("loss", "learning_rate") and not k.startswith("val_")),
                float("nan"))


class _BookPrinter(Callback):
    """What the book's ``train`` prints beside each step: the penalty of the weights the step
    differentiated and the rate it stepped with, both taken before the update (glassnet's
    logs come after it); and each batch's own loss, which includes that penalty."""

    def __init__(self, n: int, batch_size: int):
        super().__init__()
        self.n, self.batch_size = n, batch_size

    def on_epoch_begin(self, epoch, logs=None):
        self._seen, self._total, self._data_total = 0, 0.0, 0.0

    def on_train_batch_begin(self, batch, logs=None):
        self.reg_loss = training.regularization_loss(self.model)
        self.lr = self.model.optimizer.current_learning_rate

    def on_train_batch_end(self, batch, logs=None):
        # The batch's own loss, from the running mean the logs carry (as Keras' do).
        size = min(self.batch_size, self.n - self._seen)
        total = (logs or {})["loss"] * (self._seen + size)
        self.batch_loss = (total - self._total) / size
        self._seen, self._total = self._seen + size, total
        self.data_loss = self.batch_loss - self.reg_loss
        self._data_total += self.data_loss * size


class _EpochPrinter(_BookPrinter):
    """Chapter 18's first ``train``: a line every ``print_every`` epochs (one step each)."""

    def __init__(self, print_every: int, n: int):
        super().__init__(n, n)
        self.print_every = int(print_every)

    def on_epoch_end(self, epoch, logs=None):
        if not (epoch + 1) % self.print_every:
            print(_figures(self.data_loss, self.reg_loss, _accuracy(logs or {}), self.lr,
                           prefix=f"epoch: {epoch + 1}, "))


class _StepPrinter(_BookPrinter):
    """The book's batched ``train``: the epoch number, a line every ``print_every`` steps and on
    the last one, then the epoch's training (and validation) figures. The training line, as the
    book's, joins the epoch's mean data loss with the penalty after the last step."""

    def __init__(self, print_every: int, n: int, batch_size: int, accuracy, validate: bool):
        super().__init__(n, batch_size)
        self.print_every, self.steps = int(print_every), -(-n // batch_size)
        self.accuracy, self.validate = accuracy, validate

    def on_epoch_begin(self, epoch, logs=None):
        super().on_epoch_begin(epoch, logs)
        print(f"epoch: {epoch + 1}")

    def on_train_batch_end(self, batch, logs=None):
        super().on_train_batch_end(batch, logs)
        if not batch % self.print_every or batch == self.steps - 1:
            acc = self.accuracy.batch_result if self.accuracy is not None else float("nan")
            print(_figures(self.data_loss, self.reg_loss, acc, self.lr, prefix=f"step: {batch}, "))

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        print(_figures(self._data_total / self._seen, training.regularization_loss(self.model), _accuracy(logs),
                       self.lr, prefix="training, "))
        if self.validate:
            name = self.accuracy.name if self.accuracy is not None else None
            loss = logs["val_loss"] - training.regularization_loss(self.model)
            print(f"validation, acc: {logs.get(f'val_{name}', float('nan')):.3f}, loss: {loss:.3f}")
