"""Interactive exploration in Jupyter and Colab (ipywidgets): pick a method and a class, see
the map. Kept out of :mod:`xai.viz`, which only draws, because every change computes a map."""
from __future__ import annotations

import numpy as np


def map_explorer(model, x, image, layer=None, target=None, methods=None):
    """A widget with a method drop-down and a class box (ImageNet name or index) that shows
    ``xai.explain(model, x, method, target=class, layer=layer)`` over ``image``.

    Parameters
    ----------
    model : keras.Model
    x : array (1, H, W, C), the photo in model space
    image : uint8 (H, W, 3), the same photo for display
    layer : str, optional, the CAM layer
    target : int or str, optional, the first class shown (default: the top-1)
    methods : list of str, optional (default: every map method of :data:`xai.MAP_METHODS`;
        attribution methods are shown as :func:`xai.viz.display_map` shows them)

    Returns
    -------
    ipywidgets.VBox: display it (the last expression of a cell, or ``display(...)``).
    """
    try:
        import ipywidgets
    except ImportError as err:
        raise ImportError("map_explorer needs ipywidgets: pip install ipywidgets") from err
    import matplotlib.pyplot as plt

    from . import MAP_METHODS, METHODS, explain
    from .viz import overlay

    x = np.asarray(x)
    if x.ndim != 4 or len(x) != 1:
        raise ValueError(f"map_explorer explains one image: x must be (1, H, W, C), got {x.shape}")
    method = ipywidgets.Dropdown(options=list(methods or MAP_METHODS), description="method")
    cls = ipywidgets.Text(value="" if target is None else str(target), description="class",
                          placeholder="top-1, or a name / index", continuous_update=False)
    out = ipywidgets.Output()

    def show(_=None):
        out.clear_output(wait=True)
        t = cls.value.strip()
        t = None if not t else int(t) if t.isdigit() else t
        with out:
            try:
                spec = METHODS[method.value]
                m = explain(model, x, method=method.value, target=t, progress=False,
                            **({"layer": layer} if spec.layer == "one" else {}))
            except ValueError as err:  # an unknown class name: say so in the widget
                print(err)
                return
            fig, ax = plt.subplots(figsize=(4, 4))
            ax.imshow(overlay(image, spec.display_map(m)[0]))
            ax.set_title(f"{method.value}, class {t if t is not None else 'top-1'}")
            ax.axis("off")
            plt.show()

    method.observe(show, names="value")
    cls.observe(show, names="value")
    show()
    return ipywidgets.VBox([ipywidgets.HBox([method, cls]), out])
