"""The contenders of a table row: xai (an ``xai.explain`` closure) and its peers tf-keras-vis and
xplique, each set up as a user of that library would for the same method, model, inputs, targets
and settings; a method a peer does not implement gets None."""
from __future__ import annotations

import inspect
from dataclasses import dataclass

from timing import quiet


def xai_call(xai, model, x, method, layer, targets, **opts):
    """An xai.explain closure; option names adapted to the method's signature."""
    fn = xai.METHODS[method]
    params = fn.options()
    kw = {}
    for k, v in opts.items():
        if k == "masks":
            k = next((p for p in ("n_masks", "masks", "n_samples", "n") if p in params), k)
        if k in params:
            kw[k] = v
    if "progress" in params:
        kw["progress"] = False
    if fn.layer != "one":
        layer = None
    return lambda: xai.explain(model, x, method=method, layer=layer, target=list(targets), **kw)


@dataclass
class _Row:
    """What the peers of one row share: the linear-head and softmax models, the inputs, their
    one-hot targets, the layer, the bench settings, tf-keras-vis' score (None when tf-keras-vis
    is missing), the ``xplique.attributions`` module (or None) and the SmoothGrad noise σ."""
    lin: object
    soft: object
    x: object
    onehot: object
    layer: str
    cfg: dict
    score: object
    XA: object
    sigma: float


def peers_for(method, lin, soft, x, targets, layer, cfg):
    """(tf-keras-vis callable or None, xplique callable or None, note) for one method."""
    import numpy as np
    onehot = np.eye(int(lin.output.shape[-1]), dtype="float32")[targets]
    note = ""
    try:
        from tf_keras_vis.utils.scores import CategoricalScore
        score = CategoricalScore(list(targets))
    except Exception as e:  # pragma: no cover - recorded in the notes
        score = None
        note = f"tf-keras-vis unavailable: {e}"
    try:
        import xplique.attributions as XA
    except Exception as e:  # pragma: no cover
        XA = None
        note = f"xplique unavailable: {e}"
    sigma = float(cfg["spread"] * (x.max() - x.min()))
    row = _Row(lin, soft, x, onehot, layer, cfg, score, XA, sigma)
    build = _BUILDERS.get(method)
    tkv, xpl = build(method, row) if build else (None, None)
    return tkv, xpl, note


def _cam_peers(method, r: _Row):
    """Grad-CAM, Grad-CAM++ (both libraries) and Layer-CAM (tf-keras-vis only)."""
    lin, x, onehot, layer, score, XA = r.lin, r.x, r.onehot, r.layer, r.score, r.XA
    tkv = xpl = None
    if score is not None:
        if method == "gradcam":
            from tf_keras_vis.gradcam import Gradcam as C
        elif method == "gradcam++":
            from tf_keras_vis.gradcam_plus_plus import GradcamPlusPlus as C
        else:
            from tf_keras_vis.layercam import Layercam as C
        v = C(lin, clone=False)
        tkv = lambda: v(score, x, penultimate_layer=layer)  # noqa: E731
    if method in ("gradcam", "gradcam++") and XA is not None:
        E = XA.GradCAM if method == "gradcam" else XA.GradCAMPP
        e = E(lin, batch_size=len(x), conv_layer=layer)
        xpl = lambda: e.explain(x, onehot)  # noqa: E731
    return tkv, xpl


