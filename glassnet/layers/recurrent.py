"""Recurrent layers: the time loop and backpropagation through time, written once, and SimpleRNN.

``Recurrent`` runs a cell over the time axis and differentiates it step by step; each cell
(``SimpleRNN`` here, ``LSTM`` in lstm.py, ``GRU`` in gru.py) writes only its one-step formulas,
forward and backward side by side.
"""

from __future__ import annotations

import functools
import numbers

import numpy as np

from glassnet import activations, backend, initializers, parallel, regularizers
from glassnet._registry import register, serialize
from glassnet.layers.base import Layer, check_positive_int
from glassnet.layers import symbolic
from glassnet.layers.masking import check_sequence_mask


def _check_rate(value, name: str, layer: str) -> float:
    # numbers.Real admits NumPy scalars (a tuner's np.float32(0.25)); bool is excluded.
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"{layer}: {name} must be in [0, 1); got {value!r}.")
    return float(value)


class GateActivations:
    """A cell's gate activations, one per U-wide column block of its (N, G·U) pre-activations.

    The LSTM's blocks [a_i | a_f | a_c | a_o] go through [σ, σ, tanh, σ]. When every block's
    activation is the sigmoid or tanh (the defaults), the whole array goes through one tanh, since
    σ(x) = (1 + tanh(x / 2)) / 2; per column, s = t = ½ on the sigmoid's blocks, s = 1, t = 0 on tanh's:

        forward   y = tanh(x s) s + t
        backward  dx = grad · (y (p - y) + q),  p = 1, q = 0 on σ's blocks: y (1 - y); p = 0, q = 1 on tanh's: 1 - y²

    four passes over the whole array instead of several calls per block; the gates' activations were
    the largest single cost of an LSTM's time step (benchmarks/README.md). The sigmoid this way is as
    safe from overflow (tanh saturates); its error is an ulp of 1 in absolute terms, so its relative
    error is about eps / σ(x): 1 % only where x < -31 in float64 or x < -11 in float32, a gate shut
    either way. Blocks with other activations run one by one. Like an activation function, an
    instance serves one step: forward caches what backward needs.

    Args:
        kinds: one activation function per block (instances; blocks run one by one get fresh copies).
        units: U, the width of a block.
    """

    def __init__(self, kinds, units: int):
        self.kinds = tuple(kinds)
        self.units = units

    def forward(self, x, out=None):
        """The gates' values, in ``out`` when given (``x`` itself, to save an array)."""
        self._form = form = _tanh_form(tuple(map(type, self.kinds)), self.units, x.dtype, len(x),
                                       backend.array_module(x))
        if form is None:
            u = self.units
            self._acts = [activations.get(kind) for kind in self.kinds]
            y = np.concatenate([act.forward(x[:, j * u:(j + 1) * u]) for j, act in enumerate(self._acts)], axis=1,
                               out=out)
        else:
            s, t, _, _ = form
            y = np.multiply(x, s, out=out)
            np.tanh(y, out=y)
            y *= s
            y += t
        self._y = y
        return y

    def backward(self, grad, out=None):
        """dL/dx from dL/dy (``grad``), in ``out`` when given (``grad`` itself, to save an array)."""
        if self._form is None:
            u = self.units
            return np.concatenate([act.backward(grad[:, j * u:(j + 1) * u]) for j, act in enumerate(self._acts)],
                                  axis=1, out=out)
        _, _, p, q = self._form
        slope = np.subtract(p, self._y)
        slope *= self._y
        slope += q
        return np.multiply(slope, grad, out=slope if out is None else out)


