"""Sequential: a stack of layers with Keras' compile / fit / evaluate / predict workflow."""

from __future__ import annotations

import numpy as np

from glassnet import losses as losses_module
from glassnet import metrics as metrics_module
from glassnet import backend, parallel, utils
from glassnet._registry import deserialize, serialize
from glassnet.layers.base import Layer, auto_name, normalize_shape
from glassnet.layers.reshaping import Input
from glassnet.layers.symbolic import SymbolicTensor, is_symbolic, returns_several
from glassnet.models import chain, data, flat_weights, ownership, placement, prepare, sources, training
from glassnet.models.base import BaseModel
from glassnet.models.nested import ModelLayer, holds, layer_kind


class Sequential(BaseModel):
    """A linear stack of layers.

    Args:
        layers: layers to add in order (the first may carry ``input_shape``, or start with
            ``layers.Input``).
        name: the model's name; defaults to ``sequential``, then ``sequential_1``, ``sequential_2`` ... as in Keras.
        seed: drives initialisation, dropout, shuffling and validation splits; defaults to the
            seed given to ``gn.utils.set_random_seed`` or else a fresh random one (kept in
            ``model.seed`` and in saved files, so any run can be repeated).

    Example:
        >>> import numpy as np, glassnet as gn
        >>> model = gn.Sequential([gn.layers.Dense(8, activation="relu", input_shape=(4,)),
        ...                        gn.layers.Dense(3, activation="softmax")], seed=0)
        >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        >>> model.predict(np.zeros((2, 4))).shape
        (2, 3)
    """

    def __init__(self, layers=None, name: str | None = None, seed: int | None = None):
        self.name = name or auto_name("sequential")
        self.seed = utils.default_seed() if seed is None else int(seed)
        self.layers: list[Layer] = []
        self.optimizer = None
        self.loss = None
        self.metrics: list[metrics_module.Metric] = []
        self.stop_training = False
        self.history = None
        self._build_input_shape = None
        self._fused_loss = None
        self._nodes = []  # the layer calls of this model's symbolic graph (_record_graph)
        self._inputs = self._outputs = None
        #: an optional fitted preprocessor (``attach_preprocessor``) that predict applies to DataFrames.
        self.preprocessor = None
        for layer in layers or []:
            self.add(layer)

    # -- building -----------------------------------------------------------------------------
    def add(self, layer: Layer) -> None:
        """Append a layer; builds it at once when the input shape is already known.

        ``gn.Input(shape)`` is accepted too, as in Keras: it adds the ``Input`` layer behind it;
        a model (``Sequential`` or one-output ``Model``; a chain carries one tensor) is added as a ``ModelLayer`` that shares
        its weights (glassnet/models/nested.py).
        """
        if isinstance(layer, SymbolicTensor) and isinstance(layer.node.layer, Input):
            layer = layer.node.layer
        if isinstance(layer, BaseModel):  # a model inside a model, as in Keras
            if layer is self or holds(layer, self):  # forward would recurse without end
                raise ValueError(f"Sequential {self.name!r} cannot hold itself (directly or inside {layer.name!r}).")
            layer = layer.as_layer()
        if isinstance(layer, ModelLayer) and layer.multi_output:
            raise ValueError(f"Model {layer.name!r} has {len(layer.model.outputs)} outputs, but a Sequential is a chain "
                             f"of one tensor: call it inside a gn.Model instead (p, q = {layer.name}(x)).")
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add needs a glassnet layer; got {type(layer).__name__}.")
        if self.layers and returns_several(self.layers[-1]):
            last, kind = self.layers[-1], type(self.layers[-1]).__name__
            if getattr(last, "merge_mode", "") is None:
                how = ("merge_mode=None", f"forward, backward = {kind}(..., merge_mode=None)(x)")
            else:
                how = ("return_state=True", f"out, *states = {kind}(..., return_state=True)(x) (out, h, c for an LSTM)")
            raise ValueError(f"Layer {last.name!r} ({kind}, {how[0]}) returns several tensors, so no layer can "
                             f"follow it in a Sequential, a chain of one tensor ({layer.name!r} would receive a "
                             f"list). Use a gn.Model: {how[1]}; or drop {how[0]}.")
        if any(layer is other for other in self.layers):
            raise ValueError(f"Layer {layer.name!r} is already in this model.")
        if any(layer.name == other.name for other in self.layers):
            raise ValueError(f"Two layers are named {layer.name!r}; layer names must be unique.")
        if self.layers and layer.input_shape is not None and layer._input_shape_arg is not None:
            raise ValueError(f"Only the first layer may set input_shape ({layer.name!r} is not first).")
        if (len(self.layers) == 1 and self.layers[0].dtype == "string"
                and not getattr(layer, "takes_text", False)):
            raise ValueError(f"Layer {layer.name!r} ({type(layer).__name__}) cannot read the string input "
                             f"{self.layers[0].name!r}; put a gn.layers.TextVectorization first.")
        self.layers.append(layer)
        if len(self.layers) == 1 and layer.input_shape is not None:
            self.build(layer.input_shape)
        elif len(self.layers) > 1 and self.layers[-2].built:
            self._build_layer(len(self.layers) - 1, self.layers[-2].output_shape)
            flat_weights.pack(self.layers)
            self._record_graph()
        self._configure_fusion()  # the last layer changed: a compiled loss may (un)pair with it

    def pop(self) -> Layer:
        """Remove the last layer and return it, as Keras' ``model.pop()``."""
        if not self.layers:
            raise ValueError("pop: the model has no layers to remove.")
        layer = self.layers.pop()
        self._record_graph()  # the outputs are now the new last layer's
        self._configure_fusion()  # the new last layer may pair with the loss, or no longer
        return layer

    @property
    def built(self) -> bool:
        return bool(self.layers) and all(layer.built for layer in self.layers)

    def build(self, input_shape) -> None:
        """Create every layer's weights for per-sample inputs of ``input_shape``.

        ``input_shape`` may include a leading None batch axis or not.
        """
        if not self.layers:
            raise ValueError("This model has no layers; add some before building it.")
        shape = tuple(input_shape)
        if not shape or shape[0] is not None:
            shape = (None, *normalize_shape(shape))
        self._build_input_shape = shape
        for i in range(len(self.layers)):
            shape = self._build_layer(i, shape)
        flat_weights.pack(self.layers)
        self._record_graph()

    def _record_graph(self) -> None:
        """Keras' symbolic view of a built Sequential: an input tensor, and each layer called on the
        one before it, so that ``layer.input``, ``layer.output``, ``model.inputs`` and
        ``model.outputs`` exist, e.g. ``gn.Model(model.inputs, model.layers[1].output)`` as a
        feature extractor that shares this model's weights. Redone whenever the layers change
        (these calls only record tensors and check shapes; no numbers are computed)."""
        for node in self._nodes:
            node.layer.nodes.remove(node)
        self._nodes, self._inputs, self._outputs = [], None, None
        if not self.built:
            return
        first = self.layers[0]
        if isinstance(first, Input):
            x, rest = first.output, self.layers[1:]
        else:  # named after the model, so it takes no number from the layer-name counters
            x, rest = Input(first.input_shape[1:], name=f"{self.name}_input", dtype=first.dtype).output, self.layers
            self._nodes.append(x.node)
        self._inputs = [x]
        for layer in rest:
            x = layer(x)
            self._nodes.append((x[0] if isinstance(x, list) else x).node)
        self._outputs = x if isinstance(x, list) else [x]

    @property
    def inputs(self) -> list:
        """The built model's input tensor, in a list (Keras' ``model.inputs``)."""
        return self._symbolic("inputs", self._inputs)

    @property
    def outputs(self) -> list:
        """The built model's output tensor (tensors, for a last layer with ``return_state``), in a list."""
        return self._symbolic("outputs", self._outputs)

    def _symbolic(self, what: str, tensors):
        if tensors is None:
            # AttributeError, as for an uncalled layer: hasattr(model, "inputs") is then False
            raise AttributeError(f"Sequential {self.name!r} is not built, so it has no symbolic {what} (only a "
                                 f"graph model or a built Sequential has them): give the first layer "
                                 f"input_shape=..., start with layers.Input(shape), or call model.build(input_shape).")
        return list(tensors)

    def _build_layer(self, index: int, input_shape) -> tuple:
        layer = self.layers[index]
        if not layer.built:
            layer.rng = utils.rng_for(self.seed, utils.INIT, index)
            layer.build(tuple(input_shape))
        elif tuple(layer.input_shape[1:]) != tuple(input_shape[1:]):
            raise ValueError(
                f"Layer {layer.name!r} was built for inputs {layer.input_shape} but receives {input_shape}."
            )
        return layer.output_shape

    @property
    def input_shape(self):
        return self.layers[0].input_shape if self.built else None

    @property
    def output_shape(self):
        return self.layers[-1].output_shape if self.built else None

    def _require_built(self, action: str) -> None:
        if not self.layers:
            raise ValueError(f"Cannot {action}: the model has no layers.")
        if not self.built:
            raise ValueError(
                f"Cannot {action} before the model is built: give the first layer input_shape=..., "
                f"start with layers.Input(shape), call model.build(input_shape) or fit the model first."
            )

    # -- compiling ------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None) -> None:
        """Choose the optimizer, loss and metrics (names or objects, as in Keras).

        When the last activation and the loss pair up (softmax with a categorical
        cross-entropy, sigmoid with binary cross-entropy), training and evaluation use the
        fused gradient (p - y) on the logits, which is exact and cannot overflow.
        """
        if loss is None:
            raise ValueError("compile needs a loss, e.g. loss='categorical_crossentropy' or 'mse'.")
        # Resolve and check everything before assigning, so a failed compile changes nothing.
        optimizer = ownership.resolve_optimizer(optimizer)
        loss = losses_module.get(loss)
        if not isinstance(loss, losses_module.Loss):
            raise TypeError(f"loss must be a name such as 'mse' or a glassnet Loss; got {type(loss).__name__}, "
                            f"e.g. use loss='sparse_categorical_crossentropy'.")
        if metrics is not None and not isinstance(metrics, (list, tuple)):
            raise TypeError("metrics must be a list, e.g. metrics=['accuracy'].")
        metrics = [metrics_module.get(m) for m in metrics or []]
        names = [m.name for m in metrics]
        if len(set(names)) != len(names):
            raise ValueError(f"Metric names must be unique; got {names}.")
        # An optimizer's moments and step count belong to the model it trains; shared, a second
        # model would start from the first one's (slots are keyed by layer name). Keras 3 refuses too.
        ownership.claim_optimizer(self, optimizer)
        self.optimizer, self.loss, self.metrics = optimizer, loss, metrics
        self._configure_fusion()

    def _configure_fusion(self) -> None:
        """Pair the last activation with the loss; rerun whenever either of them changes."""
        self._fused_loss = None
        if self.loss is not None and self.layers:
            self._fused_loss = losses_module.fused_with(self.loss, self.layers[-1].output_activation)

    @property
    def compiled(self) -> bool:
        return self.loss is not None

    # -- the workflow ---------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size: int = 32, epochs: int = 1, verbose="auto", callbacks=None,
            validation_split: float = 0.0, validation_data=None, shuffle: bool = True,
            class_weight=None, sample_weight=None, initial_epoch: int = 0, log_every: int | None = None,
            print_every: int | None = None, diagnose: bool = False):
        """Train for ``epochs`` epochs; returns a ``History``. See ``glassnet.models.training``.

        ``x`` may be a SciPy sparse matrix or array (csr, csc, coo, ...), such as
        ``OneHotEncoder``'s output: it is never densified whole, only one batch at a time.

        ``diagnose=True`` watches for dead ReLUs, vanishing or exploding gradients, over- and
        underfitting, a bad learning rate and skewed validation sets, prints each finding once
        and keeps them in ``model.diagnostics`` (a ``glassnet.diagnostics.Diagnostics``).
        """
        if log_every is not None and print_every is not None and log_every != print_every:
            raise ValueError(f"print_every is the NNFS spelling of log_every; give one of them, not both "
                             f"(got log_every={log_every!r}, print_every={print_every!r}).")
        return training.fit(self, x, y, batch_size=batch_size, epochs=epochs, verbose=verbose,
                            callbacks=callbacks, validation_split=validation_split,
                            validation_data=validation_data, shuffle=shuffle, class_weight=class_weight,
                            sample_weight=sample_weight, initial_epoch=initial_epoch,
                            log_every=log_every if log_every is not None else print_every,
                            diagnose=diagnose)

    @parallel.on_own_threads
    def predict(self, x, batch_size: int | None = None, verbose=0, callbacks=None) -> np.ndarray:
        """The model's outputs for ``x``, computed in batches (inference mode: no dropout).

        With a preprocessor attached (``attach_preprocessor``), a pandas DataFrame of raw rows
        is transformed by it first; arrays are taken as features already. ``x`` may be a SciPy
        sparse matrix, as in ``fit`` and ``evaluate``: each batch is densified in turn.
        ``callbacks`` get ``on_predict_begin/end`` and ``on_predict_batch_begin/end`` (with
        ``{"outputs": ...}`` of the batch), as in Keras.
        """
        training.refuse_step_overrides(self, "predict", ("predict_step",))
        if not self.built and data.takes_text(self.layers) and not sources.is_batch_source(x):
            self.build((None,))  # strings have one shape: one per sample, (N,)
        self._require_built("predict")
        x, _ = prepare.unpack_image_data(x)
        if sources.is_batch_source(x):  # batches from disk: only the outputs are held in memory
            return training.predict_batches(self, (lambda i=i: self.predict(x[i][0], batch_size)
                                                   for i in range(len(x))), callbacks)
        if self.preprocessor is not None and prepare.is_dataframe(x):
            x = self.preprocessor.transform(x)
        if data.takes_text(self.layers):  # raw strings for a first TextVectorization layer
            x = data.as_text(x, "x", self.input_shape[1:])
        else:
            x = data.as_array(x, "x", self.layers[0].dtype, sparse=True)
            data.check_features(x, self.input_shape)
        batch_size = data.check_batch_size(batch_size or training.INFERENCE_BATCH)
        if x.shape[0] == 0:  # no batch to run, but the outputs' shape is still the model's
            return self._forward(data.densify(x))
        return training.predict_batches(self, (lambda s=s: self._forward(data.densify(x[s]))
                                               for s in data.batch_slices(x.shape[0], batch_size)), callbacks)

    def __call__(self, x, training: bool = False) -> np.ndarray:
        """The outputs for array ``x``; on a symbolic tensor, this model as a layer of a graph.

        Computed on the current device, as ``fit`` would, and returned where ``x`` lives: a NumPy
        array for a host array (as ``predict`` returns), a device array for a device array (a
        CuPy array stays on the GPU), as a NumPy function answers in its argument's kind."""
        if is_symbolic(x):
            return self.as_layer()(x)
        if not backend.is_device_array(x):
            if data.takes_text(self.layers):  # raw strings for a first TextVectorization layer
                x = data.as_text(x, "x", self.input_shape[1:] if self.built else None)
            x = np.asarray(x)
        if x.dtype.kind not in "fO" and self.layers:  # as predict casts: integers would wrap in pooling sums
            x = x.astype(self.layers[0].dtype)
        if not self.built:
            self.build(x.shape[1:])
        placement.place(self)
        return placement.answer_like(self._forward(placement.call_inputs([x])[0], training), [x])

    def _forward(self, x, training: bool = False) -> np.ndarray:
        return chain.forward(self, placement.batch(x)[0], training)[0]

    # -- describing -----------------------------------------------------------------------------
    def summary(self, line_length: int = 72, print_fn=print) -> None:
        """Print a table of layers, output shapes and parameter counts (Keras' layout)."""
        rows = [("Layer (type)", "Output Shape", "Param #")]
        for layer in self.layers:
            shape = str(layer.output_shape) if layer.built else "?"
            count = f"{layer.count_params():,}" if layer.built else "? (unbuilt)"
            rows.append((f"{layer.name} ({layer_kind(layer)})", shape, count))
        # A column grows past its share of the line when a cell needs it (a long layer name),
        # so that cells never run into each other.
        widths = [max(int(line_length * share), 1 + max(len(row[i]) for row in rows))
                  for i, share in enumerate((0.42, 0.33))]
        line_length = max(line_length, sum(widths) + max(len(row[2]) for row in rows))
        lines = [f'Model: "{self.name}"', "_" * line_length]
        for i, (a, b, c) in enumerate(rows):
            lines.append(f"{a:<{widths[0]}}{b:<{widths[1]}}{c}")
            lines.append(("=" if i == 0 else "_") * line_length)
        if self.built:
            total = self.count_params()
            trainable = sum(layer.count_trainable_params() for layer in self.layers)
            lines[-1] = "=" * line_length
            lines += [f"Total params: {total:,}", f"Trainable params: {trainable:,}",
                      f"Non-trainable params: {total - trainable:,}", "_" * line_length]
        else:
            lines.append("The model is not built yet: give the first layer input_shape to see counts.")
        print_fn("\n".join(lines))

    def explain(self, x, y=None, **kwargs):
        """Walk one batch forward (and backward when ``y`` is given) and report every layer.

        Prints shapes, formulas, parameter arithmetic, activation statistics, the loss, gradient
        norms and the optimizer's update/weight ratio; for tiny networks every node's sum and
        every weight's slope. Returns an ``Explanation``. See ``glassnet.diagnostics.explain``.
        """
        from glassnet.diagnostics.explain import explain

        placement.place(self, "cpu")  # a walk through one batch, printed: on the host (fit moves it back)
        return explain(self, x, y, **kwargs)

    # -- config ---------------------------------------------------------------------------------
    def get_config(self) -> dict:
        """JSON-ready architecture: name, seed and each layer's class and constructor arguments."""
        config = {"name": self.name, "seed": self.seed, "layers": [serialize(layer) for layer in self.layers]}
        if self._build_input_shape is not None:
            config["build_input_shape"] = list(self._build_input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects=None) -> "Sequential":
        """Rebuild the architecture (fresh weights drawn from the saved seed)."""
        model = cls(name=config.get("name"), seed=config.get("seed"))
        for spec in config.get("layers", []):
            layer = deserialize("layer", spec, custom_objects)
            if not isinstance(layer, Layer):
                raise TypeError(f"{spec.get('class_name')!r} is not a glassnet layer.")
            model.add(layer)
        if not model.built and config.get("build_input_shape"):
            model.build(config["build_input_shape"])
        return model

    def get_compile_config(self) -> dict | None:
        if not self.compiled:
            return None
        return {"optimizer": serialize(self.optimizer), "loss": serialize(self.loss),
                "metrics": [serialize(m) for m in self.metrics]}

    def compile_from_config(self, config: dict, custom_objects=None) -> None:
        self.compile(optimizer=deserialize("optimizer", config["optimizer"], custom_objects),
                     loss=deserialize("loss", config["loss"], custom_objects),
                     metrics=[deserialize("metric", m, custom_objects) for m in config.get("metrics", [])])

    def attach_preprocessor(self, preprocessor) -> None:
        """Make ``predict``, ``evaluate`` and ``fit`` accept raw DataFrames, and ``save`` store the
        preprocessor's state.

        Args:
            preprocessor: a fitted ``gn.preprocessing.TabularPreprocessor`` (or anything with
                ``transform``, ``n_features_out`` and plain-data ``get_state``/``from_state``)
                whose output width is the model's input size; None detaches it.

        Example:
            >>> import pandas as pd, glassnet as gn
            >>> df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": ["a", "b", "a"]})
            >>> prep = gn.preprocessing.TabularPreprocessor().fit(df)
            >>> model = gn.Sequential([gn.layers.Dense(1, input_shape=(prep.n_features_out,))], seed=0)
            >>> model.attach_preprocessor(prep)
            >>> model.predict(df).shape
            (3, 1)
        """
        if preprocessor is not None:
            for attr in ("transform", "get_state", "from_state"):
                if not hasattr(preprocessor, attr):
                    raise TypeError(f"attach_preprocessor needs an object with {attr}(); got "
                                    f"{type(preprocessor).__name__}.")
            width = preprocessor.n_features_out  # raises NotFittedError for an unfitted one
            if self.built and (len(self.input_shape) != 2 or self.input_shape[1] != width):
                raise ValueError(f"The preprocessor outputs {width} features but the model's input is "
                                 f"{self.input_shape}; build the model with input_shape=({width},).")
        self.preprocessor = preprocessor

    def __repr__(self):
        return f"<Sequential name={self.name!r} layers={len(self.layers)} built={self.built}>"

