"""SISE: Semantic Input Sampling for Explanation (Sattarzadeh et al., AAAI 2021).

"Explaining Convolutional Neural Networks through Attribution-Based Input Sampling and
Block-Wise Feature Aggregation". Four phases, for each sample:

1. *Feature map extraction* from the last layer of every convolutional block (the layer just
   before each downsampling step) — :func:`block_layers`.
2. *Backward feature selection*: keep the channels whose average gradient is positive.
3. *Attribution-based input sampling*: every kept channel, bilinearly upsampled and min-max
   scaled, masks the input; the masks weighted by the masked inputs' class scores give one
   visualisation map per layer (RISE with feature-map masks instead of random ones).
4. *Block-wise fusion*, deepest → shallowest, gating each finer map by an Otsu-binarised copy of
   the coarser fused map — :func:`fuse`.

Nothing in SISE is random. The masked passes of all (sample, channel) pairs are batched together.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from .. import layers as xlayers
from .. import probe as probes
from .. import scores
from .._batching import chunks, progress_bar
from ..explain import register
from ..maps import channel_masks, min_max

_SKIP = ("ZeroPadding", "Cropping", "Dropout", "SpatialDropout", "GaussianNoise",
         "GaussianDropout", "AlphaDropout")


# ------------------------------------------------------------------------- phase 1: layers
def _spatial_size(layer):
    shape = xlayers.output_shape(layer)
    dims = shape[1:-1] if shape else ()
    return None if any(d is None for d in dims) else int(np.prod(dims))


def _block_paths(model) -> list[tuple]:
    last = xlayers.resolve_layer(model)  # last spatial map before global pooling / flatten
    cands, rank = [], xlayers.input_rank(model)
    for path in xlayers.walk(model):
        layer = path[-1]
        if isinstance(layer, (keras.layers.InputLayer, keras.Model)) \
                or not xlayers.is_spatial(layer, rank) \
                or layer.__class__.__name__.startswith(_SKIP):
            continue
        cands.append(path)
        if layer is last[-1]:
            break
    ends = [a for a, b in zip(cands, cands[1:])
            if None not in (_spatial_size(a[-1]), _spatial_size(b[-1]))
            and _spatial_size(b[-1]) < _spatial_size(a[-1])]
    if not ends:  # one block only (no downsampling): every convolution is a "block"
        ends = [p for p in cands[:-1] if "Conv" in p[-1].__class__.__name__]
    ends = [p for p in ends if p[-1] is not last[-1]] + [last]
    return ends


def block_layers(model) -> list[str]:
    """Names of the layers SISE uses by default, shallowest first.

    The paper visualises "the last layer of each convolutional block". A block ends where the
    next layer's feature map is spatially smaller (a pooling layer or a strided convolution
    follows; padding, cropping and dropout layers are ignored), and the last spatial layer before
    global pooling / flatten (``xai.layers.resolve_layer(model)``) ends the last block. E.g. the
    HMT "VGG-7" → ``conv2d_1, conv2d_3``; VGG16 → ``block1_conv2 … block5_conv3``; MobileNet →
    the ``conv_pw_*_relu`` before each stride-2 depthwise convolution, and ``conv_pw_13_relu``.

    A model that never downsamples (e.g. the MNIST-1D CNN: three same-length Conv1D → Flatten →
    Dense) is a single block; so that the block-wise fusion still has layers to aggregate, each
    convolution's output is then taken as its own block (MNIST-1D → ``conv1d, conv1d_1,
    conv1d_2``).
    """
    return [p[-1].name for p in _block_paths(model)]


def resolve_paths(model, layers) -> list[tuple]:
    """Layer paths of SISE's ``layers`` (names, indices or layers; None: :func:`block_layers`),
    without repeats, in the order the model applies them."""
    if layers is None:
        paths = _block_paths(model)
    else:
        if isinstance(layers, (str, int, keras.layers.Layer)):
            layers = [layers]
        paths = [xlayers.resolve_layer(model, name) for name in layers]
        if not paths:
            raise ValueError("layers is empty; give layer names, or None for block_layers(model)")
    order = {id(p[-1]): i for i, p in enumerate(xlayers.walk(model))}
    unique = {id(p[-1]): p for p in paths}
    return sorted(unique.values(), key=lambda p: order[id(p[-1])])


# ------------------------------------------------------------------------- phase 2: selection
def _log_score(z, probe, score):
    """log of the explained score: ∂ log S/∂A = (∂S/∂A) / S has the signs and channel ratios of
    ∂S/∂A (S > 0) and does not vanish when a softmax saturates in float32."""
    if score == "logit":
        return z
    if probe.inside:  # z is already a probability
        return tf.math.log(tf.maximum(scores.transform(z, probe, score), 1e-30))
    if probe.final_activation == "sigmoid":
        return tf.math.log_sigmoid(z)
    return tf.nn.log_softmax(z, axis=-1)


def _gradient_fn(probe, score):
    return probes.compiled_gradient(probe, ("sise_grad", score), _acts_mean_grads, probe=probe,
                                     score=score)


def _acts_mean_grads(xb, tb, *, probe, score):
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(xb)
        A, z = probe.model(xb, training=False)
        s = scores.select(_log_score(z, probe, score), tb)[0]
    G = tape.gradient(s, A)
    axes = list(range(1, len(A.shape) - 1))
    flat = tf.reshape(A, [tf.shape(A)[0], -1, tf.shape(A)[-1]])
    varies = tf.reduce_max(flat, 1) > tf.reduce_min(flat, 1)
    return A, tf.reduce_mean(G, axes), varies


def select_channels(mean_grad, varies, threshold=0.0):
    """Backward feature selection (paper, phase 2), per sample.

    Channel k is kept when its average gradient ᾱ_k = mean_positions ∂S/∂A_k is positive and
    ᾱ_k > μ · max_k' ᾱ_k' (μ = ``threshold`` ∈ [0, 1); μ = 0 is the paper's "positive gradient"
    rule), and its map is not constant (a constant map has no min-max mask). Returns bool (N, K).
    """
    mean_grad = np.asarray(mean_grad)
    top = mean_grad.max(axis=1, keepdims=True)
    return (mean_grad > 0) & (mean_grad > threshold * top) & np.asarray(varies, bool)


# ------------------------------------------------------------------------- phase 3: sampling
def _masked_fn(scorer, score):
    return probes.compiled(scorer, ("sise_masked", score), _masked_sum, scorer=scorer,
                            score=score)


def _masked_sum(xs, chans, t, seg, nseg, *, scorer, score):
    """Σ over a chunk's (sample, channel) pairs of S_t(x ⊙ M_k) M_k, per sample."""
    m = channel_masks(chans, tuple(xs.shape[1:-1]))
    s = scores.masked(scorer, xs, m, t, score)
    w = tf.reshape(s, [-1] + [1] * (len(m.shape) - 1)) * m
    return tf.math.unsorted_segment_sum(w, seg, nseg)


