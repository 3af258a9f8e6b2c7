"""LSTM: the long short-term memory layer, one step forward and backward (the time loop is in recurrent.py)."""

from __future__ import annotations

import numpy as np

from glassnet import activations
from glassnet._registry import register
from glassnet.layers.recurrent import GateActivations, Recurrent


@register("layer")
class LSTM(Recurrent):
    """Long short-term memory (Hochreiter & Schmidhuber, 1997), Keras' gate order i, f, c, o.

    The cell state c_t is updated additively, c_t = f ⊙ c_{t-1} + i ⊙ g: its gradient through
    time is multiplied by the forget gate f, not by a weight matrix and a tanh slope, so it can
    survive many steps where a SimpleRNN's vanishes.

    Args:
        units: U, the size of h and c and of the output.
        activation: for the candidate g and the output tanh(c) (default tanh).
        recurrent_activation: for the gates i, f, o (default sigmoid).
        unit_forget_bias: start the forget gate's bias at 1 (Jozefowicz et al., 2015), so that
            the cell remembers by default; the bias initializer then fills only the other gates.
        use_bias, kernel_initializer, recurrent_initializer, bias_initializer, the regularizers,
        dropout, recurrent_dropout, seed, return_sequences, return_state, go_backwards, stateful,
        unroll: as in ``SimpleRNN`` (return_state gives ``[y, h_T, c_T]``).

    Shapes:
        x: (N, T, D) -> y: (N, U) or (N, T, U); W: (D, 4U); U: (U, 4U); b: (4U,), blocks [i | f | c | o].
        PyTorch's ``nn.LSTM`` uses the same order: weight_ih = Wᵀ, weight_hh = Uᵀ, bias_ih = b, bias_hh = 0.

    Math:
        forward  a = x_t W + h_{t-1} U + b = [a_i | a_f | a_c | a_o]
                 i = σ(a_i), f = σ(a_f), g = tanh(a_c), o = σ(a_o)
                 c_t = f ⊙ c_{t-1} + i ⊙ g;  h_t = o ⊙ tanh(c_t)
        backward (dh = dL/dh_t, dc = dL/dc_t from the later steps and the output)
                 do = dh ⊙ tanh(c_t);  dc ← dc + dh ⊙ o ⊙ tanh'(c_t)
                 di = dc ⊙ g, df = dc ⊙ c_{t-1}, dg = dc ⊙ i;  dL/dc_{t-1} = dc ⊙ f
                 d_a = [σ'(a_i) di | σ'(a_f) df | tanh'(a_c) dg | σ'(a_o) do]
                 then as every recurrent layer: dL/dh_{t-1} = d_a Uᵀ, dx_t = d_a Wᵀ ...

    Example:
        >>> import numpy as np, glassnet as gn
        >>> y, h, c = gn.layers.LSTM(4, return_state=True)(np.ones((2, 5, 3)))
        >>> y.shape, h.shape, c.shape
        ((2, 4), (2, 4), (2, 4))
    """

    gates = 4
    state_names = ("h", "c")
    formula = "[i, f, g, o] = [σ, σ, tanh, σ](x_t W + h_{t-1} U + b); c_t = f c_{t-1} + i g; h_t = o tanh(c_t)"

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid", use_bias: bool = True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias: bool = True, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                         **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)

    def build(self, input_shape):
        super().build(input_shape)
        if self.use_bias and self.unit_forget_bias:
            self.params["bias"][self.units:2 * self.units] = 1.0

    def step(self, a_x, a_h, states):
        _, c_prev = states
        u = self.units
        rec = self.recurrent_activation
        gates = GateActivations((rec, rec, self.activation, rec), u)
        out_act = activations.get(self.activation)  # its own copy: it caches this step's tanh(c)
        a = np.add(a_x, a_h, out=a_h)  # a_h is this step's own array (see Recurrent)
        y = gates.forward(a, out=a)  # (N, 4U): [σ(a_i) | σ(a_f) | tanh(a_c) | σ(a_o)]
        i, f, g, o = y[:, :u], y[:, u:2 * u], y[:, 2 * u:3 * u], y[:, 3 * u:]
        c = f * c_prev
        c += i * g
        tanh_c = out_act.forward(c)
        h = o * tanh_c
        return [h, c], (i, f, g, o, c_prev, tanh_c, gates, out_act)

    def step_backward(self, cache, d_states):
        i, f, g, o, c_prev, tanh_c, gates, out_act = cache
        dh, dc = d_states
        u = self.units
        dc = dc + out_act.backward(dh * o)
        d_y = np.empty_like(dh, shape=(len(dh), 4 * u), order="C")  # [di | df | dg | do], in place; where dh is
        np.multiply(dc, g, out=d_y[:, :u])
        np.multiply(dc, c_prev, out=d_y[:, u:2 * u])
        np.multiply(dc, i, out=d_y[:, 2 * u:3 * u])
        np.multiply(dh, tanh_c, out=d_y[:, 3 * u:])
        d_a = gates.backward(d_y, out=d_y)  # (N, 4U)
        return d_a, d_a, [None, dc * f]  # None: h_{t-1} reaches this step only through U

    def step_values(self, cache, x_t, states_prev):
        i, f, g, o = cache[:4]
        return {"i": i, "f": f, "g": g, "o": o}

    def get_config(self):
        return {**super().get_config(),
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                "unit_forget_bias": self.unit_forget_bias}
