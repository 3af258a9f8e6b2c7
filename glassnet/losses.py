"""Loss functions with their gradients: ``loss(y_true, y_pred)`` and ``loss.gradient(...)``.

Every loss reduces over the last axis (sum of classes for the cross-entropies, mean for the
others), then averages the values left, one per sample or per sample and time step, with optional
weights, Keras' "sum_over_batch_size": L = (1/N) Σₙ wₙ ℓₙ. Under a time-step mask (the model's
output carries one, glassnet/layers/masking.py) the average runs over the kept steps only, as in
Keras 3: L = Σₙₜ wₙₜ mₙₜ ℓₙₜ / Σₙₜ mₙₜ.
"""

from __future__ import annotations

import numpy as np

from glassnet import backend
from glassnet._registry import deserialize, register
from glassnet.activations import log_softmax, sigmoid, softmax

# Probabilities are clipped to [EPSILON, 1 - EPSILON] before the log, as in Keras and NNFS.
EPSILON = 1e-7


def fits_shape(shape, expected) -> bool:
    """Whether a per-sample ``shape`` matches ``expected``, where None (a model built for sequences
    of any length, ``gn.Input((None, D))``) stands for any size of that axis."""
    shape, expected = tuple(shape), tuple(expected)
    return len(shape) == len(expected) and all(e is None or s == e for s, e in zip(shape, expected))


def sequence_hint(y_shape, expected) -> str:
    """The likely slip when targets are one row per sample (N, C) and the outputs one row per time
    step (N, T, C): the last recurrent layer keeps return_sequences=True."""
    if len(y_shape) == 2 and len(expected) == 2 and fits_shape(y_shape[1:], tuple(expected)[1:]):
        return (" The model outputs one row per time step: for one answer per sequence, drop "
                "return_sequences=True on the last recurrent layer (or pool over time, GlobalAveragePooling1D).")
    return ""


