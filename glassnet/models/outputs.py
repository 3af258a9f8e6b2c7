"""Several inputs and outputs in training: arrays sliced together, per-output losses and metrics.

The training loop (training.py) slices ``x[idx]``, reads ``x.shape[0]`` and hands ``(y, y_pred)``
to each metric. A graph's inputs and targets are ``Arrays`` (several arrays sliced as one), and its
metrics are ``OutputMetric``s, each reading its own output, so the same loop trains both kinds of
model and History gets Keras' names (``risk_loss``, ``days_accuracy``, ``val_days_loss``).
"""

from __future__ import annotations

import numpy as np

from glassnet import losses as losses_module
from glassnet import metrics as metrics_module
from glassnet.losses import masked
from glassnet.models import data


class Arrays:
    """Arrays with one sample axis, indexed together: ``Arrays([a, b])[idx]`` is ``Arrays([a[idx], b[idx]])``.

    Only the sample count is a shape: ``shape == (N,)``.
    """

    def __init__(self, arrays: list):
        self.arrays = list(arrays)

    @property
    def shape(self) -> tuple:
        return (self.arrays[0].shape[0],)

    def __getitem__(self, index) -> "Arrays":
        return Arrays([a[index] for a in self.arrays])

    def __len__(self) -> int:
        return self.arrays[0].shape[0]


def per_output(value, names: list[str], what: str, example: str, producers: list[str] | None = None) -> list:
    """``value`` spread over the outputs: a dict by output name, a list in output order, or one
    value for every output (None for an output a dict leaves out).

    ``producers``: per output, the name of the layer that computes it. A dict key naming that
    layer serves each of its outputs that has no key of its own, as in Keras 3, which names every
    output of a nested model (or of an LSTM's ``return_state``) by that layer: ``{"block": "mse"}``
    covers ``block`` and ``block_1``.
    """
    if isinstance(value, dict):
        unknown = [k for k in value if k not in names and k not in (producers or [])]
        if unknown:
            raise ValueError(f"{what} names {unknown}, which are not outputs of this model; the outputs "
                             f"are {names}, e.g. {what}={example}.")
        return [value[name] if name in value else value.get(layer)
                for name, layer in zip(names, producers or names)]
    if isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise ValueError(f"{what} is a list of {len(value)} for a model with {len(names)} outputs "
                             f"{names}; give one entry per output, or a dict by name, e.g. {what}={example}.")
        return list(value)
    return [value] * len(names)


def compile_outputs(names: list[str], loss, metrics, loss_weights, producers: list[str] | None = None):
    """Losses, loss weights and metric trackers per output, checked (Keras' compile rules);
    ``producers``: as ``per_output`` takes them.

    Returns:
        (losses, weights, trackers): trackers are the model's ``metrics``: with several outputs,
        first one ``<output>_loss`` per output, then ``<output>_<metric>`` for each metric.
    """
    example = "{" + ", ".join(f"{n!r}: 'mse'" for n in names) + "}"
    losses = per_output(loss, names, "loss", example, producers)
    missing = [n for n, item in zip(names, losses) if item is None]
    if missing:
        raise ValueError(f"compile needs a loss for every output; none given for {missing}, e.g. loss={example}.")
    losses = [losses_module.get(item) for item in losses]
    for item in losses:
        if not isinstance(item, losses_module.Loss):
            raise TypeError(f"loss must be a name such as 'mse' or a glassnet Loss; got {type(item).__name__}.")
    weights = [1.0 if w is None else float(w) for w in per_output(1.0 if loss_weights is None else loss_weights,
                                                                  names, "loss_weights", f"{{{names[0]!r}: 0.5}}", producers)]
    if metrics is not None and not isinstance(metrics, (list, tuple, dict)):
        raise TypeError("metrics must be a list, or a dict by output name, e.g. metrics=['accuracy'].")
    if isinstance(metrics, (list, tuple)) and len(names) > 1 and not all(isinstance(m, (list, tuple)) for m in metrics):
        raise ValueError(f"This model has {len(names)} outputs {names}: give metrics as a dict by output name, "
                         f"e.g. metrics={{{names[0]!r}: ['accuracy']}}, or a list of lists, one per output.")
    if len(names) == 1 and isinstance(metrics, (list, tuple)) and len(metrics) == 1 and isinstance(metrics[0], list):
        per = [list(metrics[0])]  # a list of lists, as get_compile_config writes it
    elif len(names) == 1 and not isinstance(metrics, dict):
        per = [list(metrics or [])]
    else:
        per = [[] if m is None else ([m] if isinstance(m, str) else list(m))
               for m in per_output(metrics or {}, names, "metrics", f"{{{names[0]!r}: ['accuracy']}}", producers)]
    trackers = []
    if len(names) > 1:  # one output's loss is the total: Keras logs per-output losses only for several
        trackers += [OutputLoss(item, i, f"{name}_loss") for i, (name, item) in enumerate(zip(names, losses))]
    for i, (name, items) in enumerate(zip(names, per)):
        for item in items:
            metric = metrics_module.get(item)
            trackers.append(OutputMetric(metric, i, metric.name if len(names) == 1 else f"{name}_{metric.name}"))
    tracker_names = [t.name for t in trackers]
    if len(set(tracker_names)) != len(tracker_names):
        raise ValueError(f"Metric names must be unique; got {tracker_names}.")
    return losses, weights, trackers


