"""The MNIST-1D study (notebook 03): the project's and the original study's 1-D CNNs
(:func:`model_files`, :func:`load_models`), their accuracy, Grad-CAM at each conv layer
(:func:`gradcam_layer_figures`), every method and the two baseline maps on the evaluation
signals (:func:`explain_models`), the notebook's figures (one model each), the faithfulness
evaluation and the original study's headline number (:func:`headline`, :func:`headline_text`)."""
from __future__ import annotations

import numpy as np

#: Average Drop / Increase (percent) the original study reports for Grad-CAM at conv1d_2, keep 30 %
REPORTED = {"drop_percent": 41.1, "increase_percent": 30.1}


def model_files(study, model_path, seed_model_path) -> dict:
    """The two models' files: ``project`` (``model_path``, relative to notebooks/) and
    ``original`` (``seed_model_path``, or the original study's ``MNIST1D.h5`` in the assets)."""
    return {"project": (study.notebooks / model_path).resolve(),
            "original": study.path(seed_model_path, "seed_models/MNIST1D.h5")}


def load_models(files: dict) -> dict:
    """Each model of ``files`` that exists, loaded without compiling (a missing one is skipped
    with a note). Keras 3's warning about the old ``.h5`` models' ``input_shape`` is silenced."""
    import warnings

    import keras

    warnings.filterwarnings("ignore", message="Do not pass an `input_shape`")
    models = {}
    for name, path in files.items():
        if path.is_file():
            models[name] = keras.models.load_model(path, compile=False)
        else:
            print(f"NOTE: the {name} model is not at {path}; it is skipped in this run.")
    return models


def accuracy_table(models: dict, files: dict, x_test, y_test, out):
    """Each model's top-1 test accuracy, written to ``out``/accuracy.csv and accuracy.md."""
    import pandas as pd

    from .. import train

    accuracy = pd.DataFrame([{"model": name, "file": files[name].name,
                              "test_accuracy": train.evaluate_accuracy(model, x_test, y_test),
                              "test_signals": len(x_test)}
                             for name, model in models.items()])
    accuracy.to_csv(out / "accuracy.csv", index=False)
    (out / "accuracy.md").write_text("# MNIST-1D test accuracy\n\n"
                                     + accuracy.to_markdown(index=False, floatfmt=".3f") + "\n")
    return accuracy


def dataset_figure(x_test, y_test):
    """Three test signals of each of the ten classes, one panel per class."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 5, figsize=(14, 4.6), sharex=True, sharey=True)
    for c, ax in enumerate(axes.ravel()):
        for i in np.flatnonzero(y_test == c)[:3]:
            ax.plot(x_test[i, :, 0], lw=1.4)
        ax.set_title(f"class {c}")
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("sample")
    for ax in axes[:, 0]:
        ax.set_ylabel("value")
    fig.suptitle("MNIST-1D: three test signals per class")
    fig.tight_layout()
    return fig


def gradcam_layer_figure(name, layer_cams, x_eval, y_eval, examples, predicted):
    """One model's Grad-CAM at each conv layer (columns, ``layer_cams[layer]`` one map per
    example) on the ``examples`` signals (rows); ``predicted`` is that model's top-1 class."""
    import matplotlib.pyplot as plt

    from .. import viz

    fig, axes = plt.subplots(len(examples), len(layer_cams),
                             figsize=(4.2 * len(layer_cams), 2.4 * len(examples)), squeeze=False)
    for r, i in enumerate(examples):
        for c, layer in enumerate(layer_cams):
            viz.signal_strip(axes[r, c], x_eval[i, :, 0], layer_cams[layer][r],
                             title=f"{layer} — class {y_eval[i]}, predicted {predicted[i]}")
    for ax in axes[-1]:
        ax.set_xlabel("sample")
    fig.suptitle(f"Grad-CAM at each conv layer — {name} model")
    fig.tight_layout()
    return fig


def gradcam_layer_figures(models, x_eval, y_eval, examples, predicted, conv_layers, score,
                          progress) -> dict:
    """Per model, Grad-CAM of ``score`` of the predicted class at each of ``conv_layers`` on the
    ``examples`` signals, drawn by :func:`gradcam_layer_figure`."""
    from .. import explain

    figures = {}
    for name, model in models.items():
        layer_cams = {layer: explain(model, x_eval[examples], method="gradcam", layer=layer,
                                     score=score, progress=progress)
                      for layer in conv_layers}
        figures[name] = gradcam_layer_figure(name, layer_cams, x_eval, y_eval, examples,
                                             predicted[name])
    return figures


