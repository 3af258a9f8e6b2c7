"""glassnet: a deep-learning toolkit you can see through.

A NumPy engine with explicit forward and backward passes, behind the Keras workflow.
"""

__version__ = "0.1.0"

from glassnet import (  # noqa: E402
    activations,
    callbacks,
    initializers,
    layers,
    losses,
    metrics,
    optimizers,
    regularizers,
    schedules,
    utils,
)
from glassnet.models import Sequential  # noqa: E402

__all__ = ["Sequential", "activations", "callbacks", "initializers", "layers", "losses", "metrics",
           "optimizers", "regularizers", "schedules", "utils", "__version__"]
