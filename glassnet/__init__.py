"""glassnet: a deep-learning toolkit you can see through.

A NumPy engine with explicit forward and backward passes, behind the Keras workflow.
"""

import importlib

__version__ = "0.1.0"

# The engine loads eagerly; the toolkits around it (which pull in scikit-learn, pandas,
# Optuna, matplotlib) load on first use, so `import glassnet` and the CLI start fast.
from glassnet import (  # noqa: E402
    activations,
    callbacks,
    config,
    gradcheck,
    initializers,
    layers,
    losses,
    metrics,
    numerics,
    optimizers,
    regularizers,
    saving,
    schedules,
    utils,
)
from glassnet.gradcheck import check_gradients  # noqa: E402
from glassnet.models import Input, Model, Sequential  # noqa: E402
from glassnet.saving import load_model  # noqa: E402

_LAZY = ("datasets", "diagnostics", "experiments", "export", "nnfs", "preprocessing", "reports", "sklearn",
         "tuning", "wrappers")


def __getattr__(name):
    if name in _LAZY:
        module = importlib.import_module(f"glassnet.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'glassnet' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_LAZY])


__all__ = ["Input", "Model", "Sequential", "activations", "callbacks", "check_gradients", "datasets", "diagnostics",
           "experiments", "export", "gradcheck", "initializers", "layers", "load_model", "losses", "metrics",
           "nnfs", "optimizers", "preprocessing", "regularizers", "reports", "saving", "schedules",
           "sklearn", "tuning", "utils", "wrappers", "__version__"]