class Loss:
    """Base class.

    Subclasses implement ``call(y_true, y_pred)`` (values reduced over the last axis) and
    ``grad(y_true, y_pred)`` (the elementwise derivative of those values wrt ``y_pred``).

    Args:
        name: a display name.
    """

    #: which final activation this loss fuses with when ``from_logits`` is False.
    fuses_with: str | None = None
    #: targets are classes (stratified splits, class balance, class weights apply).
    classification: bool = False

    def __init__(self, name: str | None = None):
        self.name = name or type(self).__name__

    def call(self, y_true, y_pred) -> np.ndarray:
        raise NotImplementedError

    def grad(self, y_true, y_pred) -> np.ndarray:
        raise NotImplementedError

    def conform(self, y_true, y_pred) -> np.ndarray:
        """``y_true`` in ``y_pred``'s shape: a (N,) target meets (N, 1) outputs as (N, 1).

        Any other mismatch raises instead of letting NumPy broadcast (N,) against (N, 1) into
        an (N, N) table of every pair, which would average nonsense without complaint.
        """
        y_true = backend.array_module(y_pred).asarray(y_true)
        if y_true.shape == y_pred.shape:
            return y_true
        if y_pred.shape[-1] == 1 and y_true.shape == y_pred.shape[:-1]:
            return y_true.reshape(y_pred.shape)
        raise ValueError(
            f"{self.name}: y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}; "
            f"give one target per output value."
        )

    def __call__(self, y_true, y_pred, sample_weight=None, mask=None) -> float:
        """The mean loss over the batch (a Python float).

        ``sample_weight`` is None, one weight per sample, shape (N,) or (N, 1), or one per
        sample and time step, (N, T), for outputs (N, T, ...) (Keras' "temporal" weights).
        ``mask`` is None or the output's boolean time-step mask (N, T): the masked steps count
        for nothing, and the mean is over the kept ones.
        """
        y_true = self.conform(y_true, y_pred)
        values = self.call(y_true, y_pred)
        return float(_weighted_mean(values, self._value_weights(sample_weight, mask, y_pred)))

    def gradient(self, y_true, y_pred, sample_weight=None, mask=None) -> np.ndarray:
        """dL/dy_pred for L = ``self(y_true, y_pred, sample_weight, mask)``; same shape as y_pred."""
        w = self._value_weights(sample_weight, mask, y_pred)
        return _scale(self.grad(self.conform(y_true, y_pred), y_pred), y_pred, w)

    def value_and_gradient(self, y_true, y_pred, sample_weight=None, mask=None) -> tuple[float, np.ndarray]:
        """The loss and its gradient together: the training step's one call per batch."""
        w = self._value_weights(sample_weight, mask, y_pred)
        y_true = self.conform(y_true, y_pred)
        values, g = self.values_and_grad(y_true, y_pred)
        return float(_weighted_mean(values, w)), _scale(g, y_pred, w)

    def _value_weights(self, sample_weight, mask, y_pred) -> np.ndarray | None:
        """One weight per loss value (the shape ``y_pred.shape[:-1]``, or one that broadcasts to
        it), or None; raises unless ``sample_weight`` and ``mask`` fit the output.

        The value and the gradient both take their weights from here, so they cannot disagree.
        A (N, 1) column is flattened, as Keras squeezes it; left as it was, it would broadcast
        against the (N,) per-sample losses into an (N, N) table and average every pair.
        A mask multiplies the weights by m · (mask size / kept steps): the plain mean over all
        values then equals Keras 3's Σ w m ℓ / Σ m (glassnet/layers/masking.py).
        """
        values_shape = y_pred.shape[:-1]
        n = y_pred.shape[0]
        w = None
        if sample_weight is not None:
            xp = backend.array_module(y_pred)
            w = xp.asarray(sample_weight, dtype=np.float64)
            if w.size == 1:  # one number scales the whole batch's loss, as in Keras
                w = xp.full(n, w.item())
            elif w.size == n:
                w = w.reshape(n)
            elif len(values_shape) >= 2 and w.shape == values_shape[:w.ndim] and w.ndim >= 2:
                pass  # one weight per sample and time step, (N, T)
            else:
                steps = f", or ({n}, {values_shape[1]}) per time step" if len(values_shape) >= 2 else ""
                raise ValueError(
                    f"{self.name}: sample_weight has shape {w.shape} but y_pred has shape {y_pred.shape} "
                    f"(N = {n} samples); give one weight per sample, shape ({n},) or ({n}, 1){steps}."
                )
        if mask is not None:
            mask = backend.array_module(y_pred).asarray(mask)
            if mask.dtype.kind not in "bui" or mask.ndim < 1 or mask.shape != values_shape[:mask.ndim]:
                raise ValueError(
                    f"{self.name}: the output's mask has shape {mask.shape} ({mask.dtype}) but the loss "
                    f"values have shape {values_shape}; a time-step mask is boolean (N, T).")
            m = mask.astype(np.float64)
            kept = m.sum()
            m *= m.size / kept if kept else 0.0  # nothing kept: the batch adds 0, as in Keras
            w = m if w is None else _expand(w, m.ndim) * _expand(m, w.ndim)
        return None if w is None else _expand(w, len(values_shape))

    def values_and_grad(self, y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
        """``call`` and ``grad`` of conformed targets; override to share work between them."""
        return self.call(y_true, y_pred), self.grad(y_true, y_pred)

    def validate_targets(self, y: np.ndarray, output_shape: tuple) -> np.ndarray:
        """Return ``y`` in the shape this loss needs for outputs of ``output_shape``, or raise.

        ``output_shape`` includes the batch axis. A (N,) target meets (N, 1) outputs as (N, 1),
        never by broadcasting.
        """
        y = _as_float(y)
        expected = tuple(output_shape[1:])
        if expected[-1:] == (1,) and fits_shape(y.shape[1:], expected[:-1]):
            y = y.reshape((*y.shape, 1))  # (N,) for (N, 1) outputs, (N, T) for (N, T, 1)
        if not fits_shape(y.shape[1:], expected):
            raise ValueError(
                f"{self.name}: y has shape {y.shape} but the model outputs {(None, *expected)}. "
                f"Give one target row per sample with {expected} values." + sequence_hint(y.shape, expected)
            )
        return y

    def get_config(self) -> dict:
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


def _as_float(y) -> np.ndarray:
    y = backend.asarray(y)  # a device array stays there (np.asarray would refuse it)
    return y if y.dtype.kind == "f" else y.astype(np.float32)


def _expand(a: np.ndarray, ndim: int) -> np.ndarray:
    """``a`` with trailing axes of length 1 up to ``ndim`` axes: (N,) meets (N, T) values as (N, 1)."""
    return a.reshape(a.shape + (1,) * (ndim - a.ndim)) if a.ndim < ndim else a


def _scale(g: np.ndarray, y_pred: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """Turn per-element derivatives into dL/dy_pred of the weighted mean, in place.

    ``w`` is None or the weights from ``Loss._value_weights`` (one per loss value).
    """
    # The value averages over the batch and any middle axes (N, T, C), so the gradient must too.
    scale = y_pred.dtype.type(y_pred.shape[-1] / y_pred.size)
    if w is None:
        g *= scale
    else:
        g *= w.astype(y_pred.dtype, copy=False)[..., None] * scale
    return g


def _weighted_mean(values: np.ndarray, w: np.ndarray | None) -> float:
    """(1/size) Σ w ℓ over the loss values (N, ...); ``w`` is None or the weights from
    ``Loss._value_weights``. Summed in float64 so a long sequence loses no precision."""
    if w is not None:
        values = values * w.astype(values.dtype, copy=False)
    return values.sum(dtype=np.float64) / max(1, values.size)


class _Crossentropy(Loss):
    classification = True

    def __init__(self, from_logits: bool = False, name: str | None = None):
        super().__init__(name)
        self.from_logits = bool(from_logits)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits}

    def with_logits(self) -> "_Crossentropy":
        """The same loss computed from pre-activation logits: the fused, stable form."""
        config = self.get_config()
        config["from_logits"] = True
        return type(self).from_config(config)


@register("loss", "categorical_crossentropy")
class CategoricalCrossentropy(_Crossentropy):
    """Cross-entropy for one-hot (or soft) targets over C classes.

    Shapes:
        y_true, y_pred: (N, C).

    Math:
        ℓ = -Σ_c y_c log p_c. With probabilities: dℓ/dp = -y / p.
        With logits z (p = softmax z): ℓ = -Σ y ⊙ log_softmax(z), dℓ/dz = p Σ_c y_c - y, which
        is p - y for one-hot rows; this is the fused gradient used after a softmax layer.

    Example:
        >>> import numpy as np, glassnet as gn
        >>> round(gn.losses.CategoricalCrossentropy()(np.array([[0, 1.]]), np.array([[.3, .7]])), 4)
        0.3567
    """

    fuses_with = "softmax"

    def call(self, y_true, y_pred):
        if self.from_logits:
            return -(y_true * log_softmax(y_pred)).sum(axis=-1)
        p = np.clip(y_pred, EPSILON, 1 - EPSILON)
        return -(y_true * np.log(p)).sum(axis=-1)

    def grad(self, y_true, y_pred):
        if self.from_logits:
            return softmax(y_pred) * y_true.sum(axis=-1, keepdims=True) - y_true
        inside = (y_pred >= EPSILON) & (y_pred <= 1 - EPSILON)  # clip's gradient is 0 outside
        return (-y_true / np.clip(y_pred, EPSILON, 1 - EPSILON) * inside).astype(y_pred.dtype)

    def values_and_grad(self, y_true, y_pred):
        if not self.from_logits:
            return super().values_and_grad(y_true, y_pred)
        # One log-softmax serves both the value and the gradient on the training hot path.
        logp = log_softmax(y_pred)
        g = np.exp(logp)
        g *= y_true.sum(axis=-1, keepdims=True)
        g -= y_true
        return -(y_true * logp).sum(axis=-1), g

    def validate_targets(self, y, output_shape):
        y = np.asarray(y)
        classes = output_shape[-1]
        if y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1 and classes != 1):
            raise ValueError(
                f"categorical_crossentropy needs one-hot targets of shape (N, {classes}); got y of "
                f"shape {y.shape}. Use gn.utils.to_categorical(y, {classes}) or the loss "
                f"'sparse_categorical_crossentropy' for integer labels."
            )
        y = super().validate_targets(y, output_shape)
        if y.min() < 0 or y.max() > 1:
            raise ValueError(
                f"categorical_crossentropy targets must be probabilities in [0, 1]; found values "
                f"from {y.min()} to {y.max()}."
            )
        return y


