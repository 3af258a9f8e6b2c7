"""SciKeras' ``KerasClassifier`` and ``KerasRegressor`` on glassnet: a function that builds any
glassnet model (an MLP, a CNN, a graph ``Model``) becomes a scikit-learn estimator.

As in SciKeras, parameters with a double-underscore prefix are routed: ``model__hidden=64`` to the
build function, ``optimizer__learning_rate=0.01`` to the optimizer, ``loss__...`` to the loss,
``fit__validation_split=0.2`` to ``fit`` and ``predict__batch_size`` to ``predict``. They are
ordinary estimator parameters, so ``clone``, ``Pipeline`` and ``GridSearchCV`` handle them.
For a ready-made MLP with tabular defaults, see ``glassnet.sklearn.NeuralClassifier``.
"""

from __future__ import annotations

import inspect
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted

from glassnet import losses, optimizers, utils
from glassnet.models.base import BaseModel
from glassnet.sklearn_common import ArrayEstimatorMixin, RegressionOutputs

#: prefixes of routed parameters (``optimizer__learning_rate``) and where each goes.
ROUTES = ("model", "build_fn", "optimizer", "loss", "metrics", "compile", "fit", "predict", "callbacks")
#: names a build function may take besides its own parameters, filled in by the wrapper.
_SPECIAL = ("meta", "compile_kwargs", "params")


def _routed(params: dict, prefix: str) -> dict:
    start = prefix + "__"
    return {k[len(start):]: v for k, v in params.items() if k.startswith(start)}


def _fresh(identifier, module, routed: dict, what: str):
    """A new optimizer or loss from a name, class or instance, with the routed arguments applied:
    each fit gets its own (an optimizer's slots belong to one model)."""
    if isinstance(identifier, type):
        return identifier(**routed)
    obj = module.get(identifier)
    if routed or not isinstance(identifier, str):
        try:
            obj = type(obj).from_config({**obj.get_config(), **routed})
        except TypeError as err:
            raise ValueError(f"Cannot apply {what}__ parameters {sorted(routed)} to {type(obj).__name__}: "
                             f"{err}") from None
    return obj


