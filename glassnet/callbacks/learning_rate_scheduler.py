"""LearningRateScheduler: set the learning rate per epoch from a function."""

from __future__ import annotations

import inspect
import math
import numbers

from glassnet.callbacks.callback import Callback


def _takes_one_argument(fn) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # some builtins have no signature: assume Keras' (epoch, lr)
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    has_varargs = any(p.kind == p.VAR_POSITIONAL for p in params)
    return not has_varargs and len(positional) == 1


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch from ``schedule(epoch, lr)`` or, as Keras
    also allows, ``schedule(epoch)``.

    Example:
        >>> import glassnet as gn
        >>> warmup = gn.callbacks.LearningRateScheduler(lambda epoch: 1e-3 * 10 ** (epoch / 20))
    """

    def __init__(self, schedule, verbose: int = 0):
        super().__init__()
        self.schedule, self.verbose = schedule, verbose
        self._one_argument = _takes_one_argument(schedule)  # Keras' schedule(epoch) form

    def on_epoch_begin(self, epoch, logs=None):
        opt = self.model.optimizer
        if not isinstance(opt.learning_rate, numbers.Real):
            # Two owners of one rate: the optimizer's schedule would be overwritten from epoch 0 on.
            raise ValueError(f"LearningRateScheduler cannot set the rate of an optimizer that follows a schedule "
                             f"({type(opt.learning_rate).__name__}); compile with a float learning_rate, "
                             f"or drop the callback and let the schedule set the rate.")
        if self._one_argument:
            lr = float(self.schedule(epoch))
        else:
            lr = float(self.schedule(epoch, opt.learning_rate))
        if not lr > 0 or not math.isfinite(lr):
            raise ValueError(f"LearningRateScheduler's schedule returned {lr} at epoch {epoch}; it must be > 0.")
        opt.learning_rate = lr
        if self.verbose:
            print(f"Epoch {epoch + 1}: learning rate {lr:.3g}.")
