"""Model files: save and load whole models or weights, safely, atomically and exactly.

A ``.glassnet`` file is a safetensors file (tensors plus a checksummed JSON document in its
metadata); see ``container`` for the layout, ``model_io`` for what a model puts in it and
``atomic`` for crash-safe writing. No pickle anywhere: loading builds objects only from
glassnet's registry or the ``custom_objects`` you pass (they reach nested objects too, such as
an optimizer's schedule; ``custom_object_scope`` gives them to any other deserialization).

Example:
    >>> import numpy as np, glassnet as gn, tempfile, os
    >>> model = gn.Sequential([gn.layers.Dense(2, input_shape=(3,))], seed=0)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.glassnet")
    >>> model.save(path)
    >>> gn.saving.inspect(path)["total_params"]
    8
    >>> x = np.ones((1, 3), dtype="float32")
    >>> bool((gn.load_model(path).predict(x) == model.predict(x)).all())
    True
"""

from glassnet._registry import custom_object_scope
from glassnet.saving.atomic import atomic_write
from glassnet.saving.container import FORMAT_VERSION, ModelFileError
from glassnet.saving.model_io import (
    inspect,
    load_model,
    load_weights,
    read_callback_states,
    restore_training_state,
    save_model,
    save_weights,
)

__all__ = ["FORMAT_VERSION", "ModelFileError", "atomic_write", "custom_object_scope", "inspect", "load_model",
           "load_weights", "read_callback_states", "restore_training_state", "save_model", "save_weights"]