class BaseWrapper(ArrayEstimatorMixin, BaseEstimator):
    """What ``KerasClassifier`` and ``KerasRegressor`` share; see ``KerasClassifier`` for the arguments."""

    allow_nd = True  # any glassnet model: images for a CNN keep their shape
    allow_text = True  # a model starting with a TextVectorization takes the raw strings

    def __init__(self, model=None, *, build_fn=None, warm_start=False, random_state=None, optimizer="rmsprop",
                 loss=None, metrics=None, batch_size=None, verbose=1, callbacks=None, validation_split=0.0,
                 shuffle=True, epochs=1, **kwargs):
        self.model = model
        self.build_fn = build_fn
        self.warm_start = warm_start
        self.random_state = random_state
        self.optimizer = optimizer
        self.loss = loss
        self.metrics = metrics
        self.batch_size = batch_size
        self.verbose = verbose
        self.callbacks = callbacks
        self.validation_split = validation_split
        self.shuffle = shuffle
        self.epochs = epochs
        for key, value in kwargs.items():
            setattr(self, key, value)

    # -- parameters (SciKeras': the constructor's plus any keyword given to it or to set_params) ---
    def get_params(self, deep=True):
        params = super().get_params(deep=False)
        # every public attribute not ending in "_" (a fitted one) is a parameter given as a keyword
        extra = {k: v for k, v in vars(self).items()
                 if k not in params and not k.startswith("_") and not k.endswith("_")}
        return {**params, **extra}

    def set_params(self, **params):
        known = self.get_params()
        plain = {}
        for key, value in params.items():
            if key in known or key.split("__", 1)[0] in ROUTES:
                setattr(self, key, value)
            else:
                plain[key] = value
        if plain:
            super().set_params(**plain)  # raises sklearn's error naming the invalid parameter
        return self

    # -- building the model ------------------------------------------------------------------------------
    def _build_function(self):
        build = self.model if self.model is not None else self.build_fn
        if build is None:
            raise ValueError(f"{type(self).__name__} needs model=: a function returning a glassnet model (or a "
                             f"model).")
        return build

    def _seed(self) -> int | None:
        if self.random_state is None:
            return None
        if isinstance(self.random_state, Integral):
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(2**31 - 1))

    def _compile_kwargs(self) -> dict:
        params = self.get_params()
        return {"optimizer": _fresh(self.optimizer, optimizers, _routed(params, "optimizer"), "optimizer"),
                "loss": (None if self.loss is None else _fresh(self.loss, losses, _routed(params, "loss"), "loss")),
                "metrics": list(self.metrics) if self.metrics is not None else None,
                **_routed(params, "compile")}

    def _build_model(self, meta: dict):
        """Call the build function with the parameters its signature names (routed ``model__``
        ones first, then same-named top-level ones) and compile the model when it is not."""
        build = self._build_function()
        params = self.get_params()
        compile_kwargs = self._compile_kwargs()
        if isinstance(build, BaseModel):
            model = build
        else:
            signature = inspect.signature(build).parameters
            var_kw = any(p.kind == p.VAR_KEYWORD for p in signature.values())
            routed = {**_routed(params, "build_fn"), **_routed(params, "model")}
            available = {**{k: v for k, v in params.items() if "__" not in k}, **routed,
                         "meta": meta, "compile_kwargs": compile_kwargs, "params": params}
            kwargs = {k: v for k, v in available.items() if k in signature}
            if var_kw:
                kwargs.update(routed)
            unused = [k for k in self._extra_params() if "__" not in k and k not in signature]
            if unused and not var_kw:
                raise ValueError(f"{type(self).__name__} got parameter(s) {unused} that the build function "
                                 f"{getattr(build, '__name__', build)!r} does not take; route them (model__name=, "
                                 f"fit__name=, optimizer__name=) or add them to its signature.")
            seed = self._seed()
            if seed is None:
                model = build(**kwargs)
            else:
                with utils.seed_scope(seed):
                    model = build(**kwargs)
        if not isinstance(model, BaseModel):
            raise TypeError(f"The build function must return a glassnet model (Sequential or Model); it returned "
                            f"{type(model).__name__}.")
        if not model.compiled:
            if compile_kwargs["loss"] is None:
                raise ValueError(f"The build function returned an uncompiled model and {type(self).__name__} has no "
                                 f"loss: pass loss=... (e.g. {self._loss_hint!r}) or compile the model in the "
                                 f"function.")
            model.compile(**{k: v for k, v in compile_kwargs.items() if v is not None})
        return model

    def _extra_params(self) -> list:
        """Parameters given beyond the constructor's own (kwargs and set_params additions)."""
        own = set(inspect.signature(type(self).__init__).parameters)
        return [k for k in self.get_params() if k not in own]

    # -- training -----------------------------------------------------------------------------------------
    def _train(self, X, y, sample_weight, partial: bool, **kwargs) -> None:
        """Train ``model_``: ``epochs`` epochs (``fit__epochs`` overrides), or one for ``partial_fit``."""
        params = self.get_params()
        fit_kwargs = {"batch_size": self.batch_size if self.batch_size is not None else 32, "epochs": self.epochs,
                      "verbose": self.verbose, "callbacks": list(self.callbacks or []),
                      "validation_split": self.validation_split, "shuffle": self.shuffle,
                      **_routed(params, "fit"), **kwargs}
        if partial:
            fit_kwargs["epochs"] = 1
        if sample_weight is not None:
            fit_kwargs["sample_weight"] = sample_weight
        history = self.model_.fit(X, y, **fit_kwargs)
        for key, values in history.history.items():
            self.history_.setdefault(key, []).extend(float(v) for v in values)

    def _initialize(self) -> None:
        self.model_ = self._build_model(self._meta())
        self.history_ = {}

    def _raw_predict(self, X) -> np.ndarray:
        check_is_fitted(self, "model_")
        X = self._validate(X, reset=False)
        batch = _routed(self.get_params(), "predict").get("batch_size", self.batch_size)
        out = np.asarray(self.model_.predict(X, batch_size=batch), dtype=np.float64)
        return out.reshape(len(out), -1)