@functools.lru_cache(maxsize=64)
def _tanh_form(kinds: tuple, units: int, dtype: np.dtype, n: int, xp=np):
    """GateActivations' (s, t, p, q) for N = n rows of blocks with activations of these classes,
    or None unless each is the sigmoid or tanh. Each is a full (n, G·U) array: a product with a
    row broadcast over the rows took twice as long as with an array of the same shape."""
    if not all(kind in (activations.Sigmoid, activations.Tanh) for kind in kinds):
        return None
    sigmoid = np.repeat([kind is activations.Sigmoid for kind in kinds], units)
    form = tuple(np.tile(np.where(sigmoid, on_sigmoid, on_tanh).astype(dtype), (n, 1))
                 for on_sigmoid, on_tanh in ((0.5, 1.0), (0.5, 0.0), (1.0, 0.0), (0.0, 1.0)))  # s, t, p, q
    for values in form:
        values.flags.writeable = False  # shared by every step of every call: never written
    return form if xp is np else tuple(xp.asarray(values) for values in form)  # moved once, then cached


class Recurrent(Layer):
    """Base of the recurrent layers: a cell applied at every time step, carrying states.

    A cell's gate pre-activations are the sum of an input part and a recurrent part:
    ``a_t = (x_t W + b) + h_{t-1} U`` with W: (D, G·U) ("kernel") and U: (U, G·U)
    ("recurrent_kernel"), G gates of U units each. The input part has no recurrence, so it is
    computed for many time steps in one matrix product (a chunk of steps, ``step_chunks``, ahead of
    the loop); only ``h_{t-1} U`` and the elementwise gate arithmetic run step by step.

    A subclass sets ``gates`` (G) and ``state_names`` and writes two methods:

    - ``step(a_x, a_h, states) -> (new_states, cache)``: one step from the input part a_x (N, G·U),
      the recurrent part a_h = h_{t-1} U (N, G·U) and the previous states (each (N, U)); a_h is
      the step's own fresh array, which it may overwrite;
    - ``step_backward(cache, d_states) -> (d_ax, d_ah, d_prev)``: from the gradients wrt the new
      states, the gradients wrt a_x and a_h and the part of the gradient wrt the previous states
      that does not flow through a_h (the LSTM's cell state, the GRU's z ⊙ h_{t-1}; None where
      h_{t-1} has no such path, as in the LSTM and SimpleRNN).

    Backpropagation through time (``backward``) then walks the steps in reverse:

        d_ax, d_ah, d_prev = step_backward(cache_t, d_states_t)
        d_states_{t-1} = d_prev, plus (d_ah Uᵀ) ⊙ keep_h on h_{t-1}      # the recurrence
        dW = Σ_t x_tᵀ d_ax_t, dU = Σ_t h_{t-1}ᵀ d_ah_t, db = Σ_t Σ_n d_ax_t, dx_t = d_ax_t Wᵀ ⊙ keep_x

    the three sums being one matrix product each per chunk of steps, added up after the loop.
    Inside ``fit``, ``evaluate`` and ``predict`` on two or more threads (glassnet/parallel.py) these
    chunk products run on a second thread while the loop goes on (``parallel.in_background``;
    one that thread has not begun when the loop needs it, the loop runs itself): the loop's small
    products and elementwise passes gained nothing from splitting the batch over threads
    (benchmarks/README.md), but the large products can overlap them.

    Shapes (N samples, T steps, D features, U units):
        x: (N, T, D) -> y: (N, T, U) with ``return_sequences``, else (N, U) (the last step's output).

    Masks: a boolean (N, T) mask (``forward(..., mask=)``, handed over by ``Masking`` or
    ``Embedding(mask_zero=True)`` in a model) marks the steps to use. At a masked step the states
    are carried over unchanged and the output repeats the previous one, as in Keras:
    ``s_t = m_t s_new + (1 - m_t) s_{t-1}``. (Keras' ``Bidirectional`` outputs zeros there instead
    with ``return_sequences``: ``zero_output_for_mask``.)

    Dropout, as in Keras 3: one mask over the input features (N, D) and one over the state (N, U)
    per call, the same at every time step (a fresh mask per step would wipe out the memory the
    layer is trying to keep; Gal & Ghahramani, 2016). Both scale kept entries by 1 / (1 - rate)
    and are drawn from the layer's generator (the model reseeds it every epoch).
    """

    #: G: how many U-wide gate blocks the kernels hold.
    gates = 1
    #: the states carried from step to step; the first is always h, the output.
    state_names = ("h",)
    takes_mask = True
    # Hundreds of small products a batch, (N, U) @ (U, G·U), one per time step and direction:
    # on BLAS threads each one waits on a thread hand-over, and on a busy machine on a sibling
    # thread that was descheduled (figures in benchmarks/README.md). Training and inference then
    # hold BLAS to one thread (glassnet/parallel.py).
    splits_batch_work = True
    #: False when d_ah = d_ax (a_x and a_h enter the cell only through their sum): the two
    #: then share one (T, N, G·U) array in backward. The GRU's reset gate sets them apart.
    separate_recurrent_grad = False
    #: None, or a dict that forward and backward fill with every step's values, for ``explain``
    #: and ``Diagnostics`` (glassnet/diagnostics/recurrent_steps.py): "order" (the time index of
    #: each processed step), "caches" (what ``step`` returned), "states" (the states after each
    #: step) and "state_grads" (dL/d(states after each step), from the later steps and the
    #: output), lists in processing order. Recording keeps references, not copies.
    trace = None

    def __init__(self, units: int, activation="tanh", use_bias: bool = True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 seed: int | None = None, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False, **kwargs):
        super().__init__(**kwargs)
        layer = type(self).__name__
        if stateful:
            raise ValueError(f"{layer}: stateful=True is not supported (glassnet resets the state for every "
                             f"batch). Pass the state yourself: return_state=True, then initial_state= on "
                             f"the next call.")
        if unroll:
            raise ValueError(f"{layer}: unroll=True is not supported; glassnet always runs a Python loop over "
                             f"the time steps, which is what unrolling would buy in a graph framework. "
                             f"Drop the argument.")
        self.units = check_positive_int(units, "units", layer)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.dropout = _check_rate(dropout, "dropout", layer)
        self.recurrent_dropout = _check_rate(recurrent_dropout, "recurrent_dropout", layer)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"{layer}: seed must be a non-negative integer or None; got {seed!r}.")
        # Seeds the layer used on its own; inside a model the model's seed decides.
        self.seed = None if seed is None else int(seed)
        if self.seed is not None:
            self.rng = np.random.default_rng(self.seed)
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        #: output zeros (not the previous output) at masked steps; Bidirectional sets it.
        self.zero_output_for_mask = False

    # -- building -------------------------------------------------------------------------------
    def build(self, input_shape):
        check_sequence_input(input_shape, type(self).__name__)
        width = self.gates * self.units
        self.add_weight("kernel", (input_shape[-1], width), self.kernel_initializer, self.kernel_regularizer)
        self.add_weight("recurrent_kernel", (self.units, width), self.recurrent_initializer,
                        self.recurrent_regularizer)
        if self.use_bias:
            self.add_weight("bias", self.bias_shape(), self.bias_initializer, self.bias_regularizer)
        super().build(input_shape)

    def bias_shape(self) -> tuple:
        return (self.gates * self.units,)

    def compute_output_shape(self, input_shape):
        check_sequence_input(input_shape, type(self).__name__)
        if self.return_sequences:
            return (input_shape[0], input_shape[1], self.units)
        return (input_shape[0], self.units)

    def compute_mask(self, x, mask=None):
        """The mask passes on with the sequence (``return_sequences``); a single output has none."""
        return mask if self.return_sequences else None

    # -- the input part and the recurrent bias (the GRU keeps two biases) ------------------------
    def input_bias(self):
        return self.params["bias"] if self.use_bias else None

    def write_bias_grad(self, d_ax_sum: np.ndarray, d_ah_sum: np.ndarray) -> None:
        self.grads["bias"][...] = d_ax_sum

    # -- forward --------------------------------------------------------------------------------
    def __call__(self, x, training: bool = False, mask=None, initial_state=None):
        """As ``Layer.__call__``, with Keras' call arguments ``mask`` and ``initial_state`` for arrays
        (``initial_state`` as symbolic tensors too, in a graph; a graph's mask is not an argument
        but travels with the tensor from ``Embedding(mask_zero=True)`` or ``Masking``)."""
        return call_with_sequence_arguments(self, x, training, mask, initial_state)

    def forward(self, x, training=False, mask=None, initial_state=None):
        """Run the cell over the time steps.

        Args:
            x: (N, T, D).
            training: apply dropout and recurrent dropout.
            mask: optional boolean (N, T); False steps are skipped (states carried over).
            initial_state: optional list of arrays (N, U), one per state (``state_names``); zeros
                otherwise. When given, ``backward`` also returns their gradients.

        Returns:
            the output, or ``[output, *final_states]`` with ``return_state``.

        At inference (``training=False``) the per-step values that backward needs are not kept:
        written to fresh memory at every step, they made the steps about 30 % slower
        (benchmarks/README.md). ``backward`` then runs the steps again, keeping them.
        """
        self._inference_inputs = None if training else (x, mask, initial_state)
        return self._run_steps(x, training, mask, initial_state, keep_steps=training)

    def _run_steps(self, x, training, mask, initial_state, keep_steps: bool):
        layer = type(self).__name__
        # The kernel fixes D; without this a wrong D failed deep inside matmul with a gufunc message.
        check_sequence_input(x.shape, layer, self.params["kernel"].shape[0])
        mask = check_sequence_mask(mask, x, layer)
        n, steps, _ = x.shape
        dtype, xp = x.dtype, backend.array_module(x)  # xp: NumPy, or CuPy on a GPU
        states = self._initial_states(initial_state, n, dtype, xp)
        self._has_initial_state = initial_state is not None
        self._keep_x = self._keep_h = None
        if training and self.dropout > 0:
            self._keep_x = backend.drawn_on_host(self._dropout_mask((n, x.shape[2]), self.dropout, dtype), x)
        if training and self.recurrent_dropout > 0:
            self._keep_h = backend.drawn_on_host(self._dropout_mask((n, self.units), self.recurrent_dropout, dtype), x)
        order = xp.arange(steps)[::-1] if self.go_backwards else xp.arange(steps)
        # xs = [x_t | 1], (T, N, D + 1), in processing order: step k reads xs[k]. The constant 1 makes
        # the bias the kernel's last row, so x_t W + b is one product (a separate pass adding b took
        # a fifth as long as the product) and backward's product for dW gives db as its last row.
        kernel, bias, d = self.params["kernel"], self.input_bias(), x.shape[2]
        xs = xp.empty((steps, n, d + (bias is not None)), dtype=dtype)
        np.copyto(xs[..., :d], x.swapaxes(0, 1)[::-1] if self.go_backwards else x.swapaxes(0, 1))
        if bias is not None:
            xs[..., d] = 1
            kernel = np.concatenate([kernel, bias[None]])  # (D + 1, G·U)
        if self._keep_x is not None:
            xs[..., :d] *= self._keep_x
        self._xs = xs
        # Kept: backward writes d_ax into it, row k once step k's a_x is spent (no cache holds
        # a view of it), which saves a second array of this size.
        self._a_x = a_x = xp.empty((steps, n, kernel.shape[1]), dtype=np.result_type(xs, kernel))

        def project(a, b):  # the input part of steps a..b-1: (c·N, D + 1) @ (D + 1, G·U) -> (c·N, G·U)
            np.matmul(xs[a:b].reshape(-1, xs.shape[-1]), kernel, out=a_x[a:b].reshape(-1, a_x.shape[-1]))

        ms = None if mask is None else mask.T[order][:, :, None].astype(dtype)  # (T, N, 1)
        self._ms = ms
        recurrent_kernel = self.params["recurrent_kernel"]
        outputs = xp.empty((steps, n, self.units), dtype=dtype) if self.return_sequences else None
        trace = self.trace
        keep_steps = keep_steps or trace is not None  # explain reads every step's values
        self._h_rec = xp.empty((steps, n, self.units), dtype=dtype) if keep_steps else None  # h_{t-1} as U sees it
        self._caches = [] if keep_steps else None
        if trace is not None:
            trace.update(order=order, caches=self._caches, states=[], state_grads=None)
        chunks = step_chunks(steps, n)
        projected = parallel.in_background(project, *chunks[0])
        for j, (a, b) in enumerate(chunks):
            projected.result()
            if j + 1 < len(chunks):  # the next chunk's input part, on another thread if there is one
                projected = parallel.in_background(project, *chunks[j + 1])
            for k in range(a, b):
                h_rec = states[0] if self._keep_h is None else states[0] * self._keep_h
                new_states, cache = self.step(a_x[k], h_rec @ recurrent_kernel, states)  # (N, U) @ (U, G·U)
                if keep_steps:
                    self._h_rec[k] = h_rec
                    self._caches.append(cache)
                if ms is not None:  # carry the states over the masked steps
                    new_states = [m_s * ms[k] + s * (1 - ms[k]) for m_s, s in zip(new_states, states)]
                states = new_states
                if trace is not None:
                    trace["states"].append(states)
                if outputs is not None:
                    outputs[k] = states[0] * ms[k] if (ms is not None and self.zero_output_for_mask) else states[0]
        if outputs is not None:
            y = outputs.swapaxes(0, 1).copy()
        else:  # the last output only; a copy, not the state itself, which return_state returns too
            y = states[0] * ms[-1] if (ms is not None and self.zero_output_for_mask and steps) else states[0].copy()
        return [y, *states] if self.return_state else y

    def _initial_states(self, initial_state, n: int, dtype, xp=np) -> list:
        if initial_state is None:
            return [xp.zeros((n, self.units), dtype=dtype) for _ in self.state_names]
        if isinstance(initial_state, np.ndarray) and len(self.state_names) == 1:
            initial_state = [initial_state]
        initial_state = list(initial_state)
        if len(initial_state) != len(self.state_names) or any(
                np.shape(s) != (n, self.units) for s in initial_state):
            names = ", ".join(self.state_names)
            raise ValueError(f"{type(self).__name__}: initial_state must be a list of {len(self.state_names)} "
                             f"array(s) ({names}), each (N, units) = ({n}, {self.units}); got shapes "
                             f"{[np.shape(s) for s in initial_state]}.")
        return [xp.asarray(s, dtype=dtype) for s in initial_state]

    def _dropout_mask(self, shape, rate: float, dtype) -> np.ndarray:
        keep = self._generator().random(shape, dtype=np.float32) >= rate
        return keep.astype(dtype) * np.dtype(dtype).type(1 / (1 - rate))

    # -- backward: backpropagation through time -------------------------------------------------
    def backward(self, grad):
        """Gradients through every time step, last to first.

        Args:
            grad: dL/dy, (N, T, U) or (N, U); with ``return_state`` a list
                ``[dL/dy, dL/dh_T, ...]`` (entries may be None: no gradient there).

        Returns:
            dL/dx (N, T, D); when ``forward`` got ``initial_state``, ``[dL/dx, dL/dh_0, ...]``.
        """
        if self._caches is None:  # forward ran at inference, keeping no per-step values
            x, mask, initial_state = self._inference_inputs
            self._run_steps(x, False, mask, initial_state, keep_steps=True)
        grads_in = list(grad) if isinstance(grad, (list, tuple)) else [grad]
        g_y = grads_in[0]
        steps, n, _ = self._h_rec.shape
        # dL/d(states) after the last step: from return_state's extra outputs, else zero.
        xp = backend.array_module(self._xs)
        d_states = [xp.zeros((n, self.units), dtype=self._xs.dtype) for _ in self.state_names]
        for i, g in enumerate(grads_in[1:]):
            if g is not None:
                d_states[i] = d_states[i] + g
        if g_y is None:
            g_y = xp.zeros((n, steps, self.units) if self.return_sequences else (n, self.units), self._xs.dtype)
        g_out = g_y.swapaxes(0, 1) if self.return_sequences else None  # (T, N, U), processing order
        # Uᵀ and Wᵀ copied into row-major arrays: OpenBLAS took about 25 % longer (70 % for the batched
        # product with Wᵀ) reading a transposed view than a plain array.
        recurrent_kernel_t = xp.ascontiguousarray(self.params["recurrent_kernel"].T)
        ms = self._ms
        d_ax = self._a_x
        d_ah = np.empty_like(d_ax) if self.separate_recurrent_grad else d_ax
        trace = self.trace
        if trace is not None:
            trace["state_grads"] = [None] * steps
        kernel_t = xp.ascontiguousarray(self.params["kernel"].T)
        features = kernel_t.shape[1]  # D
        need_dx = self.needs_input_grad or self._has_initial_state
        d_xs = xp.empty((steps, n, features), dtype=d_ax.dtype) if need_dx else None
        separate = self.separate_recurrent_grad

        def sums(a, b):
            """Steps a..b-1's shares of the three sums over time, and their dx_t, each one
            product over their c·N rows (einsum "tnd,tng->dg", "tnu,tng->ug"; dx "tng,gd->tnd").
            [x_t | 1]ᵀ d_ax gives dW and, in its last row, db = Σ d_ax."""
            g_x, g_h = d_ax[a:b].reshape(-1, d_ax.shape[-1]), d_ah[a:b].reshape(-1, d_ah.shape[-1])
            if need_dx:
                np.matmul(g_x, kernel_t, out=d_xs[a:b].reshape(-1, features))  # (c·N, G·U) @ (G·U, D)
            return (self._xs[a:b].reshape(-1, self._xs.shape[-1]).T @ g_x,
                    self._h_rec[a:b].reshape(-1, self.units).T @ g_h, g_h.sum(axis=0) if separate else None)

        # A chunk of steps done, its products run on another thread (if there is one) while the
        # loop goes on to the earlier steps; the shares are added up in one fixed order below.
        shares = []
        for a, b in reversed(step_chunks(steps, n)):
            for k in range(b - 1, a - 1, -1):
                g_k = g_out[k] if g_out is not None else (g_y if k == steps - 1 else None)
                if trace is not None:
                    trace["state_grads"][k] = [d_states[0] if g_k is None else d_states[0] + g_k, *d_states[1:]]
                d_new = list(d_states)
                if ms is None:
                    if g_k is not None:
                        d_new[0] = d_new[0] + g_k  # y_k = h_k
                    d_carry = None
                else:  # s_k = m s_new + (1 - m) s_{k-1}; y_k = s_k[0] (or m h_new with zero outputs)
                    m = ms[k]
                    if g_k is not None and not self.zero_output_for_mask:
                        d_new[0] = d_new[0] + g_k
                    d_carry = [d * (1 - m) for d in d_new]
                    d_new = [d * m for d in d_new]
                    if g_k is not None and self.zero_output_for_mask:
                        d_new[0] = d_new[0] + g_k * m
                g_ax, g_ah, d_prev = self.step_backward(self._caches[k], d_new)
                d_ax[k] = g_ax
                if self.separate_recurrent_grad:
                    d_ah[k] = g_ah
                # the recurrence: h_{k-1} reached a_h through U (and recurrent dropout)
                d_h_rec = d_ah[k] @ recurrent_kernel_t  # (N, G·U) @ (G·U, U) -> (N, U)
                if self._keep_h is not None:
                    d_h_rec *= self._keep_h
                d_prev[0] = d_h_rec if d_prev[0] is None else d_prev[0] + d_h_rec
                if d_carry is not None:
                    d_prev = [d + carried for d, carried in zip(d_prev, d_carry)]
                d_states = d_prev
            shares.append(parallel.in_background(sums, a, b))
        # In place: grads may be views of the model's flat gradient buffer.
        d_kernel, d_recurrent, d_ah_sum = shares[0].result()
        for share in shares[1:]:
            share_kernel, share_recurrent, share_ah = share.result()
            d_kernel += share_kernel
            d_recurrent += share_recurrent
            if separate:
                d_ah_sum += share_ah
        self.grads["kernel"][...] = d_kernel[:features]
        self.grads["recurrent_kernel"][...] = d_recurrent
        if self.use_bias:
            self.write_bias_grad(d_kernel[features], d_ah_sum if separate else d_kernel[features])
        if not need_dx:
            return None
        if self._keep_x is not None:
            d_xs *= self._keep_x
        if self.go_backwards:
            d_xs = d_xs[::-1]  # back to time order
        dx = d_xs.swapaxes(0, 1).copy()  # one copy, where a reordering copy and then this took two
        return [dx, *d_states] if self._has_initial_state else dx

    # -- the cell (subclasses) ------------------------------------------------------------------
    def step(self, a_x, a_h, states):
        raise NotImplementedError

    def step_backward(self, cache, d_states):
        raise NotImplementedError

    def step_values(self, cache, x_t, states_prev) -> dict:
        """What one step computed besides its states, by name, each (N, U): the gates, for
        ``explain`` (from the step's ``cache``, its input x_t (N, D) and the states before it)."""
        return {}

    # -- config ---------------------------------------------------------------------------------
    def get_config(self):
        def opt(obj):
            return None if obj is None else serialize(obj)

        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": serialize(self.kernel_initializer),
            "recurrent_initializer": serialize(self.recurrent_initializer),
            "bias_initializer": serialize(self.bias_initializer),
            "kernel_regularizer": opt(self.kernel_regularizer),
            "recurrent_regularizer": opt(self.recurrent_regularizer),
            "bias_regularizer": opt(self.bias_regularizer),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
        }