class OutputMetric:
    """A metric of one output: ``update_state`` reads entry ``index`` of the targets and predictions."""

    def __init__(self, metric, index: int, name: str):
        self.metric, self.index, self.name = metric, index, name

    def update_state(self, y_true, y_pred, sample_weight=None, mask=None) -> None:
        """``mask``: None, or the outputs' masks in output order (this metric reads its own)."""
        own = None if mask is None else mask[self.index]
        self.metric.update_state(y_true.arrays[self.index], y_pred.arrays[self.index], sample_weight, **masked(own))

    def result(self) -> float:
        return self.metric.result()

    def reset_state(self) -> None:
        self.metric.reset_state()

    def adapt(self, y_true) -> None:
        if hasattr(self.metric, "adapt"):
            self.metric.adapt(y_true.arrays[self.index])


class OutputLoss:
    """One output's loss (before its loss weight), averaged over the samples seen: ``risk_loss``."""

    def __init__(self, loss, index: int, name: str):
        self.loss, self.index, self.name = loss, index, name
        self.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None, mask=None) -> None:
        """``mask``: None, or the outputs' masks in output order (this loss reads its own)."""
        n = y_true.arrays[self.index].shape[0]
        own = None if mask is None else mask[self.index]
        value = self.loss(y_true.arrays[self.index], y_pred.arrays[self.index], sample_weight, **masked(own))
        self._total += value * n
        self._count += n

    def result(self) -> float:
        return self._total / max(self._count, 1)

    def reset_state(self) -> None:
        self._total, self._count = 0.0, 0


def by_name(arrays: dict, names: list[str], what: str, kind: str, item: str = "array") -> list:
    """``arrays[name]`` for each name in order; a named error for a missing or unknown key
    (``item``: what the dict holds, for the message)."""
    missing = [n for n in names if n not in arrays]
    extra = [k for k in arrays if k not in names]
    if missing or extra:
        raise ValueError(f"{what} must hold one {item} per {kind} {names}; "
                         + (f"missing {missing}" if missing else "") + ("; " if missing and extra else "")
                         + (f"unknown {extra}" if extra else "") + ".")
    return [arrays[n] for n in names]


