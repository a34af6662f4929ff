"""The shared figure helpers draw what they are given (Agg backend, no display)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mirbook.plot import (  # noqa: E402
    plot_history,
    plot_kernels,
    plot_per_tag_auc,
    plot_tag_prediction,
    plot_tag_scores,
    plot_tagged_clip,
    plot_voicing,
    song_with_voice_and_lead,
)


def test_plot_history_draws_both_curves_and_marks_the_best_epoch():
    history = {"epoch": [1, 2, 3], "train_loss": [0.7, 0.5, 0.4], "valid_loss": [0.6, 0.45, 0.5], "best_epoch": 2}
    ax = plot_history(history)
    assert len(ax.lines) == 3  # training, validation, best-epoch marker
    assert list(ax.lines[1].get_ydata()) == [0.6, 0.45, 0.5]
    plt.close("all")


def test_plot_history_rejects_what_fit_does_not_return():
    with pytest.raises(ValueError, match="valid_loss"):
        plot_history({"epoch": [1], "train_loss": [0.5]})


def test_song_with_voice_and_lead_finds_the_first_song_with_both():
    from types import SimpleNamespace as Song

    songs = [Song(has_vocals=True, lead=None), Song(has_vocals=False, lead=[[1.0, 2.0]]),
             Song(has_vocals=True, lead=np.zeros((0, 2))), Song(has_vocals=True, lead=[[1.0, 2.0]]),
             Song(has_vocals=True, lead=[[3.0, 4.0]])]
    assert song_with_voice_and_lead(Song(n_songs=5, songs=songs)) == 3
    with pytest.raises(ValueError, match="none of the 3 songs"):
        song_with_voice_and_lead(Song(n_songs=3, songs=songs[:3]))


def test_plot_voicing_overlays_reference_lead_and_probabilities():
    times = np.arange(100) * 0.05
    ax = plot_voicing(np.random.default_rng(0).random((40, 100)), times, reference=[[1.0, 2.0], [3.0, 4.0]],
                      lead=[[2.0, 3.0]], probabilities=np.linspace(0, 1, 100), threshold=0.5)
    overlay = [a for a in ax.figure.axes if a is not ax][0]
    assert len(overlay.patches) == 3  # two voiced spans, one lead span
    assert np.allclose(overlay.lines[0].get_ydata(), np.linspace(0, 1, 100))
    plt.close("all")


def test_plot_voicing_checks_shapes():
    with pytest.raises(ValueError, match="one frame per time"):
        plot_voicing(np.zeros((40, 10)), np.arange(9))
    with pytest.raises(ValueError, match="one value per frame"):
        plot_voicing(np.zeros((40, 10)), np.arange(10), probabilities=np.zeros(9))


def test_plot_tag_scores_highlights_the_reference_tags():
    ax = plot_tag_scores({"rock": 0.9, "piano": 0.2, "vocal": 0.7}, reference=["rock", "vocal"])
    heights = [p.get_height() for p in ax.patches]
    assert heights == [0.9, 0.2, 0.7]
    assert ax.patches[0].get_facecolor() == ax.patches[2].get_facecolor() != ax.patches[1].get_facecolor()
    plt.close("all")


def test_plot_tag_scores_rejects_unknown_reference_tags():
    with pytest.raises(ValueError, match="jazz"):
        plot_tag_scores({"rock": 0.9}, reference=["jazz"])
    with pytest.raises(ValueError, match="non-empty dict"):
        plot_tag_scores({})


def test_plot_tagged_clip_draws_the_features_over_their_times_and_names_key_and_tags():
    features = np.random.default_rng(0).random((84, 50))
    ax = plot_tagged_clip(features, np.linspace(0.5, 5.0, 50), key="A minor", tags=["rock", "piano"])
    image = ax.images[0]
    assert np.array_equal(image.get_array(), features)
    assert image.get_extent() == [0.5, 5.0, 0, 84]
    assert ax.get_title() == "A minor; tags: rock, piano"
    assert len(ax.figure.axes) == 2  # the image and its colour bar
    plt.close("all")


def test_plot_tagged_clip_checks_shapes():
    with pytest.raises(ValueError, match="one frame per time"):
        plot_tagged_clip(np.zeros((84, 10)), np.arange(9))


def test_plot_tag_prediction_draws_the_clip_above_the_scores():
    features = np.random.default_rng(1).random((84, 20))
    fig = plot_tag_prediction(features, np.arange(20) * 0.05, {"rock": 0.9, "jazz": 0.2}, reference=["rock"],
                              title="test song")
    top, bottom = fig.axes
    assert np.array_equal(top.images[0].get_array(), features) and top.get_title() == "test song"
    assert [p.get_height() for p in bottom.patches] == [0.9, 0.2]
    plt.close("all")


def test_plot_per_tag_auc_sorts_the_bars_from_hardest_to_easiest():
    per_tag = {"rock": 0.95, "major": 0.55, "drums": 0.99, "flute": 0.7}
    ax = plot_per_tag_auc(per_tag)
    assert [p.get_height() for p in ax.patches] == [0.55, 0.7, 0.95, 0.99]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["major", "flute", "rock", "drums"]
    assert list(ax.lines[0].get_ydata()) == [0.5, 0.5]  # chance
    plt.close("all")
    with pytest.raises(ValueError, match="non-empty dict"):
        plot_per_tag_auc({})


def test_plot_kernels_draws_one_image_per_kernel_with_a_symmetric_scale():
    import torch

    fig = plot_kernels(torch.randn(5, 3, 3), columns=4)
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 5 and len(fig.axes) == 8  # 2 rows of 4, three left empty
    low, high = images[0].get_clim()
    assert low == -high
    plt.close("all")


def test_plot_kernels_checks_shapes():
    with pytest.raises(ValueError, match="kernels, height, width"):
        plot_kernels(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="titles"):
        plot_kernels(np.zeros((2, 3, 3)), titles=["a"])


def test_parse_notation_splits_the_layer_string_and_rejects_unknown_symbols():
    from mirbook.plot import parse_notation

    assert parse_notation("c2-p2-c2-p2-r1-r2-d1") == ["c2", "p2", "c2", "p2", "r1", "r2", "d1"]
    with pytest.raises(ValueError, match="x3"):
        parse_notation("c2-x3-d1")
    with pytest.raises(ValueError, match="non-empty"):
        parse_notation("  ")


def test_plot_notation_draws_one_box_per_layer_plus_input_and_output():
    from matplotlib.patches import FancyBboxPatch

    from mirbook.plot import plot_notation

    ax = plot_notation("c1-p1-d1", input_label="log CQT", output_label="sigmoid")
    boxes = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
    labels = [t.get_text() for t in ax.texts if t.get_text()]
    assert labels == ["log CQT", "c1", "p1", "d1", "sigmoid"]
    assert len(boxes) == 5
    widths = [b.get_width() for b in boxes]
    assert widths[2] < widths[1] == widths[3]  # pooling boxes are narrower: no weights
    assert boxes[1].get_facecolor() != boxes[3].get_facecolor()  # convolution and dense differ
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["convolution (c1, c2)", "pooling (p1, p2)", "dense (d1, d2)"]
    plt.close("all")