def _smooth_cam_peers(method, r: _Row):
    """No peer implements Smooth Grad-CAM++: a user's equivalent with each library — Grad-CAM++
    on the same n noisy copies (tf-keras-vis: one call per noise draw, xplique: one explain()
    over the n·B stack), then the mean."""
    import numpy as np
    lin, x, layer, cfg, score, XA = r.lin, r.x, r.layer, r.cfg, r.score, r.XA
    tkv = xpl = None
    rng = np.random.default_rng(0)
    noisy = (x[None] + rng.standard_normal((cfg["n"],) + x.shape).astype("float32")
             * r.sigma).astype("float32")
    if score is not None and (cfg["tkv_loop"] or lin.count_params() < 10_000_000):
        from tf_keras_vis.gradcam_plus_plus import GradcamPlusPlus
        v = GradcamPlusPlus(lin, clone=False)
        tkv = lambda: np.mean([v(score, xn, penultimate_layer=layer)  # noqa: E731
                               for xn in noisy], 0)
    if XA is not None:
        e = XA.GradCAMPP(lin, batch_size=cfg["cam_bs"], conv_layer=layer)
        flat, oh = noisy.reshape((-1,) + x.shape[1:]), np.tile(r.onehot, (cfg["n"], 1))
        xpl = lambda: np.asarray(e.explain(flat, oh)).reshape(  # noqa: E731
            (cfg["n"], len(x)) + x.shape[1:3]).mean(0)
    return tkv, xpl


def _scorecam_peers(method, r: _Row):
    """Score-CAM: tf-keras-vis only (its predict() progress bars silenced)."""
    if r.score is None:
        return None, None
    score, x, layer, cfg = r.score, r.x, r.layer, r.cfg
    from tf_keras_vis.scorecam import Scorecam
    v = Scorecam(r.lin, clone=False)
    return quiet(lambda: v(score, x, penultimate_layer=layer, batch_size=cfg["mask_bs"])), None


def _gradient_peers(method, r: _Row):
    """Saliency and SmoothGrad (both libraries), Integrated Gradients (xplique only)."""
    lin, x, onehot, cfg, score, XA = r.lin, r.x, r.onehot, r.cfg, r.score, r.XA
    tkv = xpl = None
    if method == "saliency":
        if score is not None:
            from tf_keras_vis.saliency import Saliency
            v = Saliency(lin, clone=False)
            tkv = lambda: v(score, x, keepdims=True)  # noqa: E731
        if XA is not None:
            e = XA.Saliency(lin, batch_size=len(x), reducer=None) \
                if "reducer" in inspect.signature(XA.Saliency).parameters \
                else XA.Saliency(lin, batch_size=len(x))
            xpl = lambda: e.explain(x, onehot)  # noqa: E731
    if method == "smoothgrad":
        if score is not None:
            from tf_keras_vis.saliency import Saliency
            v = Saliency(lin, clone=False)
            tkv = lambda: v(score, x, smooth_samples=cfg["n"],  # noqa: E731
                            smooth_noise=cfg["spread"], keepdims=True)
        if XA is not None:
            e = XA.SmoothGrad(lin, batch_size=cfg["grad_bs"], nb_samples=cfg["n"], noise=r.sigma,
                              reducer=None)
            xpl = lambda: e.explain(x, onehot)  # noqa: E731
    if method == "integrated_gradients" and XA is not None:
        e = XA.IntegratedGradients(lin, batch_size=cfg["ig_bs"], steps=cfg["steps"],
                                   baseline_value=0.0, reducer=None)
        xpl = lambda: e.explain(x, onehot)  # noqa: E731
    return tkv, xpl


def _rise_peers(method, r: _Row):
    """RISE: xplique only. RISE weights masks by the class probability (the paper, and xai's
    default): xplique gets the softmax model."""
    if r.XA is None:
        return None, None
    x, onehot, cfg = r.x, r.onehot, r.cfg
    e = r.XA.Rise(r.soft, batch_size=cfg["mask_bs"], nb_samples=cfg["masks"], grid_size=7,
                  preservation_probability=0.5)
    return None, quiet(lambda: e.explain(x, onehot))


_BUILDERS = {
    "gradcam": _cam_peers, "gradcam++": _cam_peers, "layercam": _cam_peers,
    "smooth_gradcam++": _smooth_cam_peers, "scorecam": _scorecam_peers,
    "saliency": _gradient_peers, "smoothgrad": _gradient_peers,
    "integrated_gradients": _gradient_peers, "rise": _rise_peers,
}
