"""Models: ``Sequential`` (a stack), ``Model`` (a graph) and the training loop behind them."""

from glassnet.models.functional import Input, Model
from glassnet.models.sequential import Sequential

__all__ = ["Input", "Model", "Sequential", "load_model"]


def load_model(filepath, custom_objects: dict | None = None, compile: bool = True):
    """``gn.load_model`` under Keras' other spelling, ``keras.models.load_model``.

    Args, returns and errors as ``glassnet.saving.load_model``, which this calls.

    Example:
        >>> import glassnet as gn  # doctest: +SKIP
        >>> model = gn.models.load_model("model.glassnet")  # doctest: +SKIP
    """
    # Imported here, not at the top: glassnet.saving imports the models to rebuild them.
    from glassnet.saving import load_model as load

    return load(filepath, custom_objects=custom_objects, compile=compile)