#: the fewest rows (steps x samples) of one chunk of steps whose products run as one, while the time
#: loop works on the next chunk (see ``step_chunks``).
CHUNK_ROWS = 1024


def call_with_sequence_arguments(layer, x, training: bool, mask, initial_state):
    """``layer(x, mask=..., initial_state=...)`` for a recurrent layer or a Bidirectional: a graph
    node for symbolic ``x`` (with its initial_state tensors), else the forward pass where x lives."""
    if mask is not None and (symbolic.is_symbolic(x) or symbolic.is_symbolic(mask)):
        raise TypeError(f"{type(layer).__name__} {layer.name!r}: mask= is not a symbolic call argument in "
                        f"glassnet; in a gn.Model the mask comes with the tensor: put "
                        f"gn.layers.Embedding(..., mask_zero=True) or gn.layers.Masking() before this layer. "
                        f"(mask= works with NumPy arrays in an eager call.)")
    if initial_state is not None and symbolic.is_symbolic(x):
        return symbolic.call(layer, x, initial_state=initial_state)
    if mask is None and initial_state is None:
        return Layer.__call__(layer, x, training=training)
    x = layer._as_float(x)
    if not layer.built:
        layer.build((None, *x.shape[1:]))
    return layer._forward_where_x_lives(x, training, mask=mask, initial_state=initial_state)


