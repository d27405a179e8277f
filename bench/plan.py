"""What the bench runs: the (model, batch, methods) tables, the settings every contender gets
(noise samples, steps, masks, batch sizes), the options passed to xai per method, the number of
timed runs, and the targets xai is held to."""
from __future__ import annotations

TARGETS = {  # method -> (max xai/floor, must beat peers)
    "gradcam": (1.2, True), "gradcam++": (1.2, True), "integrated_gradients": (1.1, False),
}


#: registered methods the bench does not time, and why; every other registered method (a new
#: one too) is timed on MobileNet at batch 1
NOT_TIMED = {
    "hirescam": "the same passes as Grad-CAM, an elementwise product instead of a mean",
    "guided_backprop": "the passes of saliency through gated ReLUs; no peer times it",
    "guided_gradcam": "guided backprop and Grad-CAM together; no peer times it",
    "sise": "one masked pass per positive-gradient channel of every block (thousands a photo)",
}


def registered() -> list[str]:
    """Every registered method the bench times, in registration order."""
    import xai

    return [m for m in xai.METHODS if m not in NOT_TIMED]


def plan(quick: bool, heavy: bool):
    """The tables: (model, batch, methods). Every timed method runs on MobileNet at batch 1;
    the costlier rows take a subset (more with ``heavy``)."""
    full = registered()
    if quick:
        return [("MobileNet", 1, full)]
    cams = ["gradcam", "gradcam++", "xgradcam", "layercam", "eigencam"]
    vgg1 = cams + ["smooth_gradcam++", "saliency", "integrated_gradients"]
    vgg16 = ["gradcam", "gradcam++"]
    mob16 = [m for m in full if m not in ("rise", "scorecam")]
    if heavy:
        vgg1 += ["smoothgrad", "scorecam", "rise"]
        vgg16 += ["xgradcam", "layercam", "integrated_gradients"]
        mob16 += ["scorecam", "rise"]
    return [("MobileNet", 1, full), ("MobileNet", 16, mob16), ("VGG16", 1, vgg1),
            ("VGG16", 16, vgg16)]


def settings(quick: bool, heavy: bool) -> dict:
    """The settings every contender gets (``cfg``): n noisy samples and their spread, IG steps,
    RISE masks, batch sizes per family, and whether the slow tf-keras-vis loop runs on VGG16."""
    return dict(n=25, spread=0.15, steps=64, masks=500 if quick else 4000, cam_bs=32,
                grad_bs=32, ig_bs=64, mask_bs=64, tkv_loop=heavy)


def timed_runs(args) -> tuple[int, int]:
    """(timed runs per row, timed runs for heavy rows) from --runs / --heavy-runs / --quick."""
    runs = args.runs or (2 if args.quick else 5)
    heavy_runs = args.heavy_runs or (1 if args.quick else 3)
    return runs, heavy_runs


def method_options(method: str, cfg: dict) -> dict:
    """The options xai.explain gets for ``method`` (xai_call keeps those the method takes)."""
    opts = dict(batch_size=cfg["cam_bs"])
    if method in ("smooth_gradcam++", "smoothgrad"):
        opts = dict(n=cfg["n"], spread=cfg["spread"], seed=0,
                    batch_size=cfg["cam_bs" if method == "smooth_gradcam++" else "grad_bs"])
    elif method == "integrated_gradients":
        opts = dict(steps=cfg["steps"], rule="riemann_trapezoid", batch_size=cfg["ig_bs"])
    elif method in ("scorecam", "rise"):
        opts = dict(batch_size=cfg["mask_bs"], seed=0)
        if method == "rise":
            opts["masks"] = cfg["masks"]
    elif method == "saliency":
        opts = dict(batch_size=cfg["grad_bs"])
    return opts
