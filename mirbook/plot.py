"""Figure helpers shared by the book's model chapters (paper Section 5.7).

Each function draws on a matplotlib ``Axes`` (a new figure when ``ax`` is None) and returns it,
so a chapter can add titles or combine panels. Plotting code lives here only when two chapters
would otherwise both write it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["plot_history", "song_with_voice_and_lead", "plot_voicing", "plot_tagged_clip", "plot_tag_scores",
           "plot_tag_prediction", "plot_per_tag_auc", "plot_kernels", "parse_notation", "plot_notation"]


def _axes(ax, figsize):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_history(history: dict, *, ax=None, title: str | None = None):
    """Training and validation loss per epoch from ``mirbook.train.fit``'s history (Section 2.2).

    The best epoch (whose weights ``fit`` restores) is marked. Chapters: every model chapter
    under ``book/models/`` (e.g. ``conv2d_voice.ipynb``, ``brnn_voice.ipynb``).
    """
    for key in ("epoch", "train_loss", "valid_loss"):
        if key not in history:
            raise ValueError(f"history must be the dict mirbook.train.fit returns; it lacks {key!r}")
    if len(history["epoch"]) == 0:
        raise ValueError("history holds no epoch: nothing to plot")
    ax = _axes(ax, (6, 3))
    ax.plot(history["epoch"], history["train_loss"], "o-", label="training")
    if not np.all(np.isnan(history["valid_loss"])):
        ax.plot(history["epoch"], history["valid_loss"], "s-", label="validation")
    best = history.get("best_epoch", 0)
    if best:
        ax.axvline(best, color="grey", linestyle=":", label=f"best epoch ({best})")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.legend()
    if title:
        ax.set_title(title)
    return ax


def _shade(ax, intervals, *, color, label, alpha):
    for k, (start, end) in enumerate(np.asarray(intervals, dtype=float).reshape(-1, 2)):
        ax.axvspan(start, end, color=color, alpha=alpha, label=label if k == 0 else None)


def song_with_voice_and_lead(dataset) -> int:
    """Index of the first song of a split that has both a sung part and a non-vocal lead.

    The song a voice chapter shows: the voice and its hard negative, the lead, side by side.
    ``dataset``: a ``VoiceExcerpts`` split (anything with ``n_songs`` and ``songs``). Chapters:
    ``book/models/conv2d_voice.ipynb``, ``book/models/brnn_voice.ipynb`` (Section 5.7.1).
    """
    for index in range(dataset.n_songs):
        song = dataset.songs[index]
        if song.has_vocals and song.lead is not None and len(song.lead):
            return index
    raise ValueError(f"none of the {dataset.n_songs} songs has both a sung part and a non-vocal lead")


def plot_voicing(features, times, *, reference=None, lead=None, probabilities=None, threshold: float | None = None,
                 ax=None, title: str | None = None):
    """A representation ``(bins, frames)`` with voiced intervals and a detector's output over it.

    ``reference``: the voiced intervals ``(n, 2)`` in seconds (shaded green); ``lead``: the
    intervals of a non-vocal lead (the hard negatives, shaded red); ``probabilities``: one
    voicing probability per frame, drawn as a white curve on a 0-1 scale over the image with
    ``threshold`` dashed. Chapters: ``book/models/conv2d_voice.ipynb``, ``book/models/brnn_voice.ipynb``
    (Section 5.7.1, singing-voice detection).
    """
    features = np.asarray(getattr(features, "numpy", lambda: features)(), dtype=float)
    times = np.asarray(times, dtype=float)
    if features.ndim != 2 or features.shape[1] != len(times):
        raise ValueError(f"features must be (bins, frames) with one frame per time; got shape {features.shape} "
                         f"and {len(times)} times")
    ax = _axes(ax, (10, 3))
    step = times[1] - times[0] if len(times) > 1 else 1.0
    extent = (times[0] - step / 2, times[-1] + step / 2, -0.5, features.shape[0] - 0.5)
    ax.imshow(features, origin="lower", aspect="auto", extent=extent, cmap="magma")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("bin")
    overlay = ax.twinx()
    overlay.set_ylim(0, 1.02)
    overlay.set_ylabel("voicing probability")
    if reference is not None:
        _shade(overlay, reference, color="tab:green", label="voice (reference)", alpha=0.25)
    if lead is not None:
        _shade(overlay, lead, color="tab:red", label="non-vocal lead", alpha=0.18)
    if probabilities is not None:
        p = np.asarray(getattr(probabilities, "numpy", lambda: probabilities)(), dtype=float)
        if p.shape != times.shape:
            raise ValueError(f"probabilities must have one value per frame ({len(times)}); got shape {p.shape}")
        overlay.plot(times, p, color="white", linewidth=1.2, label="detector output")
        if threshold is not None:
            overlay.axhline(threshold, color="white", linestyle="--", linewidth=0.8, label=f"threshold {threshold:.2f}")
    handles, labels = overlay.get_legend_handles_labels()
    if handles:
        overlay.legend(handles, labels, loc="upper right", fontsize="small", framealpha=0.8)
    overlay.set_xlim(extent[0], extent[1])
    if title:
        ax.set_title(title)
    return ax


def plot_tagged_clip(features, times, *, key: str | None = None, tags=(), ax=None, title: str | None = None,
                     ylabel: str = "CQT bin (semitones above C1)", colorbar: bool = True):
    """A clip's representation ``(bins, frames)`` as an image, titled with its key and tags.

    ``times``: the centre of each frame in seconds; the image spans ``times[0]`` to ``times[-1]``
    and bins ``0`` to ``bins``. The default title is ``"<key>; tags: <tag>, <tag>"``. Chapters:
    ``book/models/conv1d_tagger.ipynb``, ``conv2d_tagger.ipynb``, ``crnn_tagger.ipynb`` (Section 5.7.2).
    """
    features = np.asarray(getattr(features, "numpy", lambda: features)(), dtype=float)
    times = np.asarray(times, dtype=float)
    if features.ndim != 2 or features.shape[1] != len(times) or len(times) == 0:
        raise ValueError(f"features must be (bins, frames) with one frame per time; got shape {features.shape} "
                         f"and {len(times)} times")
    ax = _axes(ax, (10, 3.2))
    image = ax.imshow(features, origin="lower", aspect="auto", cmap="magma",
                      extent=(times[0], times[-1], 0, features.shape[0]))
    ax.set(xlabel="time (s)", ylabel=ylabel)
    ax.set_title(title if title is not None else f"{key}; tags: {', '.join(tags)}")
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label="log magnitude")
    return ax


def plot_tag_scores(scores: dict, *, reference=(), ax=None, title: str | None = None):
    """A tagger's probability per tag as bars, the reference tags of the clip highlighted.

    ``scores``: ``{tag: probability}`` as ``mirbook.predict.predict_tags`` returns;
    ``reference``: the clip's true tags (drawn in a strong colour, the others pale), so a
    reader sees at a glance which true tags rank high. Chapters: ``book/models/conv1d_tagger.ipynb``,
    ``conv2d_tagger.ipynb``, ``crnn_tagger.ipynb`` (Section 5.7.2).
    """
    if not isinstance(scores, dict) or not scores:
        raise ValueError(f"scores must be a non-empty dict {{tag: probability}}; got {type(scores).__name__}")
    reference = set(reference)
    unknown = reference - set(scores)
    if unknown:
        raise ValueError(f"reference tags {sorted(unknown)} are not among the scored tags {list(scores)}")
    ax = _axes(ax, (10, 3))
    names = list(scores)
    colours = ["tab:blue" if name in reference else "lightgrey" for name in names]
    ax.bar(range(len(names)), [float(scores[n]) for n in names], color=colours)
    ax.axhline(0.5, color="black", linestyle=":", linewidth=0.8)
    ax.set_xticks(range(len(names)), names, rotation=60, ha="right")
    ax.set_ylim(0, 1)
    ax.set_ylabel("probability")
    ax.set_title(title or "predicted tags (blue: in the reference, grey: not)")
    return ax


def plot_tag_prediction(features, times, scores: dict, *, reference=(), title: str | None = None):
    """A song's representation above a tagger's score per tag: what the model heard, what it said.

    The top panel is :func:`plot_tagged_clip` (titled ``title``), the bottom one
    :func:`plot_tag_scores` with the ``reference`` tags highlighted. Returns the figure. Chapters:
    ``book/models/conv1d_tagger.ipynb``, ``conv2d_tagger.ipynb``, ``crnn_tagger.ipynb`` (Section 5.7.2).
    """
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6), gridspec_kw={"height_ratios": [1, 1.2]})
    plot_tagged_clip(features, times, ax=top, title=title or "", ylabel="CQT bin", colorbar=False)
    plot_tag_scores(scores, reference=reference, ax=bottom)
    fig.tight_layout()
    return fig


def plot_per_tag_auc(per_tag: dict, *, ax=None, title: str = "ROC-AUC per tag on the test songs"):
    """One bar per tag, sorted from the hardest tag to the easiest, with chance (0.5) dotted.

    ``per_tag``: ``{tag: ROC-AUC}``, as ``mirbook.evaluate.evaluate_tags`` returns under
    ``"per_tag_roc_auc"``. A macro average hides which tags are easy; this shows it. Chapters:
    ``book/models/conv1d_tagger.ipynb``, ``conv2d_tagger.ipynb``, ``crnn_tagger.ipynb`` (Section 5.7.2).
    """
    if not isinstance(per_tag, dict) or not per_tag:
        raise ValueError(f"per_tag must be a non-empty dict {{tag: ROC-AUC}}; got {type(per_tag).__name__}")
    order = sorted(per_tag, key=per_tag.get)
    ax = _axes(ax, (10, 3))
    ax.bar(range(len(order)), [float(per_tag[t]) for t in order], color="tab:blue")
    ax.axhline(0.5, color="black", linestyle=":", linewidth=0.8, label="chance")
    ax.set_xticks(range(len(order)), order, rotation=60, ha="right")
    ax.set(ylim=(0.4, 1.0), ylabel="ROC-AUC", title=title)
    ax.legend()
    return ax


def plot_kernels(weights, *, columns: int = 8, xlabel: str = "frame", ylabel: str = "bin", titles=None,
                 figsize_per_kernel: tuple[float, float] = (1.2, 1.2)):
    """A grid of first-layer convolution kernels, one image per kernel (paper Figures 9 and 10).

    ``weights``: ``(kernels, height, width)`` (e.g. a Conv1d's ``(filters, bins, frames)`` or a
    Conv2d's ``(filters, 1, 3, 3)`` squeezed), torch or numpy. Each kernel gets its own
    symmetric colour scale (red positive, blue negative), so its *shape* is what shows.
    Returns the figure. Chapters: ``book/models/conv1d_tagger.ipynb``, ``conv2d_tagger.ipynb``.
    """
    import matplotlib.pyplot as plt

    if hasattr(weights, "detach"):  # a torch tensor
        weights = weights.detach().cpu().numpy()
    w = np.asarray(weights, dtype=float)
    if w.ndim != 3 or w.shape[0] == 0:
        raise ValueError(f"weights must have shape (kernels, height, width); got {w.shape}")
    if isinstance(columns, bool) or not isinstance(columns, int) or columns < 1:
        raise ValueError(f"columns must be a positive int; got {columns!r}")
    if titles is not None and len(titles) != len(w):
        raise ValueError(f"{len(w)} kernels but {len(titles)} titles")
    rows = -(-len(w) // columns)
    cols = min(columns, len(w))
    fig, axes = plt.subplots(rows, cols, figsize=(figsize_per_kernel[0] * cols, figsize_per_kernel[1] * rows),
                             squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k >= len(w):
            ax.axis("off")
            continue
        limit = np.abs(w[k]).max() or 1.0
        ax.imshow(w[k], origin="lower", aspect="auto", cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_xticks([])
        ax.set_yticks([])
        if titles is not None:
            ax.set_title(str(titles[k]), fontsize="small")
    axes[-1, 0].set_xlabel(xlabel)
    axes[-1, 0].set_ylabel(ylabel)
    fig.tight_layout()
    return fig


#: Families of the Figure 8 layer symbols: (name in legends, face colour, box width).
_LAYER_FAMILIES = {
    "d": ("dense (d1, d2)", "#9ecae1", 1.0),
    "c": ("convolution (c1, c2)", "#fdae6b", 1.0),
    "p": ("pooling (p1, p2)", "#d9d9d9", 0.7),
    "r": ("recurrent (r1, r2)", "#a1d99b", 1.0),
}


def _layer_symbols() -> tuple[str, ...]:
    """The Figure 8 symbols of the layer blocks of ``mirbook.layers`` (d1 ... r2), from their classes."""
    from mirbook import layers

    return tuple(getattr(layers, name).symbol for name in ("D1", "D2", "C1", "C2", "P1", "P2", "R1", "R2"))


def parse_notation(notation: str) -> list[str]:
    """Split a layer string such as ``"c2-p2-c2-p2-r1-r2-d1"`` into its Figure 8 symbols.

    The notation of the paper's Section 5.7 (Figure 13), as ``mirbook.models`` prints it in
    ``notation`` / ``layer_notation``. Raises ValueError for an empty string or an unknown
    symbol. Used by :func:`plot_notation` (chapter: ``book/practical_advice.ipynb``).
    """
    if not isinstance(notation, str) or not notation.strip():
        raise ValueError(f"notation must be a non-empty string like 'c2-p2-d1'; got {notation!r}")
    symbols = [s.strip() for s in notation.strip().split("-")]
    known = _layer_symbols()
    unknown = [s for s in symbols if s not in known]
    if unknown:
        raise ValueError(f"notation {notation!r} holds {unknown}; each layer must be one of {known}")
    return symbols


def plot_notation(notation: str, *, ax=None, title: str | None = None, input_label: str | None = None,
                  output_label: str | None = None, legend: bool = True):
    """Draw a model's layer string as a row of boxes from input to output, like Figure 13.

    ``notation``: e.g. ``"c2-p2-c2-p2-r1-r2-d1"`` (``MODELS[name].notation``); one box per
    symbol, coloured by family (dense, convolution, pooling, recurrent; pooling boxes are
    narrower since they have no weights), joined by arrows. ``input_label`` / ``output_label``
    add a white box before and after the layers (e.g. "log CQT" and "sigmoid x 12"). Returns
    the Axes, whose ``patches`` are the boxes in order (the arrows are label-less annotations).
    Chapter: ``book/practical_advice.ipynb`` (paper Sections 5.4-5.7, Figures 8 and 13).
    """
    from matplotlib.patches import FancyBboxPatch, Patch

    symbols = parse_notation(notation)
    boxes = ([(input_label, None)] if input_label else []) + [(s, s[0]) for s in symbols] \
        + ([(output_label, None)] if output_label else [])
    gap, height = 0.45, 0.8
    # label boxes are sized for about 0.15 units per character at the default 8-point font
    widths = [max(1.3, 0.15 * len(label) + 0.3) if family is None else _LAYER_FAMILIES[family][2]
              for label, family in boxes]
    ax = _axes(ax, (max(4.0, 0.5 + sum(widths) + gap * len(widths)), 1.3))
    x = 0.0
    for k, ((label, family), width) in enumerate(zip(boxes, widths)):
        face = "white" if family is None else _LAYER_FAMILIES[family][1]
        ax.add_patch(FancyBboxPatch((x, -height / 2), width, height, boxstyle="round,pad=0.02,rounding_size=0.12",
                                    facecolor=face, edgecolor="black", linewidth=0.8))
        ax.text(x + width / 2, 0, label, ha="center", va="center", fontsize=8 if family is None else 11,
                fontweight="normal" if family is None else "bold")
        if k < len(boxes) - 1:
            ax.annotate("", xy=(x + width + gap - 0.03, 0), xytext=(x + width + 0.03, 0),
                        arrowprops={"arrowstyle": "->", "linewidth": 0.8})
        x += width + gap
    ax.set_xlim(-0.1, x - gap + 0.1)
    ax.set_ylim(-0.75, 0.75)
    ax.set_aspect("equal")
    ax.axis("off")
    if legend:
        used = dict.fromkeys(family for _, family in boxes if family is not None)
        handles = [Patch(facecolor=_LAYER_FAMILIES[f][1], edgecolor="black", label=_LAYER_FAMILIES[f][0]) for f in used]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small", frameon=False)
    if title:
        ax.set_title(title, loc="left", fontsize="medium")
    return ax
