"""Training: one step (forward, loss, backward through the loop of loop.py, update), then
fit's epochs, validation and callbacks; evaluate, and predict's batches.

Randomness of epoch e (shuffling, dropout) comes from generators derived from
(model seed, purpose, e), so a run resumed at epoch k repeats the uninterrupted run exactly.
"""

from __future__ import annotations

import numpy as np

from glassnet import parallel
from glassnet import callbacks as callbacks_module
from glassnet.callbacks.callback import as_list as as_callback_list
from glassnet import utils
from glassnet.losses import masked
from glassnet.models import chain, data, memory, nested, outputs, placement, split
from glassnet.models.progress import EpochProgress, resolve_verbose
from glassnet.models.sources import check_source_arguments, is_batch_source, source_batch
from glassnet.models.ownership import check_optimizer_owner
from glassnet.models.prepare import prepare_xy, unpack_image_data
# Looked up here by chain.py when it pairs layers, so that it can be switched off in one place.

#: batch size for predict/evaluate when none is given: inference needs no small batches.
INFERENCE_BATCH = 256

def _require_compiled(model, action: str) -> None:
    if not model.compiled:
        raise ValueError(f"Cannot {action} before compile(): call model.compile(optimizer=..., loss=...).")


def refuse_step_overrides(model, action: str, hooks: tuple[str, ...]) -> None:
    """Refuse a subclass that defines Keras' custom-step hooks (``train_step``, ``test_step``,
    ``predict_step``): glassnet's loop never calls them, and a step silently skipped would train
    something other than what its author wrote. Neither model class defines them, so any
    definition on the model's class is the user's."""
    for hook in hooks:
        if getattr(type(model), hook, None) is not None:
            raise NotImplementedError(
                f"{type(model).__name__} defines {hook}(), Keras' custom-step hook, but glassnet's "
                f"{action} does not call it (its step is glassnet/models/training.py's train_step), so your step "
                f"would be silently skipped. Remove {hook}() and put per-batch work in a callback "
                f"(gn.callbacks.LambdaCallback(on_train_batch_end=...)), a custom loss in a "
                f"gn.losses.Loss subclass given to compile(loss=...), or write your own loop over "
                f"model.train_on_batch / the layers' forward and backward.")


def forward_loss(model, x, y, sample_weight, training: bool, need_pred: bool = True, masks: list | None = None):
    """Forward pass and loss. Returns (loss, y_pred, grad wrt the last layer's pre-activation
    output or output, whichever the loss saw). With a fused loss and ``need_pred`` False, the
    final activation is skipped (the loss works from the logits) and y_pred is None. A graph
    model computes its own (several outputs: one gradient each). The loss leaves out the time
    steps the output's mask drops (glassnet/layers/masking.py); ``masks``, if given, receives
    each output's mask (None where it has none) for the metrics."""
    if getattr(model, "is_graph", False):
        return outputs.forward_loss(model, x, y, sample_weight, training, need_pred, masks)
    last, fused = model.layers[-1], model._fused_loss
    out, out_mask = chain.forward(model, x, training, logits=fused is not None)
    if fused is not None:
        loss, grad = fused.value_and_gradient(y, out, sample_weight, **masked(out_mask))
        y_pred = last.output_activation.forward(out) if need_pred else None
    else:
        y_pred = out
        loss, grad = model.loss.value_and_gradient(y, y_pred, sample_weight, **masked(out_mask))
    if masks is not None:
        masks.append(out_mask)
    return loss, y_pred, grad


def update_metrics(model, y, y_pred, sample_weight, masks: list) -> None:
    """Each metric's ``update_state`` on a batch, handed the outputs' masks where there are any
    (a graph's per-output metrics pick their own; a custom metric without ``mask=`` still works
    on unmasked outputs)."""
    if getattr(model, "is_graph", False):
        mask = masks if any(m is not None for m in masks) else None
    else:
        mask = masks[0]
    for metric in model.metrics:
        metric.update_state(y, y_pred, sample_weight, **masked(mask))


def backward(model, grad) -> None:
    """Back-propagate from the loss gradient through every layer, then add the penalties.

    Stops at the first layer with parameters: nothing needs the gradient wrt the data.
    """
    if getattr(model, "is_graph", False):
        outputs.backward_loss(model, grad)
    else:
        chain.backward(model, grad, input_grads=False, logits=model._fused_loss is not None)
    for layer in model.layers:
        if layer.regularizers:
            layer.add_regularization_grads()


def regularization_loss(model) -> float:
    return float(sum(layer.regularization_loss() for layer in model.layers if layer.regularizers))