def prepare_targets(model, y, y_name: str) -> list[np.ndarray]:
    """Targets per output, from an array (one output), a list in output order or a dict by name."""
    names = model.output_names
    if y is None:
        raise ValueError(f"{y_name} is None; pass the targets, one array per output {names}.")
    if isinstance(y, dict):
        y = by_name(y, names, y_name, "output")
    elif isinstance(y, (list, tuple)) and len(names) > 1:
        y = list(y)
    else:  # one output: y is its target (an array, or a plain list of labels)
        y = [y]
    if len(y) != len(names):
        raise ValueError(f"{y_name} is a list of {len(y)} arrays for a model with {len(names)} outputs {names}.")
    out = []
    for name, target, loss, tensor in zip(names, y, model.loss, model.outputs):
        shape, dtype = tensor.shape, tensor.dtype
        target = data.as_array(np.asarray(target.to_numpy() if hasattr(target, "to_numpy") else target),
                               f"{y_name}[{name!r}]", dtype, targets=True)
        try:
            target = loss.validate_targets(target, shape)
        except ValueError as err:
            raise ValueError(f"{y_name}[{name!r}]: {err}") from None
        out.append(target.astype(dtype, copy=False) if target.dtype.kind == "f" else target)
    return out


def check_sample_counts(**named: dict) -> int:
    """The common sample count of every array (``x={input name: array}, y={output name: ...}``);
    an error naming each array's count when they differ."""
    counts = {f"{group}[{name!r}]": a.shape[0] for group, arrays in named.items() for name, a in arrays.items()}
    if len(set(counts.values())) > 1:
        got = ", ".join(f"{name}: {count}" for name, count in counts.items())
        raise ValueError(f"Every input and target needs the same number of samples (one row per sample); got {got}.")
    return next(iter(counts.values()))


# -- what the training loop asks of a graph (glassnet/models/training.py) ----------------------------
def prepare_xy(model, x, y, x_name: str = "x", y_name: str = "y"):
    """Inputs and targets as checked ``Arrays``, from arrays, lists or dicts by name."""
    xs = model.input_arrays(x, x_name)
    ys = prepare_targets(model, y, y_name)
    check_sample_counts(**{x_name: dict(zip(model.input_names, xs)), y_name: dict(zip(model.output_names, ys))})
    return Arrays(xs), Arrays(ys)


def forward_loss(model, x, y, sample_weight, training: bool, need_pred: bool = True, masks: list | None = None):
    """Forward, then Σₖ wₖ lossₖ. Returns (loss, predictions as ``Arrays`` or None, the gradient
    wrt each output: wrt its pre-activation where the loss is fused with the output's activation).
    Each loss leaves out the time steps its output's mask drops; ``masks``, if given, receives
    the outputs' masks (None where an output has none)."""
    fused = _fused_outputs(model)
    out_masks = []
    outs = model.forward(x.arrays, training=training, logits=fused, masks=out_masks)
    if masks is not None:
        masks.extend(out_masks)
    total, grads, preds = 0.0, [], []
    for k, (out, target, mask) in enumerate(zip(outs, y.arrays, out_masks)):
        if k in fused:
            value, grad = model.fused_losses[k].value_and_gradient(target, out, sample_weight, **masked(mask))
            out = model.output_activation(k).forward(out) if need_pred else None
        else:
            value, grad = model.loss[k].value_and_gradient(target, out, sample_weight, **masked(mask))
        weight = model.loss_weights[k]
        total += weight * value
        grads.append(grad if weight == 1 else grad * grad.dtype.type(weight))
        preds.append(out)
    return total, (Arrays(preds) if need_pred else None), grads


def backward_loss(model, grads) -> None:
    """Back-propagate ``forward_loss``'s gradients into every layer's ``grads``."""
    model.backward(grads, logits=_fused_outputs(model), input_grads=False)


def _fused_outputs(model) -> frozenset:
    return frozenset(k for k, fused in enumerate(model.fused_losses) if fused is not None)


def stratify_labels(model, y):
    """The targets of the first classification output (for a stratified ``validation_split``), or None."""
    for k, loss in enumerate(model.loss):
        if loss.classification:
            return y.arrays[k]
    return None


def class_weight_targets(model, y):
    """The targets ``class_weight`` weighs: a Sequential's, or a one-output graph's only output's."""
    if not getattr(model, "is_graph", False):
        return y
    if len(y.arrays) > 1:
        raise ValueError(f"class_weight needs a model with one output; {model.name!r} has {len(y.arrays)} "
                         f"{model.output_names}. Pass sample_weight instead (one weight per sample), "
                         f"e.g. built from one output's classes.")
    return y.arrays[0]