def baseline_maps(shape, seed) -> dict:
    """The two maps with no information: ``random`` (seeded uniform values) and ``constant``
    (ones), float32 of ``shape`` (signals, samples)."""
    return {"random": np.random.default_rng(seed).random(shape).astype(np.float32),
            "constant": np.ones(shape, np.float32)}


def explain_models(models, x_eval, methods, options, score, progress, seed) -> tuple[dict, dict]:
    """Every method on ``x_eval`` for each model (:func:`xai.studies.explain_maps`):
    ``(attributions, maps)`` by model then method, with the :func:`baseline_maps` added to each
    model's maps; prints each model's map shapes."""
    from .notebook import explain_maps

    attributions, maps = {}, {}
    for name, model in models.items():
        attributions[name], maps[name] = explain_maps(model, x_eval, methods, options,
                                                      score=score, progress=progress)
        maps[name].update(baseline_maps(x_eval.shape[:2], seed))
        print(name, {m: v.shape for m, v in maps[name].items()})
    return attributions, maps


def example_figure(name, attributions, x_eval, y_eval, examples, predicted):
    """One model's methods (columns, ``attributions[m]`` as :func:`xai.explain` returned them)
    on the ``examples`` signals (rows): maps on [0, 1], attributions signed, a grey halo under
    the line; ``predicted`` is that model's top-1 class."""
    import matplotlib.pyplot as plt

    from .. import MAP_METHODS, viz

    fig, axes = plt.subplots(len(examples), len(attributions),
                             figsize=(3.6 * len(attributions), 2.4 * len(examples)), squeeze=False)
    for r, i in enumerate(examples):
        for c, m in enumerate(attributions):
            shown = attributions[m][i]
            axes[r, c].plot(x_eval[i, :, 0], color="0.8", lw=4.5, zorder=0)  # keeps white visible
            viz.signal_strip(axes[r, c], x_eval[i, :, 0], shown,
                             title=(f"{m}{' (signed)' if m not in MAP_METHODS else ''}"
                                    f" — class {y_eval[i]}, pred. {predicted[i]}"))
    for ax in axes[-1]:
        ax.set_xlabel("sample")
    fig.suptitle(f"Explanations of the predicted class — {name} model, {len(examples)} of the 10 "
                 f"classes ({', '.join(str(y_eval[i]) for i in examples)}), one signal each")
    fig.tight_layout()
    return fig


def class_averages(maps, y, classes) -> np.ndarray:
    """The mean of each class's maps (rows: ``classes``), each map first divided by its own
    maximum so that every signal counts the same."""
    unit = maps / np.maximum(maps.max(axis=1, keepdims=True), 1e-12)
    return np.stack([unit[y == c].mean(axis=0) for c in classes])


def class_average_figure(name, maps, y_eval, methods):
    """One model's :func:`class_averages` of each of ``methods`` (panels, ``maps[m]``) as an
    image (rows: true classes, columns: samples), colours from 0 to the largest class average."""
    import matplotlib.pyplot as plt

    from .. import MAP_METHODS

    classes = np.unique(y_eval)
    fig, axes = plt.subplots(1, len(methods), figsize=(3.3 * len(methods), 3.6), squeeze=False)
    for ax, m in zip(axes[0], methods):
        means = class_averages(maps[m], y_eval, classes)
        im = ax.imshow(means, aspect="auto", cmap="jet", vmin=0, vmax=means.max(),
                       interpolation="nearest")
        ax.set_yticks(range(len(classes)), [str(c) for c in classes])
        ax.set_title(m if m in MAP_METHODS else f"|{m}|", fontsize=10)
        ax.set_xlabel("sample")
        bar = fig.colorbar(im, ax=ax, fraction=0.05, pad=0.03)
        bar.set_label("class-average map value", fontsize=7)
        bar.ax.tick_params(labelsize=7)
    axes[0, 0].set_ylabel("true class")
    fig.tight_layout()
    fig.suptitle(f"Class-average maps over {len(y_eval)} test signals — {name} model", y=1.03)
    return fig


