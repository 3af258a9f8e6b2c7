"""scikit-learn estimators backed by a glassnet multilayer perceptron.

``NeuralClassifier`` and ``NeuralRegressor`` follow scikit-learn's contract (``__init__`` stores
its arguments unmodified, ``fit`` returns self, learned attributes end in ``_``), so they work in
``Pipeline``, ``ColumnTransformer``, ``GridSearchCV``, ``cross_val_score`` and ``clone``. The
trained network is ``model_``, an ordinary ``glassnet.Sequential``. X may be a SciPy sparse
matrix (``OneHotEncoder``'s default output): it is densified one batch at a time, never whole.

The defaults are a recipe for tabular data that needs no tuning: early stopping on a held-out
tenth with the best epoch's weights restored, a budget of 200 epochs, and an L2 penalty scaled
like ``LogisticRegression``'s. ``benchmarks/bench_tabular.py`` compares it with
``LogisticRegression`` and ``MLPClassifier(early_stopping=True)`` on three real tables.

For a model of your own (a CNN, any build function), SciKeras' ``KerasClassifier`` and
``KerasRegressor`` live in ``glassnet.wrappers`` and are importable from here too.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from glassnet import callbacks, layers, optimizers, regularizers, utils
from glassnet.models import Sequential
from glassnet.sklearn_common import ArrayEstimatorMixin, RegressionOutputs


#: the fewest held-out samples with which early_stopping="auto" stops early.
MIN_VALIDATION_SAMPLES = 20


class _NeuralEstimator(ArrayEstimatorMixin, BaseEstimator):
    """Shared parameters and training of the two estimators.

    Args:
        hidden_layer_sizes: units of each hidden ``Dense`` layer, e.g. ``(64, 32)``.
        activation: the hidden layers' activation ("relu", "tanh", "sigmoid", ...).
        optimizer: an optimizer name ("adam", "sgd", "rmsprop", ...).
        learning_rate: the optimizer's learning rate.
        epochs: the most passes over the training data in ``fit`` (``partial_fit`` does one);
            with early stopping, a budget that training rarely uses up.
        batch_size: samples per gradient step.
        early_stopping: True to hold out ``validation_split`` of the training data and stop once
            the validation loss has not improved for ``patience`` epochs, restoring the weights
            of the best epoch; "auto" (the default) does so when the held-out part would hold at
            least ``MIN_VALIDATION_SAMPLES`` (20) samples, i.e. 200 samples with the default
            split, and otherwise trains for all ``epochs`` on every sample, as False does.
            ``partial_fit`` never stops early (as in scikit-learn's MLPClassifier).
        validation_split: the held-out share when early stopping is on (unused otherwise).
        patience: epochs without improvement before early stopping ends training.
        dropout: dropout rate after each hidden layer (0 for none).
        alpha: L2 penalty on the weight matrices, weighed against the loss summed over the N
            training samples: ``alpha * ||W||² / N`` is added to the mean loss (so alpha plays
            ``LogisticRegression``'s ``1 / (2 C)``: the default 5 is C = 0.1), and it matters most
            on small data; N is the first ``partial_fit`` call's sample count there. 0 for none.
        random_state: None (a fresh seed each fit), an int, or a ``RandomState``; drives
            initialisation, shuffling, dropout and the validation split.
        verbose: 0 silent, 1 a progress bar per epoch, 2 one line per epoch.
    """

    def __init__(self, hidden_layer_sizes=(128,), activation="relu", optimizer="adam", learning_rate=1e-3,
                 epochs=200, batch_size=64, early_stopping="auto", validation_split=0.1, patience=20,
                 dropout=0.0, alpha=5.0, random_state=None, verbose=0):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.early_stopping = early_stopping
        self.validation_split = validation_split
        self.patience = patience
        self.dropout = dropout
        self.alpha = alpha
        self.random_state = random_state
        self.verbose = verbose

    def _check_params(self) -> None:
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, Integral) else sizes
        if not all(isinstance(s, Integral) and not isinstance(s, bool) and s > 0 for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be positive integers; got {self.hidden_layer_sizes!r}.")
        for name, low in (("epochs", 0), ("batch_size", 1), ("patience", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}; got {value!r}.")
        if not isinstance(self.learning_rate, Real) or not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0; got {self.learning_rate!r}.")
        if not isinstance(self.dropout, Real) or not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1); got {self.dropout!r}.")
        if not isinstance(self.alpha, Real) or not self.alpha >= 0:
            raise ValueError(f"alpha must be >= 0; got {self.alpha!r}.")
        if not (isinstance(self.early_stopping, (bool, np.bool_)) or self.early_stopping == "auto"):
            raise ValueError(f"early_stopping must be True, False or 'auto'; got {self.early_stopping!r}.")
        if self.early_stopping is not False and not 0 < self.validation_split < 1:
            raise ValueError(f"validation_split must be in (0, 1) with early_stopping={self.early_stopping!r} "
                             f"(or set early_stopping=False); got {self.validation_split!r}.")

    def _seed(self) -> int:
        if self.random_state is None:
            return utils.default_seed()
        if isinstance(self.random_state, Integral):
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(2**31 - 1))

    def _build_model(self, X, n_outputs: int, output_activation, loss: str) -> Sequential:
        """A fresh compiled network for inputs like ``X`` (N, D): its width, and its length for the penalty."""
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, Integral) else list(sizes)
        # alpha weighs ||W||² against the summed loss of the N samples; the network's loss is a
        # mean, hence alpha / N, as LogisticRegression's ||w||² / (2 C N) beside its mean loss.
        penalty = regularizers.L2(float(self.alpha) / X.shape[0]) if self.alpha else None
        stack = [layers.Input((X.shape[1],))]
        for units in sizes:
            stack.append(layers.Dense(int(units), activation=self.activation, kernel_regularizer=penalty))
            if self.dropout:
                stack.append(layers.Dropout(float(self.dropout)))
        stack.append(layers.Dense(n_outputs, activation=output_activation, kernel_regularizer=penalty))
        model = Sequential(stack, seed=self._seed())
        optimizer = optimizers.get(self.optimizer)
        optimizer = type(optimizer).from_config({**optimizer.get_config(), "learning_rate": float(self.learning_rate)})
        model.compile(optimizer=optimizer, loss=loss)
        return model

    def _stops_early(self, n_samples: int) -> bool:
        if isinstance(self.early_stopping, str):  # "auto": only with enough samples to judge epochs by
            return round(n_samples * self.validation_split) >= MIN_VALIDATION_SAMPLES
        return bool(self.early_stopping)

    def _train(self, X, y, sample_weight, epochs: int, early_stopping: bool) -> None:
        cbs, split = [], 0.0
        if early_stopping:
            cbs.append(callbacks.EarlyStopping(monitor="val_loss", patience=self.patience,
                                               restore_best_weights=True))
            split = self.validation_split
        history = self.model_.fit(X, y, batch_size=self.batch_size, epochs=epochs, verbose=self.verbose,
                                  callbacks=cbs, validation_split=split, sample_weight=sample_weight)
        self.history_ = {k: list(v) for k, v in history.history.items()}
        self.n_iter_ = getattr(self, "n_iter_", 0) + len(history.history.get("loss", []))
        self.loss_ = self.history_["loss"][-1] if self.history_.get("loss") else float("nan")

    def _raw_predict(self, X) -> np.ndarray:
        check_is_fitted(self, "model_")
        X = self._validate(X, reset=False)
        return self.model_.predict(X).astype(np.float64)


class NeuralClassifier(ClassifierMixin, _NeuralEstimator):
    """A multilayer-perceptron classifier: sigmoid output for two classes, softmax for more.

    See ``_NeuralEstimator`` for the arguments. Labels may be any values (strings too); they are
    encoded with ``LabelEncoder`` and listed in ``classes_``.

    Example:
        >>> from sklearn.datasets import make_classification
        >>> from glassnet.sklearn import NeuralClassifier
        >>> X, y = make_classification(200, n_features=5, random_state=0)
        >>> clf = NeuralClassifier(random_state=0).fit(X, y)
        >>> clf.predict_proba(X[:2]).shape, clf.score(X, y) > 0.85
        ((2, 2), True)
    """

    def fit(self, X, y, sample_weight=None) -> "NeuralClassifier":
        """Train a fresh network for ``epochs`` epochs; returns self."""
        self._check_params()
        X, y = self._validate(X, y)
        check_classification_targets(y)
        sample_weight = self._weights(sample_weight, X)
        self._encoder = LabelEncoder().fit(y)
        self.classes_ = self._encoder.classes_
        self._init_model(X, self._encoder.transform(y), sample_weight)
        self.n_iter_ = 0
        self._train(X, self._targets(y), sample_weight, self.epochs, self._stops_early(X.shape[0]))
        return self

    def partial_fit(self, X, y, classes=None, sample_weight=None) -> "NeuralClassifier":
        """One epoch on this batch; the first call needs ``classes`` unless y holds them all."""
        first = not hasattr(self, "model_")
        if first:
            self._check_params()
        X, y = self._validate(X, y, reset=first)
        check_classification_targets(y)
        if first:
            self._encoder = LabelEncoder().fit(y if classes is None else classes)
            self.classes_ = self._encoder.classes_
            self._init_model(X, None, None)
            self.n_iter_ = 0
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if unseen.size:
            raise ValueError(f"y holds label(s) {unseen.tolist()} not in classes_ {self.classes_.tolist()}; "
                             f"pass every label as classes=... on the first partial_fit call.")
        self._train(X, self._targets(y), self._weights(sample_weight, X), 1, early_stopping=False)
        return self

    def _init_model(self, X, codes, sample_weight) -> None:
        if len(self.classes_) < 2:
            raise ValueError(f"NeuralClassifier needs at least 2 classes to train; y holds one class "
                             f"({self.classes_.tolist()}).")
        if codes is not None and sample_weight is not None:
            if np.unique(codes[sample_weight > 0]).size < 2:
                raise ValueError("sample_weight gives positive weight to a single class; the classifier "
                                 "needs at least 2 classes to train.")
        if len(self.classes_) == 2:
            self.model_ = self._build_model(X, 1, "sigmoid", "binary_crossentropy")
        else:
            self.model_ = self._build_model(X, len(self.classes_), "softmax",
                                            "sparse_categorical_crossentropy")

    def _targets(self, y) -> np.ndarray:
        codes = self._encoder.transform(y)
        return codes.astype(np.float32) if len(self.classes_) == 2 else codes.astype(np.int64)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, shape (N, n_classes), columns in the order of ``classes_``."""
        p = self._raw_predict(X)
        if len(self.classes_) == 2:
            return np.hstack([1.0 - p, p])
        return p / p.sum(axis=1, keepdims=True)  # renormalise away float32 rounding

    def predict(self, X) -> np.ndarray:
        """The most probable class of each row (probability > 0.5 for two classes)."""
        p = self.predict_proba(X)
        index = (p[:, 1] > 0.5).astype(np.int64) if len(self.classes_) == 2 else p.argmax(axis=1)
        return self.classes_[index]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags


class NeuralRegressor(RegressionOutputs, RegressorMixin, _NeuralEstimator):
    """A multilayer-perceptron regressor (linear output, mean squared error).

    See ``_NeuralEstimator`` for the arguments. ``y`` may be (N,) or (N, k) for k outputs.
    Targets are not rescaled: standardise them first (e.g. ``TransformedTargetRegressor``) when
    they are far from unit scale.

    Example:
        >>> from sklearn.datasets import make_regression
        >>> from glassnet.sklearn import NeuralRegressor
        >>> X, y = make_regression(200, n_features=3, noise=0.1, random_state=0)
        >>> reg = NeuralRegressor(hidden_layer_sizes=(32,), learning_rate=0.01, epochs=100,
        ...                       random_state=0).fit(X, y / y.std())
        >>> reg.score(X, y / y.std()) > 0.95
        True
    """

    def fit(self, X, y, sample_weight=None) -> "NeuralRegressor":
        """Train a fresh network for ``epochs`` epochs; returns self."""
        self._check_params()
        X, y = self._validate(X, y, multi_output=True, y_numeric=True)
        self._y_ndim = y.ndim
        self.model_ = self._build_model(X, 1 if y.ndim == 1 else y.shape[1], None, "mse")
        self.n_iter_ = 0
        self._train(X, y.astype(np.float32), self._weights(sample_weight, X), self.epochs,
                    self._stops_early(X.shape[0]))
        return self

    def partial_fit(self, X, y, sample_weight=None) -> "NeuralRegressor":
        """One epoch on this batch (the first call builds the network)."""
        first = not hasattr(self, "model_")
        if first:
            self._check_params()
        X, y = self._validate(X, y, reset=first, multi_output=True, y_numeric=True)
        if first:
            self._y_ndim = y.ndim
            self.model_ = self._build_model(X, 1 if y.ndim == 1 else y.shape[1], None, "mse")
            self.n_iter_ = 0
        self._train(X, y.astype(np.float32), self._weights(sample_weight, X), 1, early_stopping=False)
        return self


# SciKeras' names, for users who look for them beside the other scikit-learn estimators.
from glassnet.wrappers import BaseWrapper, KerasClassifier, KerasRegressor  # noqa: E402

__all__ = ["BaseWrapper", "KerasClassifier", "KerasRegressor", "NeuralClassifier", "NeuralRegressor"]