def _layer_maps(model, path, x, targets, score, threshold, batch_size, bar):
    """Visualisation maps V (N, *input size) of one layer: V = Σ_k S(x ⊙ M_k) M_k / #masks."""
    probe = probes.build_probe(model, path)
    scorer = probes.build_probe(model, None)
    grad_fn, masked_fn = _gradient_fn(probe, score), _masked_fn(scorer, score)
    n, size = int(x.shape[0]), tuple(x.shape[1:-1])
    out = np.zeros((n,) + size, np.float32)
    for s in chunks(n, batch_size, False):
        A, mean_grad, varies = grad_fn(x[s], tf.constant(targets[s]))
        keep = select_channels(mean_grad.numpy(), varies.numpy(), threshold)
        owner, chan = np.nonzero(keep)  # sorted by sample
        if len(owner) == 0:
            continue
        A = np.moveaxis(A.numpy(), -1, 1)  # (n, K, *s)
        total = np.zeros((s.stop - s.start,) + size, np.float64)
        bar.total += -(-len(owner) // batch_size)  # the masked chunks of this layer and batch
        bar.set_postfix_str(path[-1].name)
        for c in chunks(len(owner), batch_size, False):
            o = owner[c]
            first = int(o[0])
            total[first:int(o[-1]) + 1] += masked_fn(
                tf.gather(x[s], o), tf.constant(A[o, chan[c]]), tf.constant(targets[s][o]),
                tf.constant(o - first, tf.int32), tf.constant(int(o[-1]) - first + 1)).numpy()
            bar.update()
        count = keep.sum(1).reshape((-1,) + (1,) * len(size))
        out[s] = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
    return out


# ------------------------------------------------------------------------- phase 4: fusion
def otsu_threshold(maps, nbins: int = 256) -> np.ndarray:
    """Otsu's threshold of each map in a batch (N, ...) → (N,), vectorised over the batch.

    Same rule as ``skimage.filters.threshold_otsu`` for float images: ``nbins`` equal bins over
    [min, max] (NumPy's histogram edges), the threshold is the centre of the bin that maximises
    the between-class variance; a constant map's threshold is its value.
    """
    flat = np.asarray(maps, np.float64).reshape(len(maps), -1)
    n = len(flat)
    lo, hi = flat.min(1), flat.max(1)
    const = hi <= lo
    span = np.where(const, 1.0, hi - lo)
    steps = np.arange(nbins + 1) / nbins
    edges = lo[:, None] + span[:, None] * steps
    edges[:, -1] = np.where(const, edges[:, -1], hi)
    idx = np.clip(np.floor((flat - lo[:, None]) * (nbins / span)[:, None]).astype(np.int64),
                  0, nbins - 1)
    # fix rounding at the edges exactly as numpy.histogram does
    idx -= flat < np.take_along_axis(edges, idx, 1)
    idx += (flat >= np.take_along_axis(edges, idx + 1, 1)) & (idx != nbins - 1)
    counts = np.bincount((idx + nbins * np.arange(n)[:, None]).ravel(),
                         minlength=n * nbins).reshape(n, nbins).astype(np.float64)
    centers = (edges[:, :-1] + edges[:, 1:]) / 2
    w1 = np.cumsum(counts, 1)
    w2 = np.cumsum(counts[:, ::-1], 1)[:, ::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        m1 = np.cumsum(counts * centers, 1) / w1
        m2 = (np.cumsum((counts * centers)[:, ::-1], 1) / w2[:, ::-1])[:, ::-1]
        between = w1[:, :-1] * w2[:, 1:] * (m1[:, :-1] - m2[:, 1:]) ** 2
    between = np.where(np.isfinite(between), between, -np.inf)
    t = np.take_along_axis(centers, np.argmax(between, 1)[:, None], 1)[:, 0]
    return np.where(const, lo, t)


def fuse(maps, normalize: bool = True) -> np.ndarray:
    """Block-wise feature aggregation (paper, phase 4), coarse → fine.

    ``maps`` are the layers' visualisation maps V_1 … V_L (shallowest first), each (N, *size).
    With n(·) the per-sample min-max scaling to [0, 1] and B(F) = [F > otsu(F)] the Otsu mask::

        F_L = n(V_L)
        F_l = n(V_l) ⊙ B(F_{l+1}) + F_{l+1},   then F_l ← n(F_l),   l = L-1, …, 1

    The finer map adds detail only inside the region the coarser (fused) map marks as
    foreground. The result F_1 is in [0, 1]; ``normalize=False`` skips only the last n(·)
    (F_1 ∈ [0, 2]), or returns V_1 itself when there is a single layer. A zero map stays zero.
    """
    maps = [np.asarray(m, np.float32) for m in maps]
    if len(maps) == 1:
        return min_max(maps[0]) if normalize else maps[0]
    fused = min_max(maps[-1])
    for i, v in enumerate(reversed(maps[:-1])):
        t = otsu_threshold(fused).reshape((-1,) + (1,) * (fused.ndim - 1))
        fused = min_max(v) * (fused > t) + fused
        if normalize or i < len(maps) - 2:
            fused = min_max(fused)
    return fused.astype(np.float32)


# ------------------------------------------------------------------------- the method
def _count(model, o) -> tuple:
    """An upper bound: L gradient passes, and one masked pass per channel of the L layers (only
    channels with a positive mean gradient are masked)."""
    paths = resolve_paths(model, o["layers"])
    channels = sum(int(xlayers.output_shape(p[-1])[-1]) for p in paths)
    return len(paths) + channels, len(paths), False


@register("sise", returns="map", layer="many", label="SISE", count=_count, pins_top1=True)
def sise(model, x, layers=None, target=None, score="probability", threshold=0.0, normalize=True,
         batch_size=64, progress=True):
    """SISE (Sattarzadeh et al., AAAI 2021): multi-layer, feature-map-masked input sampling.

    For each layer l (default :func:`block_layers`: the last layer of each convolutional block)
    with feature maps A^l (N, *s, K) and gradients G = ∂S_c/∂A^l:

    * selection (sec. "Backward feature selection"): keep channel k when the average gradient
      ᾱ_k = mean_positions G_k > 0 and ᾱ_k > μ · max_k' ᾱ_k' (μ = ``threshold``, 0 = the paper's
      rule; a constant channel, whose mask would be empty, is skipped). For
      ``score="probability"`` the gradient of log p_c is used: it equals ∂p_c/∂A / p_c, so the
      selection is the same, but it survives a saturated softmax in float32.
    * sampling (sec. "Attribution-based input sampling"): M_k = min-max(bilinear-upsample(A_k)) ∈
      [0, 1]; the layer's visualisation map is V_l = Σ_k S_c(x ⊙ M_k) M_k / (number of masks),
      S_c the class probability by default, as in the paper.
    * fusion (sec. "Fusion module"), see :func:`fuse`: F_L = n(V_L), F_l = n(n(V_l) ⊙
      B(F_{l+1}) + F_{l+1}), n = min-max, B = Otsu binarisation; the explanation is F_1.

    Parameters
    ----------
    model : keras.Model, a single-input classifier.
    x : array (N, H, W, C) or (N, T, C) in the model's input space.
    layers : None (block ends, see :func:`block_layers`) or a list of layer names (or a single
        name); they are fused from the deepest to the shallowest whatever the order given.
    target : None (each sample's top-1), a class index or one per sample.
    score : "probability" (default, as in the paper) or "logit": the S_c that weights the masks
        and whose gradient selects the channels.
    threshold : μ ∈ [0, 1), the relative gradient threshold of the channel selection.
    normalize : min-max scale the result to [0, 1] (default). False skips the final scaling
        (F_1 ∈ [0, 2]; with a single layer, the raw score-weighted mask average V_1).
    batch_size : samples per gradient pass and masked inputs per forward pass.
    progress : show one progress bar over the masked passes of all layers (or a callable
        ``progress(done, total)``, as for the other methods).

    Returns
    -------
    np.ndarray float32 (N, H, W) or (N, T), ≥ 0, in [0, 1]; zeros where no channel is selected.
    """
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.floating)) \
            or not 0 <= threshold < 1:
        raise ValueError(f"threshold (μ, relative to the largest average gradient) must be in "
                         f"[0, 1), got {threshold!r}")
    paths = resolve_paths(model, layers)
    setup = scores.prepare(model, x, target, score, pin_top1=True, batch_size=batch_size)
    x, targets = setup.x, setup.targets
    with progress_bar(progress, desc="SISE") as bar:
        maps = [_layer_maps(model, p, x, targets, score, float(threshold), batch_size, bar)
                for p in paths]
    fused = fuse(maps, normalize)
    return np.where(np.isfinite(fused), fused, 0.0).astype(np.float32)
