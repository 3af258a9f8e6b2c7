"""GRU: the gated recurrent unit, one step forward and backward (the time loop is in recurrent.py)."""

from __future__ import annotations

import numpy as np

from glassnet import activations
from glassnet._registry import register
from glassnet.layers.recurrent import GateActivations, Recurrent


@register("layer")
class GRU(Recurrent):
    """Gated recurrent unit (Cho et al., 2014), in the ``reset_after=True`` form of Keras 3 and PyTorch.

    Keras' gate order is z (update), r (reset), h (candidate); the reset gate multiplies the
    recurrent product after it is computed, which is why the recurrent part has its own bias.

    Args:
        units: U, the size of the state and of the output.
        activation: for the candidate (default tanh).
        recurrent_activation: for the gates z and r (default sigmoid).
        reset_after: only True (the form Keras 3 and PyTorch default to); False is refused.
        use_bias, kernel_initializer, recurrent_initializer, bias_initializer, the regularizers,
        dropout, recurrent_dropout, seed, return_sequences, return_state, go_backwards, stateful,
        unroll: as in ``SimpleRNN``. Recurrent dropout applies where h_{t-1} meets U; the update
        z ⊙ h_{t-1} uses the state itself (as Keras' per-gate implementation does).

    Shapes:
        x: (N, T, D) -> y: (N, U) or (N, T, U); W: (D, 3U); U: (U, 3U); b: (2, 3U), row 0 the input
        bias b_x, row 1 the recurrent bias b_h, blocks [z | r | h]. PyTorch's ``nn.GRU`` orders
        the blocks r, z, n: weight_ih = W[:, [r, z, h]]ᵀ and likewise for U and both biases.

    Math:
        forward  p = x_t W + b_x = [p_z | p_r | p_h];  q = h_{t-1} U + b_h = [q_z | q_r | q_h]
                 z = σ(p_z + q_z), r = σ(p_r + q_r), n = tanh(p_h + r ⊙ q_h)
                 h_t = z ⊙ h_{t-1} + (1 - z) ⊙ n
        backward (dh = dL/dh_t)
                 d_n = tanh'(·) ⊙ dh ⊙ (1 - z);  d_z = σ'(·) ⊙ dh ⊙ (h_{t-1} - n);  d_r = σ'(·) ⊙ d_n ⊙ q_h
                 dL/dp = [d_z | d_r | d_n],  dL/dq = [d_z | d_r | d_n ⊙ r]
                 dL/dh_{t-1} = dh ⊙ z + dL/dq Uᵀ;  dW = Σ_t x_tᵀ dL/dp, dU = Σ_t h_{t-1}ᵀ dL/dq,
                 db_x = Σ dL/dp, db_h = Σ dL/dq

    Example:
        >>> import numpy as np, glassnet as gn
        >>> gn.layers.GRU(4, return_sequences=True)(np.ones((2, 5, 3))).shape
        (2, 5, 4)
    """

    gates = 3
    separate_recurrent_grad = True
    formula = "[z, r] = σ(...); n = tanh(x_t W_h + b_xh + r (h_{t-1} U_h + b_hh)); h_t = z h_{t-1} + (1 - z) n"

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid", reset_after: bool = True,
                 **kwargs):
        if not reset_after:
            raise ValueError("GRU: only reset_after=True is supported (Keras 3's and PyTorch's default, the "
                             "reset gate applied after the recurrent product). Drop reset_after=False.")
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = True

    def bias_shape(self):
        return (2, 3 * self.units)

    def input_bias(self):
        return self.params["bias"][0] if self.use_bias else None

    def write_bias_grad(self, d_ax_sum, d_ah_sum):
        self.grads["bias"][0] = d_ax_sum
        self.grads["bias"][1] = d_ah_sum

    def step(self, a_x, a_h, states):
        (h_prev,) = states
        u = self.units
        q = a_h + self.params["bias"][1] if self.use_bias else a_h  # (N, 3U)
        gates = GateActivations((self.recurrent_activation, self.recurrent_activation), u)
        cand = activations.get(self.activation)
        z_r = gates.forward(a_x[:, :2 * u] + q[:, :2 * u])  # z and r side by side: one call
        z, r = z_r[:, :u], z_r[:, u:]
        q_h = q[:, 2 * u:]
        n = cand.forward(a_x[:, 2 * u:] + r * q_h)
        h = z * h_prev + (1 - z) * n
        return [h], (z, r, n, q_h, h_prev, gates, cand)

    def step_backward(self, cache, d_states):
        z, r, n, q_h, h_prev, gates, cand = cache
        (dh,) = d_states
        d_n = cand.backward(dh * (1 - z))
        d_zr = gates.backward(np.concatenate([dh * (h_prev - n), d_n * q_h], axis=1))
        d_p = np.concatenate([d_zr, d_n], axis=1)
        d_q = np.concatenate([d_zr, d_n * r], axis=1)
        return d_p, d_q, [dh * z]

    def step_values(self, cache, x_t, states_prev):
        z, r, n = cache[:3]
        return {"z": z, "r": r, "n": n}

    def get_config(self):
        return {**super().get_config(),
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                "reset_after": self.reset_after}
