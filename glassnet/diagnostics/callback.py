"""The ``Diagnostics`` callback: name the classic training problems while they happen.

It watches per-layer gradient sizes (read from ``layer.grads`` after every batch), activation
statistics (one forward pass over a fixed sample of the training data after every epoch),
how far the weights moved, and the loss curves. Each problem is reported once, in plain words,
with the evidence and a suggested fix; the reports are printed and kept in ``findings``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from glassnet import losses
from glassnet.callbacks.callback import Callback
from glassnet.diagnostics import recurrent_steps
from glassnet.diagnostics.explain import _ratio, activation_stats
from glassnet.layers.masking import call_with_mask
from glassnet.layers.reshaping import Input as InputLayer
from glassnet.models import data, graph, outputs, placement


@dataclass
class Finding:
    """One diagnosis.

    Attributes:
        kind: "dead_relu", "vanishing_gradients", "vanishing_gradients_through_time",
            "exploding_gradients", "overfitting", "underfitting", "learning_rate_too_high",
            "learning_rate_too_low", "one_class_validation" or "class_balance_shift".
        epoch: the epoch (0-based) after which it was found; -1 before training.
        message: what was seen, with the figures.
        fix: what to try.
        evidence: the figures as data.
    """

    kind: str
    epoch: int
    message: str
    fix: str
    evidence: dict = field(default_factory=dict)

    def __str__(self):
        when = "before training" if self.epoch < 0 else f"after epoch {self.epoch + 1}"
        return f"Diagnostics ({when}) - {self.kind.replace('_', ' ')}: {self.message}\n  Try: {self.fix}"


class Diagnostics(Callback):
    """Watch training and report dead ReLUs, vanishing or exploding gradients (through the layers,
    or through time in a recurrent layer), over- and underfitting, a learning rate too high or too
    low, and unrepresentative validation sets.

    ``fit(..., diagnose=True)`` adds one with the training and validation data. Created by
    hand without data, it still watches gradients and the loss curves; the checks that need
    data (dead units, class balance, comparison with a constant predictor) are then skipped.

    Graph models (``gn.Model``) are watched alike: the activation statistics come from one
    forward over the sample through every layer call in graph order (a shared layer's later
    calls are named ``layer[1]``, ...), the gradient ratio compares the first and the last layer
    with parameters in that order, the constant-predictor baseline is the loss-weighted sum of
    each output's, and each output's loss is kept per epoch (``loss/<output>``). The class-balance
    checks read the first classification output.

    Args:
        x, y: training inputs and targets (for a graph model: lists or dicts by name, as ``fit``
            takes them); a fixed sample of at most ``sample_size`` rows is kept for the
            activation statistics and the constant-predictor baseline.
        validation_data: ``(x_val, y_val)`` for the class-balance checks.
        patience: epochs a trend must last (overfitting, flat or oscillating losses).
        dead_share: report a ReLU layer once this share of its units is dead (outputs 0 for
            every sample).
        vanishing_ratio / exploding_ratio: report when the first layer's gradient RMS is
            below / above this multiple of the last layer's.
        growth: report exploding gradients when a layer's gradient RMS grows this many times
            over its first epoch's.
        time_ratio: report vanishing gradients through time when, over an epoch, the gradient
            reaching a recurrent layer's first step (its states after step 0) is below this
            multiple of the one at its last step (default 1e-6: the first step's share of the
            weight gradient is then lost in float32 rounding). ``epochs`` keeps the ratio as
            ``time_ratio/<layer>``. To measure it, the recurrent layers keep references to each
            step's states and state gradients (``Recurrent.trace``) until training ends.
        sample_size: rows kept for the activation statistics.
        print_fn: called with each finding's text; None keeps them silent.

    Attributes:
        findings: the ``Finding`` objects, in the order found.
        epochs: per epoch, a dict of the figures watched (``to_dataframe()`` tabulates them).

    Example:
        >>> import numpy as np, glassnet as gn
        >>> x = np.random.default_rng(0).normal(size=(64, 3)); y = x.sum(axis=1, keepdims=True)
        >>> model = gn.Sequential([gn.layers.Dense(8, activation="relu", input_shape=(3,)),
        ...                        gn.layers.Dense(1)], seed=0)
        >>> model.compile(optimizer=gn.optimizers.Adam(0.01), loss="mse")
        >>> watcher = gn.diagnostics.Diagnostics(x, y)
        >>> _ = model.fit(x, y, epochs=5, verbose=0, callbacks=[watcher])
        >>> len(watcher.epochs)
        5
    """

    KINDS = ("dead_relu", "vanishing_gradients", "exploding_gradients", "overfitting", "underfitting",
             "learning_rate_too_high", "learning_rate_too_low", "one_class_validation",
             "class_balance_shift", "vanishing_gradients_through_time")

    def __init__(self, x=None, y=None, validation_data=None, patience: int = 3, dead_share: float = 0.3,
                 vanishing_ratio: float = 1e-3, exploding_ratio: float = 1e3, growth: float = 100.0,
                 sample_size: int = 512, print_fn=print,
                 time_ratio: float = recurrent_steps.VANISHED):
        super().__init__()
        if (x is None) != (y is None):
            raise ValueError("Give Diagnostics both x and y, or neither.")
        if int(patience) < 2:
            raise ValueError(f"patience must be at least 2 epochs; got {patience}.")
        self.x, self.y, self.validation_data = x, y, validation_data
        self.patience, self.dead_share = int(patience), float(dead_share)
        self.vanishing_ratio, self.exploding_ratio, self.growth = float(vanishing_ratio), float(exploding_ratio), float(growth)
        self.sample_size, self.print_fn = int(sample_size), print_fn
        self.time_ratio = float(time_ratio)
        self.findings: list[Finding] = []
        self.epochs: list[dict] = []

    # -- hooks ------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self.findings, self.epochs = [], []
        self._reported: set[str] = set()
        self._param_layers = [layer for layer in self.model.layers if layer.params and layer.trainable]
        self._sample = self._baseline = None
        self._graph = getattr(self.model, "is_graph", False)
        # The recurrent layers record their steps while training; on_train_end stops them.
        self._recurrent = recurrent_steps.start_recording(self.model.layers)
        if self.x is not None:
            x, ys = self._arrays(self.x, self.y, "x", "y")
            # Evenly spaced rows rather than the first ones: data is often sorted by class.
            n = x[0].shape[0]
            rows = np.unique(np.linspace(0, n - 1, min(self.sample_size, n)).astype(int))
            self._sample = list(placement.batch(*(a[rows] for a in x)))  # moved to the device once
            baselines = [self._constant_loss(y, loss, shape) for y, loss, shape in zip(ys, *self._outputs())]
            self._baseline = float(sum(w * b for w, b in zip(self._loss_weights(), baselines)))
            classified = self._classified()
            if classified is not None and self.validation_data is not None:
                _, ys_val = self._arrays(*self.validation_data[:2], "x_val", "y_val")
                self._check_classes(ys[classified], ys_val[classified])

    def _arrays(self, x, y, x_name, y_name) -> tuple[list, list]:
        """(inputs, targets per output) as checked lists of arrays, for either kind of model."""
        if self._graph:
            if not isinstance(x, outputs.Arrays):  # fit passes Arrays already prepared
                x, y = outputs.prepare_xy(self.model, x, y, x_name, y_name)
            return x.arrays, y.arrays
        model = self.model
        x = (data.as_text(x, x_name, model.input_shape[1:]) if data.takes_text(model.layers)
             else data.as_array(x, x_name, model.layers[0].dtype))
        return [x], [model.loss.validate_targets(np.asarray(y), model.output_shape)]

    def _outputs(self) -> tuple[list, list]:
        """(loss, output shape) of each output."""
        if self._graph:
            return list(self.model.loss), [t.shape for t in self.model.outputs]
        return [self.model.loss], [self.model.output_shape]

    def _loss_weights(self) -> list[float]:
        return list(self.model.loss_weights) if self._graph else [1.0]

    def _output_names(self) -> list[str]:
        return list(self.model.output_names) if self._graph else []

    def _classified(self) -> int | None:
        """The output whose classes the class-balance checks read (the first classification one)."""
        for k, loss in enumerate(self._outputs()[0]):
            if getattr(loss, "fuses_with", None) is not None:
                return k
        return None

    def on_epoch_begin(self, epoch, logs=None):
        self._start = {layer.name: [p.copy() for p in layer.params.values()] for layer in self._param_layers}
        self._sumsq = {layer.name: 0.0 for layer in self._param_layers}
        self._batches = 0
        self._nonfinite = False
        self._first_last = {name: [0.0, 0.0] for name, _, _ in self._recurrent}

    def on_train_batch_end(self, batch, logs=None):
        # The sums stay where the gradients are (0-d arrays on a GPU) until the epoch ends: one
        # copy to the host per figure and epoch, not per batch. A batch whose sum is not finite
        # leaves the running sum not finite too (squares are never negative), which on_epoch_end reads.
        for layer in self._param_layers:
            total = 0.0
            for g in layer.grads.values():
                total = total + np.square(g, dtype=np.float64).sum()
            self._sumsq[layer.name] = self._sumsq[layer.name] + total / max(1, sum(g.size for g in layer.grads.values()))
        for name, layer, _ in self._recurrent:
            state_grads = layer.trace.get("state_grads")
            if state_grads:  # dL/d(states) after the first and the last step of this batch
                first_last = self._first_last[name]
                first_last[0] = first_last[0] + recurrent_steps.squared_sum(state_grads[0])
                first_last[1] = first_last[1] + recurrent_steps.squared_sum(state_grads[-1])
        self._batches += 1

    def on_train_end(self, logs=None):
        recurrent_steps.stop_recording(self._recurrent)

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        stats = {"epoch": epoch, "loss": logs.get("loss"), "val_loss": logs.get("val_loss")}
        for layer in self._param_layers:
            sumsq = float(self._sumsq[layer.name])
            self._nonfinite = self._nonfinite or not math.isfinite(sumsq)
            stats[f"grad_rms/{layer.name}"] = math.sqrt(sumsq / max(1, self._batches))
            # The epoch's update of all the layer's parameters together: ||Δθ|| / ||θ||.
            stats[f"update_ratio/{layer.name}"] = _ratio(
                np.concatenate([p.ravel() for p in layer.params.values()]),
                np.concatenate([o.ravel() for o in self._start[layer.name]]))
        for name, (first, last) in self._first_last.items():
            first, last = float(first), float(last)
            stats[f"time_ratio/{name}"] = math.sqrt(first / last) if last > 0 and math.isfinite(first + last) else None
        for name in self._output_names() if len(self._output_names()) > 1 else []:
            stats[f"loss/{name}"] = logs.get(f"{name}_loss")
            stats[f"val_loss/{name}"] = logs.get(f"val_{name}_loss")
        if self._sample is not None and math.isfinite(logs.get("loss", math.nan)):
            for name, layer, out in self._layer_outputs():
                act = layer.output_activation
                for key, value in activation_stats(None if act is None else act.name, out).items():
                    stats[f"{key}/{name}"] = value
                if act is not None and act.name == "relu":
                    stats[f"dead_share/{name}"] = stats[f"dead_units/{name}"] / out.shape[-1]
        self.epochs.append(stats)
        for check in (self._check_dead, self._check_learning_rate, self._check_gradients,
                      self._check_through_time, self._check_overfitting, self._check_flat):
            check(epoch, logs)

    def _layer_outputs(self) -> list[tuple]:
        """(name, layer, output on the sample) of each layer call, in order: a Sequential's layers,
        or a graph's calls (a shared layer's later calls named ``layer[1]``, ...)."""
        if not self._graph:
            calls, out, mask = [], self._sample[0], None
            for layer in self.model.layers:
                out, mask = call_with_mask(layer, out, mask)
                calls.append((layer.name, layer, out))
            return calls
        values = {}
        self.model.forward(self._sample, values=values)
        index = graph.node_indices(self.model.nodes)
        return [(node.layer.name + (f"[{index[id(node)]}]" if index[id(node)] else ""), node.layer,
                 values[id(node.output)])
                for node in self.model.nodes if not isinstance(node.layer, InputLayer)]

    # -- results ----------------------------------------------------------------------------
    @property
    def kinds(self) -> list[str]:
        """The kinds of the findings so far."""
        return [f.kind for f in self.findings]

    def to_dataframe(self):
        import pandas as pd

        return pd.DataFrame(self.epochs).set_index("epoch")

    def report(self) -> str:
        if not self.findings:
            return "Diagnostics: no problems found."
        return "\n".join(str(f) for f in self.findings)

    def _report(self, kind, epoch, message, fix, **evidence):
        if kind in self._reported:
            return
        self._reported.add(kind)
        finding = Finding(kind, epoch, message, fix, evidence)
        self.findings.append(finding)
        if self.print_fn is not None:
            self.print_fn(str(finding))

    # -- the checks ---------------------------------------------------------------------------
    def _constant_loss(self, y, loss=None, output_shape=None) -> float:
        """The loss of always predicting the training mean (class shares for classification), for
        one output (by default a Sequential's only one)."""
        if loss is None:
            loss, output_shape = self.model.loss, self.model.output_shape
        # None, in a model for sequences of any length, is the targets' size on that axis.
        out_shape = (y.shape[0], *(y.shape[i + 1] if d is None else d for i, d in enumerate(output_shape[1:])))
        if y.ndim == len(out_shape) - 1 and out_shape[-1] > 1:  # sparse labels, (N,) or one per step (N, T)
            mean = np.bincount(y.reshape(-1).astype(np.int64), minlength=out_shape[-1]) / y.size
        else:
            mean = y.reshape(y.shape[0], -1).mean(axis=0).reshape(out_shape[1:])
        if isinstance(loss, losses.MeanAbsoluteError):
            mean = np.median(y.reshape(y.shape[0], -1), axis=0).reshape(out_shape[1:])
        pred = np.broadcast_to(mean.astype(np.float64), out_shape).copy()
        if getattr(loss, "from_logits", False):
            # The loss reads logits: the constant prediction is the logit of the shares.
            p = np.clip(pred, losses.EPSILON, 1 - losses.EPSILON)
            pred = np.log(p / (1 - p)) if isinstance(loss, losses.BinaryCrossentropy) else np.log(p)
        return float(loss(y, pred))

    def _check_classes(self, y, y_val):
        # Per-step targets give one class per step: count the steps, (N, T) flattened.
        train, val = data.class_indices(y).reshape(-1), data.class_indices(y_val).reshape(-1)
        classes = max(train.max(), val.max()) + 1
        p_train = np.bincount(train, minlength=classes) / train.size
        p_val = np.bincount(val, minlength=classes) / val.size
        present = np.flatnonzero(p_val)
        if present.size == 1 and np.count_nonzero(p_train) > 1:
            c = int(present[0])
            self._report(
                "one_class_validation", -1,
                f"the validation set holds only class {c} (all {val.size} samples), so validation "
                f"accuracy cannot show how the other classes fare; a model that always answers {c} "
                f"would score 100% there.",
                "split so every class appears on both sides: shuffle before splitting, or use "
                "validation_split (it stratifies) or sklearn's train_test_split(stratify=y).",
                classes=[c], validation_size=int(val.size))
            return
        diff = np.abs(p_train - p_val)
        worst = int(diff.argmax())
        if diff[worst] >= 0.2:
            self._report(
                "class_balance_shift", -1,
                f"class {worst} is {p_train[worst]:.0%} of the training set but {p_val[worst]:.0%} of the "
                f"validation set; validation scores will not predict scores on data like the training set.",
                "split with stratification (validation_split stratifies; sklearn: train_test_split("
                "stratify=y)), or, if the shift is real, weight the classes (class_weight=...) to match.",
                train_shares=p_train.tolist(), validation_shares=p_val.tolist())

    def _check_dead(self, epoch, logs):
        dead = {k.split("/", 1)[1]: v for k, v in self.epochs[-1].items()
                if k.startswith("dead_share/") and v >= self.dead_share}
        if not dead:
            return
        n = self._sample[0].shape[0]
        parts = ", ".join(f"{share:.0%} of the units in {name}" for name, share in dead.items())
        self._report(
            "dead_relu", epoch,
            f"{parts} output 0 for every one of {n} training samples. A dead ReLU passes no "
            f"gradient, so it cannot learn its way back.",
            "lower the learning rate, start biases at 0 (not negative), use he_normal initialisation, "
            "or switch to LeakyReLU / ELU.",
            dead_share=dead)

    def _check_gradients(self, epoch, logs):
        names = [layer.name for layer in self._param_layers]
        rms = {n: self.epochs[-1][f"grad_rms/{n}"] for n in names}
        if self._nonfinite:
            self._report("exploding_gradients", epoch,
                         "the gradients became infinite or NaN during this epoch.",
                         "lower the learning rate, scale the inputs, or clip gradients (optimizer clipnorm=1.0).",
                         grad_rms=rms)
            return
        if len(self.epochs) >= 2:
            for n in names:
                start = self.epochs[0][f"grad_rms/{n}"]
                if start > 0 and rms[n] / start > self.growth:
                    self._report(
                        "exploding_gradients", epoch,
                        f"the average gradient in {n} grew {rms[n] / start:,.0f}-fold since the first "
                        f"epoch ({start:.2g} -> {rms[n]:.2g}).",
                        "lower the learning rate, clip gradients (clipnorm=1.0), scale the inputs.",
                        grad_rms_first=start, grad_rms_now=rms[n], layer=n)
                    break
        if len(names) < 2 or {"exploding_gradients", "learning_rate_too_high", "dead_relu"} & self._reported:
            return  # divergence or dead units already explain odd ratios between layers
        first, last = rms[names[0]], rms[names[-1]]
        if first > 0 and last > 0 and first / last < self.vanishing_ratio:
            self._report(
                "vanishing_gradients", epoch,
                f"the average gradient in the first layer ({names[0]}: {first:.2g}) is "
                f"{last / first:,.0f} times smaller than in the last ({names[-1]}: {last:.2g}); the "
                f"first layers barely learn.",
                "use ReLU (or LeakyReLU) instead of sigmoid/tanh in hidden layers, he_normal or "
                "glorot initialisation, fewer layers, or BatchNormalization.",
                grad_rms=rms)
        elif last > 0 and first / last > self.exploding_ratio:
            self._report(
                "exploding_gradients", epoch,
                f"the average gradient in the first layer ({names[0]}: {first:.2g}) is "
                f"{first / last:,.0f} times larger than in the last ({names[-1]}: {last:.2g}).",
                "use smaller initial weights (glorot or he initialisation), clip gradients "
                "(clipnorm=1.0), lower the learning rate, or add BatchNormalization.",
                grad_rms=rms)

    def _check_through_time(self, epoch, logs):
        ratios = {name: self.epochs[-1][f"time_ratio/{name}"] for name in self._first_last}
        vanished = {name: r for name, r in ratios.items() if r is not None and r < self.time_ratio}
        if not vanished or self._nonfinite:
            return
        types = {name: type(layer).__name__ for name, layer, _ in self._recurrent}
        steps = {name: len(layer.trace["order"]) for name, layer, _ in self._recurrent if name in vanished}
        parts = ", ".join(f"{name} ({types[name]}, {steps[name]} steps): {r:.1e}" for name, r in vanished.items())
        simple = any(types[name] == "SimpleRNN" for name in vanished)
        self._report(
            "vanishing_gradients_through_time", epoch,
            f"the gradient reaching the first time step is a tiny fraction of the one at the last "
            f"(first/last, over the epoch): {parts}. The weights then learn nothing from the early "
            f"steps, so the layer cannot remember them.",
            ("use LSTM instead of SimpleRNN (its cell state passes the gradient back scaled only by the "
             "forget gate); " if simple else
             "start the gates open to memory (LSTM unit_forget_bias=True; a GRU's update-gate bias above 0); ")
            + "use shorter sequences (or fewer padding steps), scale the inputs down so tanh does not "
            "saturate, and clip gradients (clipnorm=1.0) if they also explode.",
            time_ratio=vanished, layer_types={name: types[name] for name in vanished}, steps=steps)

    def _losses(self, key="loss") -> list[float]:
        return [e[key] for e in self.epochs if e.get(key) is not None]

    def _check_learning_rate(self, epoch, logs):
        losses = self._losses()
        if not losses:
            return
        lr = logs.get("learning_rate")
        lr_text = f" (learning rate {lr:.3g})" if lr is not None else ""
        if not math.isfinite(losses[-1]):
            self._report("learning_rate_too_high", epoch,
                         f"the training loss became {losses[-1]}{lr_text}.",
                         "divide the learning rate by 10 and scale the inputs.", losses=losses)
            return
        window = losses[-(self.patience + 1):]
        rising = len(losses) >= 2 and losses[-1] > 1.5 * min(losses) and losses[-1] > losses[0]
        # Rises of a few percent are mini-batch noise; an overshooting rate makes bigger jumps.
        rises = sum(b > a * 1.05 for a, b in zip(window, window[1:]))
        # Near a perfect fit the loss wobbles by far more than 5% of itself, yet by nothing against
        # what a constant prediction scores (or the first epoch did): swings under 1% of that are
        # mini-batch noise on a model that has learned, not steps that overshoot.
        scale = self._baseline if self._baseline is not None else losses[0]
        swings = max(window) - min(window) > 0.01 * scale
        oscillating = len(window) == self.patience + 1 and rises >= 2 and window[-1] >= window[0] and swings
        if rising or oscillating:
            shape = "risen" if rising else "gone up and down without progress"
            self._report(
                "learning_rate_too_high", epoch,
                f"the training loss has {shape}: {', '.join(f'{v:.4g}' for v in window)} over the last "
                f"{len(window)} epochs{lr_text}; the steps overshoot the minimum.",
                "divide the learning rate by 3 to 10 (or use a schedule / ReduceLROnPlateau).",
                losses=window, learning_rate=lr)

    def _check_overfitting(self, epoch, logs):
        val, train = self._losses("val_loss"), self._losses()
        if len(val) <= self.patience or len(val) != len(train):
            return
        best = int(np.argmin(val))
        since = len(val) - 1 - best
        gap, gap_at_best = val[-1] - train[-1], val[best] - train[best]
        # Both trends must be clear (5% worse on validation, 2% better on training) and the
        # validation loss must sit above the training loss by more than it did at its best.
        if (since >= self.patience and val[-1] > val[best] * 1.05 and train[-1] < train[best] * 0.98
                and gap > 0 and gap > gap_at_best):
            self._report(
                "overfitting", epoch,
                f"the validation loss has worsened for {since} epochs since its best ({val[best]:.4g} at "
                f"epoch {best + 1}, now {val[-1]:.4g}) while the training loss kept falling "
                f"({train[best]:.4g} -> {train[-1]:.4g}); the gap is now {gap:.4g}.",
                "stop at the best epoch (callbacks.EarlyStopping(restore_best_weights=True)), get more "
                "data, add Dropout or an L2 penalty, or use a smaller network.",
                best_epoch=best, val_losses=val, train_losses=train, gap=gap)

    def _check_flat(self, epoch, logs):
        """Flat and poor with moving weights: underfitting; flat with still weights: lr too low."""
        if self._baseline is None or {"dead_relu", "vanishing_gradients"} & self._reported:
            return  # a structural cause found already explains a flat loss
        losses = self._losses()
        window = losses[-(self.patience + 1):]
        if len(window) < self.patience + 1 or not all(map(math.isfinite, window)):
            return
        change = (window[0] - window[-1]) / abs(window[0]) if window[0] else 0.0
        poor = window[-1] >= 0.9 * self._baseline
        if not (abs(change) < 0.01 and poor):
            return
        val = self._losses("val_loss")
        if val and len(val) >= len(window) and val[-1] < 0.9 * self._baseline:
            return
        ratios = [v for k, v in self.epochs[-1].items() if k.startswith("update_ratio/") and v is not None]
        moved = max(ratios, default=0.0)
        evidence = {"losses": window, "baseline": self._baseline, "update_ratio": moved}
        if moved < 1e-3:
            self._report(
                "learning_rate_too_low", epoch,
                f"the training loss barely moves ({window[0]:.4g} -> {window[-1]:.4g} over {self.patience} "
                f"epochs, still {window[-1] / self._baseline:.0%} of what a constant prediction scores) and the "
                f"weights changed by only {moved:.1e} of their size in the last epoch.",
                "multiply the learning rate by 10, or use Adam.", **evidence)
        else:
            self._report(
                "underfitting", epoch,
                f"the training loss is flat at {window[-1]:.4g}, {window[-1] / self._baseline:.0%} of the "
                f"{self._baseline:.4g} scored by always predicting the training mean (class shares), "
                f"although the weights keep moving.",
                "give the model more capacity (more units or layers), train longer, lower regularization "
                "or dropout, and check that the features can predict the target.", **evidence)
