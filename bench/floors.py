"""Hardware floors: plain ``tf.function`` calls of the linear-head copy of a model (a forward
pass of the batch, k forward passes or k input gradients per sample in the explainer's chunks)
and, for each method, the floor it is measured against (``floor_for``)."""
from __future__ import annotations


class Floors:
    """Forward / input-gradient floors on the linear-head copy, tf.function-compiled."""

    def __init__(self, lin):
        import tensorflow as tf
        self.tf = tf
        self.fwd = tf.function(lambda x: lin(x, training=False))

        @tf.function
        def grad(x, t):
            with tf.GradientTape(watch_accessed_variables=False) as tape:
                tape.watch(x)
                z = lin(x, training=False)
                s = tf.gather(z, t, batch_dims=1)
            return tape.gradient(s, x)
        self.grad = grad

    def forward(self, x):
        x = self.tf.constant(x)
        return lambda: self.fwd(x)

    def gradients(self, x, targets, k: int, chunk: int):
        """k gradient evaluations per sample, i.e. len(x)*k images in chunks of `chunk`
        (inputs precomputed: points on the straight path from 0 to x). Returns (fn, 1)."""
        import numpy as np
        tf = self.tf
        idx = np.repeat(np.arange(len(x)), k)
        alphas = np.tile(np.linspace(0, 1, k, dtype="float32"), len(x))
        xs = tf.constant(x[idx] * alphas[:, None, None, None])
        ts = tf.constant(np.asarray(targets)[idx], tf.int32)
        n = len(idx)

        def run():
            g = None
            for s in range(0, n, chunk):
                g = self.grad(xs[s:s + chunk], ts[s:s + chunk])
            return g
        return run, 1.0

    def forwards(self, x, k: int, chunk: int, max_chunks: int | None = None):
        """k forward passes per sample (len(x)*k images) in chunks of `chunk`. With max_chunks,
        only that many full chunks run and the returned scale extrapolates to all of them."""
        import numpy as np
        tf = self.tf
        n = len(x) * k
        c = min(chunk, n)
        full, rest = divmod(n, c)
        xc = tf.constant(np.resize(x, (c,) + x.shape[1:]))
        xr = tf.constant(np.resize(x, (rest,) + x.shape[1:])) if rest else None
        if max_chunks is not None and full + bool(rest) > max_chunks:
            r = max_chunks
            return (lambda: [self.fwd(xc) for _ in range(r)][-1]), (full + rest / c) / r

        def run():
            out = [self.fwd(xc) for _ in range(full)]
            return self.fwd(xr) if rest else out[-1]
        return run, 1.0


def floor_for(method, floors, x, targets, cfg, channels):
    """(label, callable, scale) of the floor a method is measured against."""
    if method in ("gradcam", "gradcam++", "xgradcam", "layercam", "eigencam"):
        return ("fwd", floors.forward(x), 1.0)
    if method == "smooth_gradcam++":
        return (f"fwd×{cfg['n']}",) + floors.forwards(x, cfg["n"], cfg["cam_bs"])
    if method == "saliency":
        return ("grad×1",) + floors.gradients(x, targets, 1, cfg["grad_bs"])
    if method == "smoothgrad":
        return (f"grad×{cfg['n']}",) + floors.gradients(x, targets, cfg["n"], cfg["grad_bs"])
    if method == "integrated_gradients":
        return (f"grad×{cfg['steps']}",) + floors.gradients(x, targets, cfg["steps"],
                                                            cfg["ig_bs"])
    k = channels if method == "scorecam" else cfg["masks"]
    fn, scale = floors.forwards(x, k, cfg["mask_bs"], max_chunks=8)
    return (f"fwd×{k}" + (" (est.)" if scale != 1 else ""), fn, scale)

