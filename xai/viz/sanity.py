"""The sanity-check figure (cascading randomisation, Adebayo et al. 2018) of
:func:`xai.metrics.sanity_curves`."""
from __future__ import annotations

import numpy as np

#: a family's colours (one per member, in order), its line style and its markers (the next
#: marker once the colours are used up); CAMs: solid, gradients: dashed, perturbation: dotted
_FAMILY_STYLES = {"CAM": ("tab10", "-", "oDPh"), "gradient": ("Dark2", "--", "sXd*"),
                  "perturbation": ("Set1", ":", "^v<>"), "other": ("tab10", "-.", "dp8H")}


def _method_family(name: str) -> str:
    """A registered method's family from what it returns (:class:`xai.explain.Method`):
    "CAM" (a map from one layer), "gradient" (a signed attribution), "perturbation" (a map from
    masked inputs, no layer or several: RISE, SISE); "other" for names not registered."""
    from ..explain import REGISTRY

    m = REGISTRY.get(name)
    if m is None:
        return "other"
    if m.returns == "attribution":
        return "gradient"
    return "CAM" if m.layer == "one" else "perturbation"


def _family_styles(methods) -> dict:
    """Per method, ``{"color", "ls", "marker"}``: one line style per family
    (:data:`_FAMILY_STYLES`), a distinct colour and marker pair within a family."""
    import matplotlib

    families = {m: _method_family(m) for m in methods}
    styles = {}
    for family, (cmap, ls, markers) in _FAMILY_STYLES.items():
        members = [m for m in methods if families[m] == family]
        colours = matplotlib.colormaps[cmap].colors
        for k, m in enumerate(members):
            styles[m] = {"color": colours[k % len(colours)], "ls": ls,
                         "marker": markers[k // len(colours) % len(markers)]}
    return styles


_FAMILY_WORDS = {"CAM": "CAMs", "gradient": "gradients", "perturbation": "perturbation",
                 "other": "other"}
_LINE_WORDS = {"-": "solid", "--": "dashed", ":": "dotted", "-.": "dash-dot"}


def _signed_methods(curves, tol: float = 1e-9) -> list:
    """The methods of ``curves`` whose signed Spearman differs from the Spearman of |map| at
    some step: their maps have both signs. For maps ≥ 0 (CAMs, RISE, SISE) the two are equal."""
    methods = list(dict.fromkeys(curves["method"]))
    wide = curves.pivot_table(index=["method", "step"], columns="metric", values="mean")
    if not {"spearman", "spearman_abs"} <= set(wide.columns):
        raise ValueError("curves need 'spearman' and 'spearman_abs' rows "
                         "(xai.metrics.sanity_curves)")
    gap = (wide["spearman"] - wide["spearman_abs"]).abs().groupby(level="method").max()
    return [m for m in methods if gap.get(m, 0.0) > tol]


def _same_as(curves, tol: float = 1e-6) -> dict:
    """Per method whose every curve equals an earlier method's (within ``tol``), that method:
    their lines lie on top of each other, so the legend says so."""
    wide = curves.pivot_table(index="method", columns=["metric", "step"], values="mean",
                              sort=False)
    same = {}
    for k, m in enumerate(wide.index):
        for earlier in wide.index[:k]:
            if earlier not in same and np.allclose(wide.loc[m], wide.loc[earlier], atol=tol):
                same[m] = earlier
                break
    return same


def _panel(ax, curves, methods, metric, styles, steps, same):
    for m in methods:
        c = curves[(curves["method"] == m) & (curves["metric"] == metric)].sort_values("step")
        label = f"{m} (= {same[m]})" if m in same else m
        ax.plot(c["step"], c["mean"], lw=1.4, ms=4, label=label, **styles[m])
    ax.set_xticks(range(len(steps)), steps, rotation=60, ha="right", fontsize=7)
    ax.set_xlabel("randomised down to layer (cumulative, top first)", fontsize=8)
    ax.axhline(0, color="grey", lw=0.5)
    ax.grid(alpha=0.3)


def sanity_figure(curves, layers, threshold: float = 0.5):
    """Cascading randomisation curves of :func:`xai.metrics.sanity_curves` (Adebayo et al.
    2018): each method's maps against the trained model's after each randomised layer.

    Left: Spearman of |map| for every method, the measure of the verdict
    (:func:`xai.metrics.sanity_verdict`: fails if above ``threshold`` once every layer is
    random); for maps ≥ 0 (CAMs, RISE, SISE) it *is* the signed Spearman. Middle (only if some
    maps are signed, :func:`_signed_methods`): the signed Spearman of those methods. Right: SSIM.
    Colours and markers per method, line style per family (solid CAMs, dashed gradients, dotted
    perturbation); a method whose curves equal an earlier one's is labelled "(= that method)".
    Returns the figure."""
    import matplotlib.pyplot as plt

    methods = list(dict.fromkeys(curves["method"]))
    signed, same = _signed_methods(curves), _same_as(curves)
    styles = _family_styles(methods)
    steps = ["none", *layers]
    panels = [("spearman_abs", methods, "Spearman rank correlation of |map|\n(every method; "
               "= signed Spearman for maps ≥ 0)")]
    if signed:
        panels.append(("spearman", signed, "Spearman rank correlation of the signed map\n"
                       "(only the methods with signed maps)"))
    panels.append(("ssim", methods, "SSIM of |map| (every method)"))
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels) + 2.6, 5.0),
                             sharey=True, squeeze=False)
    for ax, (metric, shown, title) in zip(axes[0], panels):
        _panel(ax, curves, shown, metric, styles, steps, same)
        ax.set_title(title, fontsize=9)
    axes[0, 0].axhline(threshold, color="black", lw=1.4, ls="-.", alpha=0.7,
                       label=f"fail line ({threshold:g})")
    axes[0, 0].set_ylabel("similarity to the trained model's maps")
    axes[0, 0].set_ylim(min(-0.45, float(np.nanmin(curves["mean"])) - 0.05), 1.05)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    keys = {f: f"{_LINE_WORDS[_FAMILY_STYLES[f][1]]} {_FAMILY_WORDS[f]}" for f in _FAMILY_STYLES}
    fams = dict.fromkeys(keys[_method_family(m)] for m in methods)
    axes[0, -1].legend(handles, labels, fontsize=8, loc="center left", ncol=1,
                       bbox_to_anchor=(1.02, 0.5), title=", ".join(fams),
                       title_fontsize=7)
    fig.suptitle("Sanity check (Adebayo et al. 2018): maps while the top layers are "
                 f"randomised one after the other; a method fails if its Spearman of |map| is "
                 f"still above {threshold:g} at the last step", fontsize=10)
    fig.tight_layout()
    return fig