@register("loss", "sparse_categorical_crossentropy")
class SparseCategoricalCrossentropy(_Crossentropy):
    """Cross-entropy for integer class labels: one per sample, or one per time step.

    Shapes:
        y_true: (N,) or (N, 1) integers in [0, C) for y_pred (N, C); (N, T) (or (N, T, 1)) for
        a sequence output y_pred (N, T, C), as Keras takes them.

    Math:
        ℓ = -log p_y; dℓ/dp = -1/p_y at the label, 0 elsewhere.
        With logits: dℓ/dz = softmax(z) - onehot(y).
    """

    fuses_with = "softmax"

    def conform(self, y_true, y_pred):
        """The labels in the shape ``y_pred.shape[:-1]``: one per row of class scores."""
        y_true = backend.array_module(y_pred).asarray(y_true)
        rows = y_pred.shape[:-1]
        if y_true.shape not in (rows, rows + (1,)):
            raise ValueError(
                f"{self.name}: labels must have shape {rows} (one per row of class scores, y_pred "
                f"{y_pred.shape}); got {y_true.shape}."
            )
        return y_true.reshape(rows)

    @staticmethod
    def _flat(y_true, y_pred) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(labels (M,), the scores as (M, C) rows, arange(M)): a sequence's steps become rows."""
        xp = backend.array_module(y_pred)
        labels = xp.asarray(y_true).reshape(-1).astype(np.intp, copy=False)
        return labels, y_pred.reshape(-1, y_pred.shape[-1]), xp.arange(labels.shape[0])

    def call(self, y_true, y_pred):
        labels, z, rows = self._flat(y_true, y_pred)
        if self.from_logits:
            return -log_softmax(z)[rows, labels].reshape(y_pred.shape[:-1])
        return -np.log(np.clip(z[rows, labels], EPSILON, 1 - EPSILON)).reshape(y_pred.shape[:-1])

    def grad(self, y_true, y_pred):
        labels, z, rows = self._flat(y_true, y_pred)
        if self.from_logits:
            g = softmax(z)
            g[rows, labels] -= 1
            return g.reshape(y_pred.shape)
        g = np.zeros_like(z)
        p = z[rows, labels]
        inside = (p >= EPSILON) & (p <= 1 - EPSILON)
        g[rows, labels] = -1 / np.clip(p, EPSILON, 1 - EPSILON) * inside
        return g.reshape(y_pred.shape)

    def values_and_grad(self, y_true, y_pred):
        if not self.from_logits:
            return super().values_and_grad(y_true, y_pred)
        labels, z, rows = self._flat(y_true, y_pred)
        logp = log_softmax(z)  # shared by the value and the gradient, as in the one-hot loss
        g = np.exp(logp)
        g[rows, labels] -= 1
        return -logp[rows, labels].reshape(y_pred.shape[:-1]), g.reshape(y_pred.shape)

    def validate_targets(self, y, output_shape):
        y = np.asarray(y)
        classes = output_shape[-1]
        rows = tuple(output_shape[1:-1])  # () for (N, C) outputs, (T,) for (N, T, C)
        shape = "(N,)" if not rows else f"(N, {', '.join(map(str, rows))})"
        if fits_shape(y.shape[1:], output_shape[1:]) and classes > 1:
            raise ValueError(
                f"sparse_categorical_crossentropy needs integer labels of shape {shape}; y looks "
                f"one-hot with shape {y.shape}. Use 'categorical_crossentropy' or y.argmax(axis=-1)."
            )
        if not (fits_shape(y.shape[1:], rows) or fits_shape(y.shape[1:], rows + (1,))):
            raise ValueError(f"sparse_categorical_crossentropy labels must have shape {shape} for outputs "
                             f"{(None, *output_shape[1:])}; got {y.shape}."
                             + sequence_hint((*y.shape, classes) if y.ndim == 1 else y.shape, output_shape[1:]))
        y = y.reshape(y.shape[:1 + len(rows)])  # drop a trailing 1: (N, T, 1) -> (N, T)
        if y.dtype.kind == "f" and not np.all(y == np.round(y)):
            raise ValueError("sparse_categorical_crossentropy labels must be whole numbers (class indices).")
        if y.size and (y.min() < 0 or y.max() >= classes):
            raise ValueError(
                f"Labels out of range: found labels from {int(y.min())} to {int(y.max())}, but the "
                f"model's last layer has {classes} units, so labels must be in [0, {classes - 1}]. "
                f"Set the last layer's units to the number of classes."
            )
        return y.astype(np.int64)