def faithfulness(models, x_eval, maps, keeps, removed_value):
    """The faithfulness metrics (:func:`xai.metrics.faithfulness`, the predicted class's
    probability, removed samples set to ``removed_value``) of every model's maps, combined."""
    from .. import metrics

    return metrics.combine_faithfulness({
        name: metrics.faithfulness(model, x_eval, maps[name], keeps, score="probability",
                                   baseline=removed_value)
        for name, model in models.items()})


def headline(models, files, x_eval, removed_value, progress):
    """The original study's number for each model: Grad-CAM at ``conv1d_2`` on the predicted
    class's probability, Average Drop / Increase with the top 30 % kept (``mode="mask"``) and
    with the signal multiplied by the map (``mode="multiply"``)."""
    import pandas as pd

    from .. import explain, metrics

    rows = []
    for name, model in models.items():
        cam = explain(model, x_eval, method="gradcam", layer="conv1d_2", score="probability",
                      progress=progress)
        r = metrics.drop_increase(model, x_eval, cam, keep=0.3, score="probability",
                                  baseline=removed_value)
        r_multiply = metrics.drop_increase(model, x_eval, cam, mode="multiply",
                                           score="probability", baseline=removed_value)
        rows.append({"model": name, "file": files[name].name, "method": "gradcam",
                     "layer": "conv1d_2", "score": "probability", "keep": 0.3,
                     "drop": r["drop"], "increase": r["increase"],
                     "drop_percent": 100 * r["drop"], "increase_percent": 100 * r["increase"],
                     "drop_multiply_percent": 100 * r_multiply["drop"],
                     "increase_multiply_percent": 100 * r_multiply["increase"],
                     "n_signals": len(x_eval)})
    if "original" not in models:
        print("NOTE: the original study's model was not found, so the headline row for it is "
              "missing.")
    return pd.DataFrame(rows)


def closest_mode(row, reported=REPORTED) -> dict:
    """Per definition of the explained input (``mask``, ``multiply``), the sum of the absolute
    differences between a :func:`headline` row's drop and increase (percent) and ``reported``."""
    return {mode: abs(row[f"drop{suffix}_percent"] - reported["drop_percent"])
            + abs(row[f"increase{suffix}_percent"] - reported["increase_percent"])
            for mode, suffix in (("mask", ""), ("multiply", "_multiply"))}


def headline_text(table, reported=REPORTED) -> str:
    """The :func:`headline` ``table``'s rows beside the ``reported`` numbers, and, when the
    original model is among them, which definition lands closer (:func:`closest_mode`)."""
    lines = [f"original study (its evaluation code is not published): Average Drop "
             f"{reported['drop_percent']:.1f} %, Increase {reported['increase_percent']:.1f} %"]
    for _, h in table.iterrows():
        lines.append(f"{h['model']:>8} model, Grad-CAM conv1d_2, {h['n_signals']} test signals:\n"
                     f"    top-30 % mask (mode='mask'):   Average Drop {h['drop_percent']:.1f} %, "
                     f"Increase {h['increase_percent']:.1f} %\n"
                     f"    signal × map (mode='multiply'): Average Drop "
                     f"{h['drop_multiply_percent']:.1f} %, "
                     f"Increase {h['increase_multiply_percent']:.1f} %")
    if "original" in set(table["model"]):
        distance = closest_mode(table.set_index("model").loc["original"], reported)
        lines.append(f"closest to the study's numbers: mode='{min(distance, key=distance.get)}' "
                     "(sum of the absolute differences in drop and increase: "
                     + ", ".join(f"{mode} {d:.1f} points" for mode, d in distance.items()) + ")")
    return "\n".join(lines)


def embedding_figures(models, x_eval, y_eval, predicted, layer, out, progress=True):
    """Each model's test signals at ``layer``, one value per channel (mean over the 40
    positions), on their first two principal components, coloured by digit and by correctness
    (:func:`xai.studies.embeddings.layer_embeddings`): ``<out>/<model>_embedding_<layer>.png``.
    Returns the cluster tables of all models (all digits together), ``model`` column first."""
    import pandas as pd

    from .embeddings import layer_embeddings

    tables = [layer_embeddings(model, x_eval, y_eval, predicted[name], [layer],
                               [str(c) for c in range(10)], out, f"{name}_embedding",
                               progress=progress, by_class=False,
                               label=f"MNIST-1D, {name} model, ")[0].assign(model=name)
              for name, model in models.items()]
    table = pd.concat(tables, ignore_index=True)
    return table[["model", *table.columns[:-1]]]