class KerasClassifier(ClassifierMixin, BaseWrapper):
    """A scikit-learn classifier from a function that builds a glassnet model, as SciKeras'.

    The build function may take, by name: its own parameters (``model__units=64`` or a top-level
    ``units=64``), ``meta`` (``n_features_in_``, ``X_shape_``, ``classes_``, ``n_classes_``,
    ``target_type_``, ``n_outputs_`` ...), ``compile_kwargs`` (the optimizer, loss and metrics
    built from this estimator's parameters) and ``params`` (all of them). It returns a model,
    compiled or not: an uncompiled one is compiled with ``optimizer``, ``loss`` and ``metrics``.

    Labels may be any values; they are encoded to 0..n-1 (one-hot for a categorical
    cross-entropy) and listed in ``classes_``. A model ending in one sigmoid unit serves two
    classes; ``predict_proba`` always has one column per class.

    Args:
        model: the build function (or a glassnet model to train as it is). ``build_fn`` is its
            older name.
        warm_start: True: a second ``fit`` continues training ``model_`` instead of building anew.
        random_state: an int makes the models the function builds (their initialisation,
            shuffling, dropout) repeat bit for bit; None: fresh seeds.
        optimizer: a name, class or instance ("rmsprop" as SciKeras); ``optimizer__*`` routes
            arguments to it.
        loss: a name, class or instance (``loss__*`` routed); needed when the model comes
            uncompiled.
        metrics: a list for ``compile`` (logged in ``history_``).
        batch_size, epochs, verbose, callbacks, validation_split, shuffle, class_weight: for
            ``fit`` (``fit__*`` overrides; ``batch_size`` None is 32). ``class_weight`` is a dict
            by label or "balanced", folded into the sample weights as SciKeras does.

    Attributes:
        model_, history_ (a dict of lists), classes_, n_classes_, n_features_in_, X_shape_,
        target_type_.

    Example:
        >>> import glassnet as gn
        >>> from sklearn.datasets import make_classification
        >>> from glassnet.wrappers import KerasClassifier
        >>> def build(meta, hidden=16):
        ...     return gn.Sequential([gn.layers.Input((meta["n_features_in_"],)),
        ...                           gn.layers.Dense(hidden, activation="relu"),
        ...                           gn.layers.Dense(meta["n_classes_"], activation="softmax")])
        >>> X, y = make_classification(200, n_features=5, random_state=0)
        >>> clf = KerasClassifier(build, loss="sparse_categorical_crossentropy", optimizer="adam",
        ...                       optimizer__learning_rate=0.02, model__hidden=8, epochs=20, verbose=0,
        ...                       random_state=0).fit(X, y)
        >>> clf.predict_proba(X[:2]).shape, clf.score(X, y) > 0.85
        ((2, 2), True)
    """

    _loss_hint = "sparse_categorical_crossentropy"

    def __init__(self, model=None, *, build_fn=None, warm_start=False, random_state=None, optimizer="rmsprop",
                 loss=None, metrics=None, batch_size=None, verbose=1, callbacks=None, validation_split=0.0,
                 shuffle=True, epochs=1, class_weight=None, **kwargs):
        super().__init__(model, build_fn=build_fn, warm_start=warm_start, random_state=random_state,
                         optimizer=optimizer, loss=loss, metrics=metrics, batch_size=batch_size, verbose=verbose,
                         callbacks=callbacks, validation_split=validation_split, shuffle=shuffle, epochs=epochs,
                         **kwargs)
        self.class_weight = class_weight

    def _meta(self) -> dict:
        return {"n_features_in_": self.n_features_in_, "X_shape_": self.X_shape_, "X_dtype_": self.X_dtype_,
                "classes_": self.classes_, "n_classes_": self.n_classes_, "target_type_": self.target_type_,
                "y_dtype_": self.y_dtype_, "y_ndim_": 1, "n_outputs_": 1, "n_outputs_expected_": 1}

    def _prepare(self, X, y, sample_weight, reset: bool, classes=None):
        X, y = self._validate(X, y, reset=reset)
        check_classification_targets(y)
        if reset:
            self.target_type_, self.y_dtype_ = type_of_target(y), y.dtype
            self._encoder = LabelEncoder().fit(y if classes is None else classes)
            self.classes_ = self._encoder.classes_
            self.n_classes_ = len(self.classes_)
            if self.n_classes_ < 2:
                raise ValueError(f"{type(self).__name__} needs at least 2 classes to train; y holds one class "
                                 f"({self.classes_.tolist()}).")
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if unseen.size:
            raise ValueError(f"y holds label(s) {unseen.tolist()} not in classes_ {self.classes_.tolist()}; pass every "
                             f"label as classes=... on the first partial_fit call.")
        w = self._weights(sample_weight, X)
        if self.class_weight is not None:
            w = (np.ones(len(y)) if w is None else w) * compute_sample_weight(self.class_weight, y)
        if w is not None and np.unique(y[w > 0]).size < 2 and reset:
            raise ValueError("sample_weight gives positive weight to a single class; the classifier needs at least 2 "
                             "classes to train.")
        return X, y, w

    def _targets(self, y) -> np.ndarray:
        """Codes 0..n-1 shaped for the compiled loss: one-hot for a categorical cross-entropy,
        float for a binary one or a regression loss, integers otherwise."""
        codes = self._encoder.transform(y)
        loss = self.model_.loss
        one_hot = isinstance(loss, losses.CategoricalCrossentropy) or (
            isinstance(loss, losses.BinaryCrossentropy) and self.n_classes_ > 2)  # one sigmoid unit per class
        if one_hot:
            return utils.to_categorical(codes, self.n_classes_)
        if isinstance(loss, losses.SparseCategoricalCrossentropy):
            return codes.astype(np.int64)
        return codes.astype(np.float32)

    def fit(self, X, y, sample_weight=None, **kwargs) -> "KerasClassifier":
        """Build a model (unless ``warm_start`` and fitted) and train it ``epochs`` epochs; returns self.
        ``kwargs`` go to the model's ``fit``."""
        initialize = not (self.warm_start and hasattr(self, "model_"))
        X, y, w = self._prepare(X, y, sample_weight, reset=initialize)
        if initialize:
            self._initialize()
        self._train(X, self._targets(y), w, partial=False, **kwargs)
        return self

    def partial_fit(self, X, y, classes=None, sample_weight=None) -> "KerasClassifier":
        """One epoch on this batch; the first call builds the model (``classes`` lists every label)."""
        first = not hasattr(self, "model_")
        X, y, w = self._prepare(X, y, sample_weight, reset=first, classes=classes)
        if first:
            self._initialize()
        self._train(X, self._targets(y), w, partial=True)
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, (N, n_classes), columns in the order of ``classes_``."""
        p = self._raw_predict(X)
        if p.shape[1] == 1:  # one sigmoid unit: P(class 1)
            return np.hstack([1.0 - p, p])
        if p.shape[1] != self.n_classes_:
            raise ValueError(f"The model outputs {p.shape[1]} columns for {self.n_classes_} classes; end it with "
                             f"Dense({self.n_classes_}, activation='softmax') (or Dense(1, 'sigmoid') for 2).")
        return p / p.sum(axis=1, keepdims=True)  # renormalise away float32 rounding

    def predict(self, X) -> np.ndarray:
        """The most probable class of each sample."""
        index = self.predict_proba(X).argmax(axis=1)
        return self.classes_[index]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags


class KerasRegressor(RegressionOutputs, RegressorMixin, BaseWrapper):
    """A scikit-learn regressor from a function that builds a glassnet model, as SciKeras'.

    Arguments and build-function parameters as ``KerasClassifier`` (``meta`` holds
    ``n_features_in_``, ``X_shape_``, ``n_outputs_``, ``target_type_``); ``y`` may be (N,) or
    (N, k). ``score`` is R², as SciKeras'.

    Example:
        >>> import glassnet as gn
        >>> from sklearn.datasets import make_regression
        >>> from glassnet.wrappers import KerasRegressor
        >>> def build(meta, compile_kwargs):
        ...     model = gn.Sequential([gn.layers.Input((meta["n_features_in_"],)),
        ...                            gn.layers.Dense(32, activation="relu"), gn.layers.Dense(meta["n_outputs_"])])
        ...     model.compile(optimizer=compile_kwargs["optimizer"], loss="mse")
        ...     return model
        >>> X, y = make_regression(200, n_features=3, noise=0.1, random_state=0)
        >>> reg = KerasRegressor(build, optimizer="adam", optimizer__learning_rate=0.01, epochs=100, verbose=0,
        ...                      random_state=0).fit(X, y / y.std())
        >>> reg.score(X, y / y.std()) > 0.95
        True
    """

    _loss_hint = "mse"

    def _meta(self) -> dict:
        return {"n_features_in_": self.n_features_in_, "X_shape_": self.X_shape_, "X_dtype_": self.X_dtype_,
                "n_outputs_": self._n_outputs, "n_outputs_expected_": 1, "target_type_": self.target_type_,
                "y_ndim_": self._y_ndim}

    def _prepare(self, X, y, sample_weight, reset: bool):
        X, y = self._validate(X, y, reset=reset, multi_output=True, y_numeric=True)
        if reset:
            self._y_ndim = y.ndim
            self._n_outputs = 1 if y.ndim == 1 else y.shape[1]
            self.target_type_ = type_of_target(y)
        return X, y.astype(np.float32), self._weights(sample_weight, X)

    def fit(self, X, y, sample_weight=None, **kwargs) -> "KerasRegressor":
        """Build a model (unless ``warm_start`` and fitted) and train it ``epochs`` epochs; returns self."""
        initialize = not (self.warm_start and hasattr(self, "model_"))
        X, y, w = self._prepare(X, y, sample_weight, reset=initialize)
        if initialize:
            self._initialize()
        self._train(X, y, w, partial=False, **kwargs)
        return self

    def partial_fit(self, X, y, sample_weight=None) -> "KerasRegressor":
        """One epoch on this batch (the first call builds the model)."""
        first = not hasattr(self, "model_")
        X, y, w = self._prepare(X, y, sample_weight, reset=first)
        if first:
            self._initialize()
        self._train(X, y, w, partial=True)
        return self


__all__ = ["BaseWrapper", "KerasClassifier", "KerasRegressor", "ROUTES"]