@register("loss", "binary_crossentropy")
class BinaryCrossentropy(_Crossentropy):
    """Binary cross-entropy, averaged over the last axis (one or several independent outputs).

    Shapes:
        y_true, y_pred: (N, K) with targets in [0, 1]; a (N,) target meets (N, 1) outputs.

    Math:
        ℓ = -mean_k [y log p + (1 - y) log(1 - p)]; dℓ/dp = (p - y) / (p (1 - p)) / K.
        With logits z (p = σ(z)): ℓ = mean_k [max(z, 0) - z y + log(1 + e^{-|z|})],
        dℓ/dz = (σ(z) - y) / K; the fused gradient used after a sigmoid layer.
    """

    fuses_with = "sigmoid"

    def call(self, y_true, y_pred):
        if self.from_logits:
            z = y_pred
            return (np.maximum(z, 0) - z * y_true + np.log1p(np.exp(-np.abs(z)))).mean(axis=-1)
        p = np.clip(y_pred, EPSILON, 1 - EPSILON)
        return -(y_true * np.log(p) + (1 - y_true) * np.log(1 - p)).mean(axis=-1)

    def grad(self, y_true, y_pred):
        k = y_pred.shape[-1]
        if self.from_logits:
            return (sigmoid(y_pred) - y_true) / y_pred.dtype.type(k)
        p = np.clip(y_pred, EPSILON, 1 - EPSILON)
        inside = (y_pred >= EPSILON) & (y_pred <= 1 - EPSILON)
        return ((p - y_true) / (p * (1 - p)) / k * inside).astype(y_pred.dtype)

    def validate_targets(self, y, output_shape):
        y = super().validate_targets(y, output_shape)
        if y.size and (y.min() < 0 or y.max() > 1):
            raise ValueError(
                f"binary_crossentropy targets must be in [0, 1]; found values from {y.min()} to "
                f"{y.max()}. Encode the two classes as 0 and 1."
            )
        return y