def step_chunks(steps: int, n: int) -> list:
    """The time steps cut into chunks (a, b) of at least ``CHUNK_ROWS`` rows (N = n samples each),
    in order; the last may be shorter. The cut depends on the shapes only, never on the thread count,
    so the sums over time are added in the same order, and give the same bits, on any number of threads.

    Example:
        >>> step_chunks(100, 64)
        [(0, 16), (16, 32), (32, 48), (48, 64), (64, 80), (80, 96), (96, 100)]
    """
    size = max(1, -(-CHUNK_ROWS // max(n, 1)))
    return [(a, min(a + size, steps)) for a in range(0, steps, size)] or [(0, 0)]


def check_sequence_input(shape, layer: str, features: int | None = None) -> None:
    """Raise unless ``shape`` is (N, T, D) with a known D (the batch axis may be None), and D equal
    to ``features`` when the layer was built for that many."""
    if len(shape) != 3 or shape[-1] is None:
        # (N, U) is most often the output of a recurrent layer below that gave only its last step.
        stacked = (" After another recurrent layer, give that one return_sequences=True, so that it hands on "
                   "every step (N, T, U), not only the last (N, U)." if len(shape) == 2 else "")
        raise ValueError(f"{layer} needs 3-D inputs (N, T, D): samples, time steps, features per step; got "
                         f"shape {tuple(shape)}. For one feature per time step add a feature axis, x[..., None] "
                         f"(input_shape=(T, 1)); for token ids put an Embedding layer first.{stacked}")
    if features is not None and shape[-1] != features:
        raise ValueError(f"{layer} was built for {features} features per time step (its kernel is "
                         f"({features}, ...)) and got inputs of shape {tuple(shape)}, {shape[-1]} per step. "
                         f"Give it inputs of {features} features, or use a new {layer} for these.")


@register("layer")
class SimpleRNN(Recurrent):
    """The plain (Elman) recurrent layer: h_t = act(x_t W + h_{t-1} U + b).

    Its gradient through time is a product of Jacobians diag(act'(a_t)) Uᵀ, one per step; with
    tanh they usually shrink, so early steps receive vanishing gradients (LSTM and GRU gate them).

    Args:
        units: U, the size of the state and of the output.
        activation: applied to the pre-activation (default tanh).
        use_bias, kernel_initializer ("glorot_uniform"), recurrent_initializer ("orthogonal"),
        bias_initializer ("zeros"), kernel_regularizer, recurrent_regularizer, bias_regularizer:
            as in Keras.
        dropout / recurrent_dropout: fractions of the inputs / of the state dropped for the
            products with W / U, one mask per call (see ``Recurrent``).
        seed: seeds the dropout of the layer used on its own (in a model the model's seed decides).
        return_sequences: output every step (N, T, U) rather than the last (N, U).
        return_state: also return the final state: ``[y, h_T]``.
        go_backwards: process the steps last to first; the output sequence is then reversed too.
        stateful / unroll: refused (False only).
        **kwargs: ``name``, ``input_shape``, ``trainable``, ``dtype``.

    Shapes:
        x: (N, T, D) -> y: (N, U) or (N, T, U); W: (D, U); U: (U, U); b: (U,).

    Math:
        forward  a_t = x_t W + h_{t-1} U + b; h_t = act(a_t)
        backward d_a_t = act'(a_t) ⊙ (dL/dh_t); dL/dh_{t-1} = d_a_t Uᵀ; dx_t = d_a_t Wᵀ;
                 dW = Σ_t x_tᵀ d_a_t, dU = Σ_t h_{t-1}ᵀ d_a_t, db = Σ_t Σ_n d_a_t

    Example:
        >>> import numpy as np, glassnet as gn
        >>> gn.layers.SimpleRNN(4)(np.ones((2, 5, 3))).shape
        (2, 4)
    """

    formula = "h_t = act(x_t W + h_{t-1} U + b), for t = 1..T"

    def step(self, a_x, a_h, states):
        act = activations.get(self.activation)  # its own copy: it caches act(a_t) for this step
        h = act.forward(a_x + a_h)
        return [h], act

    def step_backward(self, act, d_states):
        d_a = act.backward(d_states[0])
        return d_a, d_a, [None]  # None: h_{t-1} reaches this step only through U

    def step_values(self, cache, x_t, states_prev):
        # The cache keeps tanh(a) only, so a is computed again (as without dropout: explain's case).
        a = x_t @ self.params["kernel"] + states_prev[0] @ self.params["recurrent_kernel"]
        return {"a": a + self.params["bias"] if self.use_bias else a}
