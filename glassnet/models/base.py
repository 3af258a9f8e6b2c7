"""What both model kinds share: their weights as one list, and their files (glassnet.saving)."""

from __future__ import annotations

import numpy as np

from glassnet.models import placement, training

#: a batch size larger than any data: the ``*_on_batch`` methods run all of x as one batch
ONE_BATCH = 2**62


class BaseModel:
    """The weights and file methods of ``Sequential`` and ``Model``; both keep their layers in ``layers``."""

    layers: list

    # -- as a layer of another model (glassnet/models/nested.py) ---------------------------------
    @property
    def trainable(self) -> bool:
        """False freezes every layer; setting it sets each layer's flag, as in Keras."""
        return getattr(self, "_trainable", True)

    @trainable.setter
    def trainable(self, value) -> None:
        self._trainable = bool(value)
        for layer in self.layers:
            layer.trainable = self._trainable

    def as_layer(self):
        """This model as one layer of another (``Sequential.add(model)`` and ``model(tensor)`` use it):
        the same ``ModelLayer`` each time, so the outer model shares this model's weights."""
        from glassnet.models.nested import ModelLayer

        if getattr(self, "_as_layer", None) is None:
            self._as_layer = ModelLayer(self)
        return self._as_layer

    @property
    def input(self):
        """The input tensor (a graph's or a built Sequential's), or a graph's inputs as a list or a
        dict by name as given (Keras' ``model.input``)."""
        return self._graph_tensors("input")

    @property
    def output(self):
        """The output tensor (a graph's or a built Sequential's), or a graph's outputs as a list or a
        dict by name as given (Keras' ``model.output``)."""
        return self._graph_tensors("output")

    def _graph_tensors(self, what: str):
        tensors = self.inputs if what == "input" else self.outputs  # an unbuilt Sequential raises here
        keys = getattr(self, f"{what}_keys", None)
        if keys is not None:
            return dict(zip(keys, tensors))
        return tensors[0] if len(tensors) == 1 else list(tensors)

    def _require_built(self, action: str) -> None:
        """Raise a clear error when the model has no weights yet (a graph is built when made)."""

    def get_layer(self, name: str | None = None, index: int | None = None):
        """A layer by name or by its index in ``layers`` (a graph's in graph order), as in Keras.

        A nested model comes back as the model itself, as Keras returns it (not the ``ModelLayer``
        that runs it inside this one): ``model.get_layer("encoder").summary()``, ``.layers`` and
        ``.get_layer(...)`` reach its own layers, and its arrays are this model's."""
        from glassnet.models.nested import ModelLayer

        if (name is None) == (index is None):
            raise ValueError("get_layer needs exactly one of name=... or index=....")
        if index is not None:
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"get_layer(index={index}): the model has {len(self.layers)} layers.")
            layer = self.layers[index]
            return layer.model if isinstance(layer, ModelLayer) else layer
        for layer in self.layers:
            if layer.name == name:
                return layer.model if isinstance(layer, ModelLayer) else layer
        raise ValueError(f"No layer named {name!r}; the layers are {[layer.name for layer in self.layers]}.")

    # -- weights --------------------------------------------------------------------------------
    @property
    def weights(self) -> list[np.ndarray]:
        """Every layer's arrays themselves, in ``get_weights`` order (Keras' ``model.weights``)."""
        return [w for layer in self.layers for w in layer.weights]

    @property
    def trainable_weights(self) -> list[np.ndarray]:
        return [w for layer in self.layers for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self) -> list[np.ndarray]:
        return [w for layer in self.layers for w in layer.non_trainable_weights]

    def get_weights(self) -> list[np.ndarray]:
        """Copies of every layer's arrays in layer order (parameters, then state)."""
        return [w for layer in self.layers for w in layer.get_weights()]

    def set_weights(self, weights) -> None:
        self._require_built("set weights")
        weights = list(weights)
        expected = sum(len(layer.weight_names()) for layer in self.layers)
        if len(weights) != expected:
            raise ValueError(f"set_weights expects {expected} arrays for this model; got {len(weights)}.")
        i = 0
        for layer in self.layers:
            n = len(layer.weight_names())
            layer.set_weights(weights[i : i + n])
            i += n

    def count_params(self) -> int:
        self._require_built("count parameters")
        return sum(layer.count_params() for layer in self.layers)

    # -- the workflow (glassnet/models/training.py) ------------------------------------------------
    def train_on_batch(self, x, y, sample_weight=None, class_weight=None, return_dict: bool = False):
        """One optimizer step on one batch; returns the loss (and metrics, as in Keras)."""
        return training.train_on_batch(self, x, y, sample_weight, class_weight, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict: bool = False):
        """Loss and metrics on one batch, without an update (Keras' ``test_on_batch``): ``evaluate``
        on all of ``x`` as a single batch, silently, the metrics counted from zero."""
        return self.evaluate(x, y, batch_size=ONE_BATCH, verbose=0, sample_weight=sample_weight,
                             return_dict=return_dict)

    def predict_on_batch(self, x):
        """The outputs for one batch (Keras' ``predict_on_batch``): ``predict`` on all of ``x`` at once."""
        return self.predict(x, batch_size=ONE_BATCH, verbose=0)

    def evaluate(self, x=None, y=None, batch_size: int | None = None, verbose="auto", sample_weight=None,
                 return_dict: bool = False, callbacks=None):
        """Loss and metrics on ``x, y``: a float without metrics, else [loss, *metrics].

        Prints the result line (``loss: ... - accuracy: ...``) unless ``verbose=0``, as Keras does.
        ``callbacks`` get ``on_test_begin/end`` and ``on_test_batch_begin/end``, as in Keras.
        """
        return training.evaluate(self, x, y, batch_size, verbose, sample_weight, return_dict, callbacks=callbacks)

    # -- files (glassnet.saving) ------------------------------------------------------------------
    def save(self, filepath, overwrite: bool = True, include_optimizer: bool = True) -> None:
        """Save architecture, weights, optimizer state and training position to one file.

        The write is atomic (a crash leaves the old file or the new one); load it back with
        ``gn.load_model``. See ``glassnet.saving`` for the format.
        """
        from glassnet import saving

        saving.save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer)

    def export(self, filepath, format: str = "onnx", include_preprocessor: bool = True,
               include_text_vectorization: bool = True):
        """Write this model at inference to an ONNX file, for ONNX Runtime; returns the path.

        See ``glassnet.export``: standard operators, a dynamic batch axis, the model's input and
        output names; an attached TabularPreprocessor goes into the graph (the ONNX model then
        takes the raw columns) unless ``include_preprocessor=False``; a first TextVectorization
        goes into the graph (the model takes strings) unless ``include_text_vectorization=False``.
        Needs ``glassnet[export]``.
        """
        if format != "onnx":
            raise ValueError(f"export writes format='onnx' only; got format={format!r}.")
        from glassnet import export

        placement.place(self, "cpu")  # the graph is written from host arrays (fit moves them back)
        return export.export_onnx(self, filepath, include_preprocessor=include_preprocessor,
                                  include_text_vectorization=include_text_vectorization)

    def save_weights(self, filepath, overwrite: bool = True) -> None:
        """Save only the weights (parameters and state) as a safetensors file, atomically."""
        from glassnet import saving

        saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath) -> None:
        """Load weights from ``save_weights`` or a model file; layers are matched by position."""
        from glassnet import saving

        saving.load_weights(self, filepath)