@register("loss", "mse", "mean_squared_error")
class MeanSquaredError(Loss):
    """Math: ℓ = mean_k (p - y)²; dℓ/dp = 2 (p - y) / K."""

    def call(self, y_true, y_pred):
        return np.square(y_pred - y_true).mean(axis=-1)

    def grad(self, y_true, y_pred):
        return (y_pred - y_true) * y_pred.dtype.type(2.0 / y_pred.shape[-1])


@register("loss", "mae", "mean_absolute_error")
class MeanAbsoluteError(Loss):
    """Math: ℓ = mean_k |p - y|; dℓ/dp = sign(p - y) / K."""

    def call(self, y_true, y_pred):
        return np.abs(y_pred - y_true).mean(axis=-1)

    def grad(self, y_true, y_pred):
        return np.sign(y_pred - y_true) * y_pred.dtype.type(1.0 / y_pred.shape[-1])


@register("loss", "huber")
class Huber(Loss):
    """Squared error near zero, absolute error beyond ``delta``.

    Math: e = p - y; ℓ = mean_k (½e² if |e| ≤ δ else δ(|e| - ½δ)); dℓ/dp = clip(e, -δ, δ) / K.
    """

    def __init__(self, delta: float = 1.0, name: str | None = None):
        super().__init__(name)
        if delta <= 0:
            raise ValueError(f"Huber delta must be > 0; got {delta}.")
        self.delta = float(delta)

    def call(self, y_true, y_pred):
        e = np.abs(y_pred - y_true)
        d = self.delta
        return np.where(e <= d, 0.5 * e * e, d * (e - 0.5 * d)).mean(axis=-1)

    def grad(self, y_true, y_pred):
        return np.clip(y_pred - y_true, -self.delta, self.delta) * y_pred.dtype.type(1.0 / y_pred.shape[-1])

    def get_config(self):
        return {**super().get_config(), "delta": self.delta}


