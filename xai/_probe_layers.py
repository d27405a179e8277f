"""Keras layers that the probe (:mod:`xai.probe`) puts into its re-run of the user's graph.

A guided-backpropagation gate after every ReLU, and a Dense layer on the original's variables
with a faster input gradient on CPUs (also, without its activation, the logits head). Private
to the probe: its underscore names are :mod:`xai.probe`'s to use.
"""
import keras
import tensorflow as tf


# ---------------------------------------------------------------- guided backpropagation
@tf.custom_gradient
def _positive_gradient(h):
    def grad(dy):
        return tf.nn.relu(dy)
    return tf.identity(h), grad


@tf.function(reduce_retracing=True)
def _guided_identity(h):
    """Identity whose gradient keeps only positive incoming gradients. Placed after a ReLU, the
    ReLU's own gradient (input > 0) and this gate give guided backpropagation's rule
    (Springenberg et al., 2015): a gradient passes where both the input and it are positive.
    One shared tf.function: TensorFlow keeps each traced custom gradient for the life of the
    process, so it is traced once per input signature, not once per model."""
    return _positive_gradient(h)


class _GuidedGate(keras.layers.Layer):
    def call(self, h):
        return _guided_identity(h)


def _guided_gate(relu) -> _GuidedGate:
    return _GuidedGate(name=relu.name + "_guided", dtype=relu.dtype_policy)


def _is_relu(layer) -> bool:
    """A ReLU layer, or a layer whose activation is a ReLU (relu, relu6, leaky_relu)."""
    if isinstance(layer, (keras.layers.ReLU, keras.layers.LeakyReLU)):
        return True
    act = getattr(layer, "activation", None)
    return getattr(act, "__name__", None) in ("relu", "relu6", "leaky_relu")


# ---------------------------------------------------------------- Dense with a fast input gradient
def _matmul(h, w):
    """h @ w computed as (wᵀ hᵀ)ᵀ, so that TensorFlow's own gradient for h is (w gᵀ)ᵀ. The
    usual g wᵀ is far slower on some CPUs for a large w: VGG16's fc1 (25088 × 4096) took 1.2 s
    at batch 4 on one machine and 0.33 s against 0.06 s at batch 16 on another (TF 2.21, 2-core
    AMD EPYC), more than the forward pass of the whole net. Plain autodiff, no custom gradient:
    TensorFlow keeps every custom gradient traced in a graph for the life of the process."""
    return tf.transpose(tf.matmul(w, tf.transpose(h), transpose_a=True))


class _Dense(keras.layers.Layer):
    """A Dense layer's forward pass on its own variables (no copy) with the fast input
    gradient of :func:`_matmul`; ``linear=True`` leaves out the activation (the logits head)."""

    def __init__(self, dense, linear=False, **kwargs):
        super().__init__(**kwargs)
        self.dense, self.linear = dense, linear

    def call(self, h):
        kernel = keras.ops.cast(self.dense.kernel, h.dtype)
        z = _matmul(h, kernel) if len(h.shape) == 2 else keras.ops.matmul(h, kernel)
        if self.dense.use_bias:
            z = z + keras.ops.cast(self.dense.bias, h.dtype)
        return z if self.linear else self.dense.activation(z)


def _fast_dense(dense) -> _Dense:
    return _Dense(dense, name=dense.name + "_fastgrad", dtype=dense.dtype_policy)
