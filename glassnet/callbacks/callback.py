"""The Callback base class and the list that calls many of them."""

from __future__ import annotations


class Callback:
    """Base class; every hook does nothing. ``fit`` sets ``self.model`` and ``self.params``
    (``{"verbose", "epochs", "steps"}``, as in Keras)."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = dict(params)

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...

    # Keras' older batch hooks stay aliases: its base class forwards the train-batch hooks to
    # them, so a callback written with ``on_batch_end`` is called on every training batch.
    def on_batch_begin(self, batch, logs=None): ...
    def on_batch_end(self, batch, logs=None): ...

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    # evaluate (and fit's validation) and predict call these, as Keras does; a test batch's logs
    # are the running means so far, a predict batch's ``{"outputs": its outputs}``.
    def on_test_begin(self, logs=None): ...
    def on_test_end(self, logs=None): ...
    def on_test_batch_begin(self, batch, logs=None): ...
    def on_test_batch_end(self, batch, logs=None): ...
    def on_predict_begin(self, logs=None): ...
    def on_predict_end(self, logs=None): ...
    def on_predict_batch_begin(self, batch, logs=None): ...
    def on_predict_batch_end(self, batch, logs=None): ...


def as_list(callbacks) -> list:
    """``callbacks`` as fit, evaluate and predict take it: None, one callback (Keras 3 accepts
    that too) or a list of them; anything else is refused with what to pass instead."""
    if callbacks is None:
        return []
    items = [callbacks] if hasattr(callbacks, "set_model") and not isinstance(callbacks, type) else callbacks
    try:
        items = list(items)
    except TypeError:
        raise TypeError(f"callbacks must be a list of callbacks; got {type(callbacks).__name__}.") from None
    for item in items:
        if isinstance(item, type):
            raise TypeError(f"callbacks: {item.__name__} is a class; pass an instance, {item.__name__}(...).")
        if not callable(getattr(item, "set_model", None)):
            raise TypeError(f"callbacks: {item!r} is not a callback; subclass gn.callbacks.Callback, or wrap "
                            f"a function in gn.callbacks.LambdaCallback(on_epoch_end=...).")
    return items


#: the hooks that take ``logs`` alone (the others take an epoch or batch number first)
_LOGS_ONLY = {f"on_{stage}_{edge}" for stage in ("train", "test", "predict") for edge in ("begin", "end")}


class CallbackList:
    """Calls one hook on many callbacks in order, always with a ``logs`` dict (as Keras does), so
    ``LambdaCallback(on_train_begin=lambda logs: ...)`` works when the loop has no logs to give."""

    def __init__(self, callbacks, model, params: dict | None = None):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            cb.set_model(model)
            if params is not None and hasattr(cb, "set_params"):
                cb.set_params(params)

    def __getattr__(self, hook):
        if not hook.startswith("on_"):
            raise AttributeError(hook)

        def call(*args):
            if len(args) == (0 if hook in _LOGS_ONLY else 1):
                args = (*args, {})
            for cb in self.callbacks:
                # A callback written before the test and predict hooks existed may lack them.
                method = getattr(cb, hook, None)
                if method is not None:
                    method(*args)

        return call