@register("loss", "log_cosh", "logcosh")
class LogCosh(Loss):
    """Like the squared error for small errors and the absolute error for large ones, smooth
    everywhere (Keras' ``LogCosh``).

    Math: e = p - y; ℓ = mean_k log cosh e, as |e| + log(1 + e^(-2|e|)) - log 2 (no overflow);
    dℓ/dp = tanh(e) / K.
    """

    def call(self, y_true, y_pred):
        e = np.abs(y_pred - y_true)
        return (e + np.log1p(np.exp(-2 * e)) - np.log(2.0)).mean(axis=-1)

    def grad(self, y_true, y_pred):
        return np.tanh(y_pred - y_true) * y_pred.dtype.type(1.0 / y_pred.shape[-1])


@register("loss", "poisson")
class Poisson(Loss):
    """The Poisson negative log-likelihood of counts y given a rate p > 0, without the log y!
    term (Keras' ``Poisson``; PyTorch's ``poisson_nll_loss(log_input=False)``).

    Math: ℓ = mean_k (p - y log(p + ε)), ε = 1e-7; dℓ/dp = (1 - y / (p + ε)) / K.
    """

    def call(self, y_true, y_pred):
        return (y_pred - y_true * np.log(y_pred + EPSILON)).mean(axis=-1)

    def grad(self, y_true, y_pred):
        return (1 - y_true / (y_pred + EPSILON)) * y_pred.dtype.type(1.0 / y_pred.shape[-1])


@register("loss", "kl_divergence", "kld", "kullback_leibler_divergence")
class KLDivergence(Loss):
    """Kullback-Leibler divergence of the predicted distribution from the true one, summed over
    the last axis (Keras' ``KLDivergence``: both clipped to [ε, 1] first, ε = 1e-7).

    Math: ℓ = Σ_k y log(y / p); dℓ/dp = -y / p where ε < p < 1, else 0 (the clip's slope).
    """

    def call(self, y_true, y_pred):
        y, p = np.clip(y_true, EPSILON, 1), np.clip(y_pred, EPSILON, 1)
        return (y * np.log(y / p)).sum(axis=-1)

    def grad(self, y_true, y_pred):
        y = np.clip(y_true, EPSILON, 1)
        inside = (y_pred > EPSILON) & (y_pred < 1)
        return (-y / np.clip(y_pred, EPSILON, 1) * inside).astype(y_pred.dtype, copy=False)


@register("loss", "msle", "mean_squared_logarithmic_error")
class MeanSquaredLogarithmicError(Loss):
    """The squared error of log(1 + ·), for targets spanning orders of magnitude (Keras'
    ``MeanSquaredLogarithmicError``).

    Math: a = log(1 + max(p, ε)), b = log(1 + max(y, ε)); ℓ = mean_k (a - b)²;
    dℓ/dp = 2 (a - b) / (1 + p) / K where p > ε, else 0.
    """

    def call(self, y_true, y_pred):
        return np.square(np.log1p(np.maximum(y_pred, EPSILON)) - np.log1p(np.maximum(y_true, EPSILON))).mean(axis=-1)

    def grad(self, y_true, y_pred):
        d = np.log1p(np.maximum(y_pred, EPSILON)) - np.log1p(np.maximum(y_true, EPSILON))
        slope = (y_pred > EPSILON) / (1 + np.maximum(y_pred, EPSILON))
        return (2 * d * slope / y_pred.shape[-1]).astype(y_pred.dtype, copy=False)


def masked(mask) -> dict:
    """``{"mask": mask}`` for a loss or metric call, or ``{}`` without a mask, so that a loss
    written before masks (a custom ``value_and_gradient(y_true, y_pred, sample_weight)``) still
    serves unmasked outputs."""
    return {} if mask is None else {"mask": mask}


def fused_with(loss, activation):
    """The logits form of ``loss`` when ``activation`` is the one it pairs with, else None.

    softmax (along the last axis) pairs with the categorical cross-entropies and sigmoid with
    binary cross-entropy; the model then trains on the pre-activation with the exact gradient p - y.
    """
    fuses = getattr(loss, "fuses_with", None)
    if activation is None or fuses != activation.name or loss.from_logits:
        return None
    if fuses == "softmax" and activation.axis != -1:
        return None
    return loss.with_logits()


# -- Keras' functional forms: per-sample values, shape (N,) ---------------------------------------
# Each also stands for its class where a loss is expected (``loss=gn.losses.mse``) and may be a
# metric (``metrics=[gn.losses.categorical_crossentropy]``): registered as metric functions so
# a saved model names them (mse and mae through gn.metrics, which holds the same functions).
def _per_sample(loss: Loss, y_true, y_pred) -> np.ndarray:
    y_pred = _as_float(y_pred)
    return loss.call(loss.conform(y_true, y_pred), y_pred)