def train_step(model, x, y, sample_weight=None):
    """One optimizer update on one batch; returns (loss including penalties, y_pred, the outputs'
    masks), y_pred None when no metric needs it."""
    masks = []
    loss, y_pred, grad = forward_loss(model, x, y, sample_weight, training=True, need_pred=bool(model.metrics),
                                      masks=masks)
    # The penalty of the weights that were differentiated, i.e. before the update below.
    loss += regularization_loss(model)
    backward(model, grad)
    model.optimizer.apply_gradients(nested.trainable_slots(model.layers))
    return loss, y_pred, masks


@parallel.on_own_threads
def fit(model, x, y, *, batch_size, epochs, verbose, callbacks, validation_split, validation_data,
        shuffle, class_weight, sample_weight, initial_epoch, log_every, diagnose=False):
    refuse_step_overrides(model, "fit", ("train_step", "test_step"))
    _require_compiled(model, "fit")
    check_optimizer_owner(model)
    x, y = unpack_image_data(x, y)
    if validation_data is not None and not isinstance(validation_data, (tuple, list)):
        x_val, y_val = unpack_image_data(validation_data)
        if x_val is not validation_data:
            validation_data = (x_val, y_val)
    memory.keep_freed_memory()
    batch_size = data.check_batch_size(32 if batch_size is None else batch_size)  # Keras' default for None
    for arg, value in (("epochs", epochs), ("initial_epoch", initial_epoch)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{arg} must be a non-negative integer; got {value!r}.")
    if initial_epoch > epochs:
        raise ValueError(f"initial_epoch ({initial_epoch}) is after epochs ({epochs}); nothing to train.")
    if log_every is not None and (not isinstance(log_every, (int, np.integer)) or log_every <= 0):
        raise ValueError(f"log_every must be a positive integer; got {log_every!r}.")
    verbose = resolve_verbose(verbose)
    if verbose >= 1 and (line := memory.announcement()):
        print(line, flush=True)  # a process-wide setting is never made silently
    if verbose >= 1 and (line := parallel.announcement()):
        print(line, flush=True)  # nor a BLAS setting, even one undone when fit returns
    # x may be a batch source (glassnet.datasets.BatchSource): batches come from it one at a time,
    # so n counts batches, not samples, and shuffling reorders the batches.
    source = x if is_batch_source(x) else None
    if source is not None:
        check_source_arguments(source, y, sample_weight, validation_split, diagnose)
        n, batch_size = len(source), 1  # one "sample" per batch of the source
    else:
        x, y = prepare_xy(model, x, y)
        n = x.shape[0]
        sample_weight = data.as_sample_weight(sample_weight, n)
    if validation_data is not None and is_batch_source(validation_data):
        val = validation_data
    elif validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError("validation_data must be a tuple (x_val, y_val) or (x_val, y_val, sample_weight_val).")
        x_val, y_val = prepare_xy(model, validation_data[0], validation_data[1], "x_val", "y_val")
        w_val = data.as_sample_weight(validation_data[2], x_val.shape[0]) if len(validation_data) == 3 else None
        val = (x_val, y_val, w_val)
    elif validation_split:
        x, y, sample_weight, val = split.split_validation(model, x, y, sample_weight, validation_split, verbose)
        n = x.shape[0]
    else:
        val = None
    if class_weight is not None and source is None:
        # After the split: class weights are for training only (Keras: "during training only"),
        # so val_loss stays the quantity EarlyStopping and checkpoints should watch.
        sample_weight = data.apply_class_weight(class_weight, outputs.class_weight_targets(model, y),
                                                sample_weight, n)
    for metric in model.metrics:
        if hasattr(metric, "adapt") and source is None:  # a source's metrics adapt on the first batch
            metric.adapt(y)

    history = callbacks_module.History()
    user_callbacks = as_callback_list(callbacks)
    if diagnose:
        from glassnet.diagnostics import Diagnostics  # imported here: diagnostics builds on models

        if val is not None and is_batch_source(val):
            raise ValueError("diagnose=True needs validation_data as arrays (x_val, y_val), not a batch source.")
        if data.is_sparse(x) or (val is not None and data.is_sparse(val[0])):
            raise ValueError("diagnose=True needs dense inputs, not a SciPy sparse matrix; train without "
                             "diagnose, or pass x.toarray() when it fits in memory.")
        model.diagnostics = Diagnostics(x, y, validation_data=None if val is None else val[:2])
        user_callbacks.append(model.diagnostics)
    if not any(isinstance(cb, callbacks_module.TerminateOnNaN) for cb in user_callbacks):
        user_callbacks.append(callbacks_module.TerminateOnNaN())
    steps = -(-n // batch_size)
    # History last, as Keras appends it: a callback that adds a key to the epoch's logs (an F1
    # score, say) must have added it before History records them.
    cbs = callbacks_module.CallbackList([*user_callbacks, history], model,
                                        params={"verbose": verbose, "epochs": epochs, "steps": steps})
    model.history = history
    model.stop_training = False
    placement.place(model)  # the weights move to the device once; the batches move one at a time
    cbs.on_train_begin()
    # BackupAndRestore sets this after restoring a backup: continue after the last saved epoch.
    resumed = getattr(model, "_initial_epoch", None)
    if resumed is not None:
        initial_epoch, model._initial_epoch = resumed, None
    # Shuffles and dropout masks are keyed by the epoch's position in the model's stream of
    # epochs: offset + epoch, the offset being where this call's epoch 0 stands. The call's
    # first epoch (initial_epoch) comes right after every epoch already run, so fit(epochs=1)
    # in a loop draws fresh batches each time, as in Keras, instead of replaying epoch 0's, and
    # a resumed call (initial_epoch k after a checkpoint, or BackupAndRestore) lands where the
    # uninterrupted run would be. A model file records the offset next to epochs_completed
    # (the epoch count within the call that saved it). Never before the stream's start: a model
    # given only weights (load_weights) and initial_epoch=k starts at position k.
    run = getattr(model, "_epoch_offset", 0) + getattr(model, "_epochs_completed", 0)
    offset = max(0, run - initial_epoch)
    logs = {}
    for epoch in range(initial_epoch, epochs):
        position = offset + epoch
        model._current_epoch = epoch
        cbs.on_epoch_begin(epoch)
        for i, layer in enumerate(model.layers):
            layer.rng = utils.rng_for(model.seed, utils.DROPOUT, position, i)
        order = utils.rng_for(model.seed, utils.SHUFFLE, position).permutation(n) if shuffle else None
        show = log_every is None or (epoch + 1) % log_every == 0 or epoch == epochs - 1
        progress = EpochProgress(verbose, epoch, epochs, steps, show)
        for metric in model.metrics:
            metric.reset_state()
        total, seen = 0.0, 0
        for step, s in enumerate(data.batch_slices(n, batch_size)):
            idx = order[s] if order is not None else s
            if source is not None:
                xb, yb, wb = source_batch(model, source, int(order[s.start]) if order is not None else s.start,
                                          class_weight)
            else:
                xb, yb = data.densify(x[idx]), y[idx]
                wb = None if sample_weight is None else sample_weight[idx]
            xb, yb, wb = placement.batch(xb, yb, wb)
            cbs.on_train_batch_begin(step)
            loss, y_pred, masks = train_step(model, xb, yb, wb)
            update_metrics(model, yb, y_pred, wb, masks)
            total += loss * xb.shape[0]
            seen += xb.shape[0]
            progress.update(total / seen)
            # As Keras: the running means of the epoch so far, the loss and every metric.
            cbs.on_train_batch_end(step, {"loss": total / seen, **batch_results(model)})
            if model.stop_training:
                break
        logs = {"loss": total / max(seen, 1)}
        logs.update({m.name: m.result() for m in model.metrics})
        if source is not None:
            source.on_epoch_end()
        # The epoch's loss is taken before each update, so the last update can still diverge:
        # the weights are checked too (one pass over them, once per epoch). Weights that did
        # are what callbacks would save or restore as "best", so this epoch's training figures
        # are reported as NaN too (and TerminateOnNaN stops).
        broken = not all(np.isfinite(p).all() for layer in model.layers for p in layer.params.values())
        if broken:
            logs.update({k: float("nan") for k in logs})
        diverged = broken or not np.isfinite(logs["loss"])
        if val is not None and not diverged:
            # fit's callbacks see the validation pass's test hooks, as in Keras.
            if is_batch_source(val):
                val_logs = evaluate(model, val, None, None, 0, None, True, callbacks=cbs)
            else:
                val_logs = evaluate(model, val[0], val[1], None, 0, val[2], True, _prepared=True, callbacks=cbs)
            logs.update({f"val_{k}": v for k, v in val_logs.items()})
        elif val is not None:
            # Diverged weights are not evaluated (AUC and friends reject NaN predictions), but
            # the keys are there, as NaN: monitors count no improvement and restore the best
            # weights, and every history column keeps one entry per epoch.
            logs.update({f"val_{k}": float("nan") for k in ("loss", *(m.name for m in model.metrics))})
        logs["learning_rate"] = model.optimizer.current_learning_rate
        # The training position a checkpoint saved now records (see the offset above).
        model._epochs_completed, model._epoch_offset = epoch + 1, offset
        cbs.on_epoch_end(epoch, logs)
        progress.close(logs)
        if model.stop_training:
            break
    # As Keras: on_train_end gets the last epoch's logs (a callback reports the final figures).
    cbs.on_train_end(dict(logs))
    return history


def train_on_batch(model, x, y, sample_weight, class_weight, return_dict):
    refuse_step_overrides(model, "train_on_batch", ("train_step",))
    _require_compiled(model, "train")
    check_optimizer_owner(model)
    memory.keep_freed_memory()
    x, y = prepare_xy(model, x, y)
    x = data.densify(x)  # one batch, by definition
    w = data.as_sample_weight(sample_weight, x.shape[0])
    if class_weight is not None:
        w = data.apply_class_weight(class_weight, outputs.class_weight_targets(model, y), w, x.shape[0])
    placement.place(model)
    x, y, w = placement.batch(x, y, w)
    loss, y_pred, masks = train_step(model, x, y, w)
    results = {"loss": loss}
    for metric in model.metrics:
        metric.reset_state()
    update_metrics(model, y, y_pred, w, masks)
    results.update({metric.name: metric.result() for metric in model.metrics})
    return _format_results(results, return_dict)


@parallel.on_own_threads
def batch_results(model) -> dict:
    """The metrics' running values for a batch's logs; those that recompute over everything seen
    (``per_batch`` False: AUC) are left to the epoch's logs."""
    return {m.name: m.result() for m in model.metrics if getattr(m, "per_batch", True)}


def callback_list(model, callbacks):
    """``callbacks`` (a list, None, or fit's own ``CallbackList``) as a ``CallbackList`` for ``model``."""
    if isinstance(callbacks, callbacks_module.CallbackList):
        return callbacks
    return callbacks_module.CallbackList(as_callback_list(callbacks), model)


def predict_batches(model, steps, callbacks, join: bool = True):
    """Run ``steps`` (functions, each computing one batch's outputs) between the predict hooks
    of ``callbacks``; the outputs concatenated (``join``) or as a list."""
    cbs = callback_list(model, callbacks)
    placement.place(model)
    cbs.on_predict_begin()
    parts = []
    for step, compute in enumerate(steps):
        cbs.on_predict_batch_begin(step)
        parts.append(placement.to_host(compute()))  # predict returns NumPy arrays
        cbs.on_predict_batch_end(step, {"outputs": parts[-1]})
    cbs.on_predict_end()
    if not join:
        return parts
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def evaluate(model, x, y, batch_size, verbose, sample_weight, return_dict, _prepared: bool = False,
             callbacks=None):
    refuse_step_overrides(model, "evaluate", ("test_step",))
    _require_compiled(model, "evaluate")
    x, y = unpack_image_data(x, y)
    if is_batch_source(x):
        check_source_arguments(x, y, sample_weight, None, False)
        batches = (source_batch(model, x, index) for index in range(len(x)))
    else:
        if not _prepared:
            x, y = prepare_xy(model, x, y)
            sample_weight = data.as_sample_weight(sample_weight, x.shape[0])
        batch_size = data.check_batch_size(batch_size or INFERENCE_BATCH)
        batches = ((data.densify(x[s]), y[s], None if sample_weight is None else sample_weight[s])
                   for s in data.batch_slices(x.shape[0], batch_size))
    for metric in model.metrics:
        metric.reset_state()
    cbs = callback_list(model, callbacks)
    placement.place(model)
    cbs.on_test_begin()
    total, seen = 0.0, 0
    penalty = regularization_loss(model)
    for step, (x_b, y_b, w_b) in enumerate(batches):
        x_b, y_b, w_b = placement.batch(x_b, y_b, w_b)
        cbs.on_test_batch_begin(step)
        masks = []
        loss, y_pred, _ = forward_loss(model, x_b, y_b, w_b, training=False, masks=masks)
        total += loss * x_b.shape[0]
        seen += x_b.shape[0]
        update_metrics(model, y_b, y_pred, w_b, masks)
        if cbs.callbacks:  # Keras' test batch logs: running means, as in training
            cbs.on_test_batch_end(step, {"loss": total / seen + penalty, **batch_results(model)})
    results = {"loss": total / seen + penalty}
    results.update({m.name: m.result() for m in model.metrics})
    cbs.on_test_end(dict(results))
    if resolve_verbose(verbose):
        print(" - ".join(f"{k}: {v:.4f}" for k, v in results.items()))
    return _format_results(results, return_dict)


def _format_results(results: dict, return_dict: bool):
    if return_dict:
        return results
    values = list(results.values())
    return values[0] if len(values) == 1 else values
