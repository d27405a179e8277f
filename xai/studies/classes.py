"""How a classifier does per class, shared by the HMT (04) and chest X-ray (05) studies: the
per-class table with its confusion matrix (:func:`class_accuracy`), both written as CSV and
Markdown (:func:`write_accuracy`), and the confusion matrix as a figure
(:func:`confusion_figure`)."""
from __future__ import annotations

import numpy as np


def class_accuracy(y, pred, classes, unit: str = "images", measure: str = "recall",
                   overall: str = "all"):
    """The share of correct predictions per true class (column ``measure``, with the count of
    samples in column ``unit`` and of correct ones in ``correct``), the overall accuracy as last
    row (named ``overall``), and the confusion matrix (rows: true class, columns: predicted
    class, every class of ``classes`` shown): ``(table, confusion)``."""
    import pandas as pd

    y, pred = np.asarray(y), np.asarray(pred)
    names = [classes[c] for c in y]
    table = (pd.DataFrame({"class": names, "correct": pred == y})
             .groupby("class", sort=False)
             .agg(**{unit: ("correct", "size"), "correct": ("correct", "sum"),
                     measure: ("correct", "mean")}).reset_index())
    table.loc[len(table)] = [overall, len(y), int((pred == y).sum()), float((pred == y).mean())]
    confusion = pd.crosstab(pd.Categorical(names, list(classes)),
                            pd.Categorical([classes[c] for c in pred], list(classes)),
                            rownames=["true"], colnames=["predicted"], dropna=False)
    return table, confusion


def write_accuracy(table, confusion, out, stem: str, title: str) -> None:
    """:func:`class_accuracy`'s tables as ``<stem>.csv``, ``confusion.csv`` and ``<stem>.md``
    (headed ``# <title>``) in the folder ``out``."""
    table.to_csv(out / f"{stem}.csv", index=False)
    confusion.to_csv(out / "confusion.csv")
    (out / f"{stem}.md").write_text(
        f"# {title}\n\n" + table.to_markdown(index=False, floatfmt=".3f")
        + "\n\n## Confusion (rows: true, columns: predicted)\n\n" + confusion.to_markdown() + "\n")


def confusion_figure(confusion, title: str, unit: str = "images", path=None,
                     figsize=(6.4, 5.6)):
    """The confusion matrix as a heat map with its counts, titled ``<title> — accuracy <acc>
    (<n> <unit>)``; saved to ``path`` when given. Returns the figure."""
    import matplotlib.pyplot as plt

    from .. import viz

    counts, classes = confusion.to_numpy(), list(confusion.columns)
    fig, ax = plt.subplots(figsize=figsize)
    im = ax.imshow(counts, cmap="Blues")
    for (r, c), v in np.ndenumerate(counts):
        ax.text(c, r, str(v), ha="center", va="center",
                color="white" if v > counts.max() / 2 else "black")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set(xlabel="predicted class", ylabel="true class",
           title=f"{title} — accuracy {np.trace(counts) / counts.sum():.2f} "
                 f"({counts.sum()} {unit})")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03, label=unit)
    fig.tight_layout()
    if path is not None:
        viz.save(fig, path)
    return fig