@register("metric_function")
def categorical_crossentropy(y_true, y_pred, from_logits: bool = False) -> np.ndarray:
    """-Σ_c y_c log p_c per sample, for one-hot ``y_true`` (``keras.losses.categorical_crossentropy``)."""
    return _per_sample(CategoricalCrossentropy(from_logits=from_logits), y_true, y_pred)


@register("metric_function")
def sparse_categorical_crossentropy(y_true, y_pred, from_logits: bool = False) -> np.ndarray:
    """-log p_y per sample, for integer labels ``y_true`` (``keras.losses.sparse_categorical_crossentropy``)."""
    return _per_sample(SparseCategoricalCrossentropy(from_logits=from_logits), y_true, y_pred)


@register("metric_function")
def binary_crossentropy(y_true, y_pred, from_logits: bool = False) -> np.ndarray:
    """Binary cross-entropy averaged over the last axis, per sample (``keras.losses.binary_crossentropy``)."""
    return _per_sample(BinaryCrossentropy(from_logits=from_logits), y_true, y_pred)


def mean_squared_error(y_true, y_pred) -> np.ndarray:
    """mean_k (y - ŷ)² per sample (``keras.losses.mean_squared_error``, alias ``mse``)."""
    return _per_sample(MeanSquaredError(), y_true, y_pred)


def mean_absolute_error(y_true, y_pred) -> np.ndarray:
    """mean_k |y - ŷ| per sample (``keras.losses.mean_absolute_error``, alias ``mae``)."""
    return _per_sample(MeanAbsoluteError(), y_true, y_pred)


@register("metric_function")
def huber(y_true, y_pred, delta: float = 1.0) -> np.ndarray:
    """Huber loss averaged over the last axis, per sample (``keras.losses.huber``)."""
    return _per_sample(Huber(delta=delta), y_true, y_pred)


@register("metric_function")
def log_cosh(y_true, y_pred) -> np.ndarray:
    """mean_k log cosh(ŷ - y) per sample (``keras.losses.log_cosh``)."""
    return _per_sample(LogCosh(), y_true, y_pred)


@register("metric_function")
def poisson(y_true, y_pred) -> np.ndarray:
    """mean_k (ŷ - y log(ŷ + ε)) per sample (``keras.losses.poisson``)."""
    return _per_sample(Poisson(), y_true, y_pred)


@register("metric_function")
def kl_divergence(y_true, y_pred) -> np.ndarray:
    """Σ_k y log(y / ŷ) per sample (``keras.losses.kl_divergence``)."""
    return _per_sample(KLDivergence(), y_true, y_pred)


@register("metric_function")
def mean_squared_logarithmic_error(y_true, y_pred) -> np.ndarray:
    """mean_k (log(1 + ŷ) - log(1 + y))² per sample (``keras.losses.mean_squared_logarithmic_error``)."""
    return _per_sample(MeanSquaredLogarithmicError(), y_true, y_pred)


mse, mae, msle = mean_squared_error, mean_absolute_error, mean_squared_logarithmic_error

_FUNCTIONS = {categorical_crossentropy: CategoricalCrossentropy,
              sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
              binary_crossentropy: BinaryCrossentropy, mean_squared_error: MeanSquaredError,
              mean_absolute_error: MeanAbsoluteError, huber: Huber, log_cosh: LogCosh, poisson: Poisson,
              kl_divergence: KLDivergence, mean_squared_logarithmic_error: MeanSquaredLogarithmicError}


def get(identifier) -> Loss:
    """A loss from a name ("mse", "categorical_crossentropy"), a serialized dict, an instance or
    one of this module's functions (``loss=gn.losses.categorical_crossentropy``, as in Keras)."""
    if isinstance(identifier, Loss):
        return identifier
    if callable(identifier) and not isinstance(identifier, (str, dict)):
        if identifier in _FUNCTIONS:
            return _FUNCTIONS[identifier]()
        raise TypeError("Pass a glassnet Loss instance, a name or one of gn.losses' functions; plain functions "
                        "have no gradient (subclass gn.losses.Loss with call and grad).")
    return deserialize("loss", identifier)
