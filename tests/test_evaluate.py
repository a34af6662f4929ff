"""Tests of mirbook.evaluate against direct mir_eval / scikit-learn calls on hand-made references."""

import mir_eval
import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from mirbook.evaluate import (
    baseline_report,
    choose_voicing_settings,
    choose_voicing_threshold,
    decode_chords,
    energy_scores,
    evaluate_chords,
    evaluate_keys,
    evaluate_tags,
    evaluate_voicing,
    voiced_intervals,
    voicing_baselines,
    voicing_decisions,
    voicing_table,
)
from mirbook.frames import frame_intervals, intervals_to_frames, merge_frame_labels
from mirbook.vocab import CHORD_LABELS, chord_index

SR, HOP = 22050, 2205  # 0.1 s per frame, so times are easy to read

SONG_A = (np.array([[0.0, 1.0], [1.0, 2.5], [2.5, 4.0]]), ["C:maj", "A:min", "G:7"])
SONG_B = (np.array([[0.0, 0.5], [0.5, 2.0]]), ["N", "F#:min"])


def test_frame_intervals_and_merging():
    spans = frame_intervals(3, sample_rate=SR, hop_length=HOP)
    np.testing.assert_allclose(spans, [[0.0, 0.05], [0.05, 0.15], [0.15, 0.25]])
    long = frame_intervals(1000, sample_rate=22050, hop_length=2048)
    assert np.array_equal(long[1:, 0], long[:-1, 1])  # exactly contiguous: mir_eval refuses overlaps
    intervals, labels = merge_frame_labels(["N", "N", "C:maj", "C:maj", "C:maj", "N"], sample_rate=SR, hop_length=HOP)
    np.testing.assert_allclose(intervals, [[0.0, 0.15], [0.15, 0.45], [0.45, 0.55]])
    assert labels == ["N", "C:maj", "N"]
    mir_eval.util.validate_intervals(intervals)
    mir_eval.chord.validate(labels, labels)


def test_decode_chords_recovers_labels_and_smooths_blips():
    classes = [chord_index("C:maj")] * 10 + [chord_index("E:min")] + [chord_index("C:maj")] * 10 + [chord_index("A:min")] * 10
    posteriors = np.full((25, len(classes)), 0.01)
    posteriors[classes, np.arange(len(classes))] = 0.9
    intervals, labels = decode_chords(posteriors, sample_rate=SR, hop_length=HOP)
    assert labels == ["C:maj", "E:min", "C:maj", "A:min"]
    intervals, labels = decode_chords(posteriors, sample_rate=SR, hop_length=HOP, smooth=5)
    assert labels == ["C:maj", "A:min"]
    np.testing.assert_allclose(intervals, [[0.0, 2.05], [2.05, 3.05]])  # 31 frames: the last is centred at 3.0 s


def test_evaluate_chords_equals_mir_eval_for_one_song():
    estimate = (np.array([[0.0, 1.2], [1.2, 2.5], [2.5, 4.0]]), ["C:maj", "C:min", "G:maj"])
    direct = mir_eval.chord.evaluate(*SONG_A, *estimate)
    ours = evaluate_chords([SONG_A], [estimate])
    assert ours.keys() == direct.keys()
    for key in direct:
        assert ours[key] == pytest.approx(direct[key])
    assert 0 < ours["majmin"] < 1


def test_evaluate_chords_weights_songs_by_duration():
    est_a = (np.array([[0.0, 4.0]]), ["C:maj"])
    est_b = (np.array([[0.0, 2.0]]), ["F#:min"])
    a, b = mir_eval.chord.evaluate(*SONG_A, *est_a), mir_eval.chord.evaluate(*SONG_B, *est_b)
    ours = evaluate_chords([SONG_A, SONG_B], [est_a, est_b])
    for key in ("majmin", "root", "mirex", "thirds"):
        assert ours[key] == pytest.approx((4.0 * a[key] + 2.0 * b[key]) / 6.0)
    # by hand for majmin: song A right for 1 s of 4 s, song B right for 1.5 s of 2 s ('N' vs F#:min wrong)
    assert ours["majmin"] == pytest.approx((1.0 + 1.5) / 6.0)


def test_voicing_decisions_and_intervals():
    p = np.array([0.1, 0.2, 0.9, 0.8, 0.1, 0.9, 0.95, 0.9, 0.2, 0.1])
    np.testing.assert_array_equal(voicing_decisions(p, threshold=0.5), p > 0.5)
    filtered = voicing_decisions(p, threshold=0.5, median_filter=3)
    np.testing.assert_array_equal(filtered, [0, 0, 1, 1, 1, 1, 1, 1, 0, 0])
    intervals = voiced_intervals(p, threshold=0.5, sample_rate=SR, hop_length=HOP)
    np.testing.assert_allclose(intervals, [[0.15, 0.35], [0.45, 0.75]])
    mir_eval.util.validate_intervals(intervals)
    assert voiced_intervals(np.zeros(5) + 0.1, threshold=0.5, sample_rate=SR, hop_length=HOP).shape == (0, 2)


def test_evaluate_voicing_equals_mir_eval_on_frames():
    refs = [np.array([[0.2, 0.6]]), np.array([[0.0, 0.3], [0.75, 1.0]])]
    probs = [np.array([0.1, 0.2, 0.7, 0.6, 0.8, 0.9, 0.4, 0.3]), np.array([0.9, 0.2, 0.8, 0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.9])]
    scores = evaluate_voicing(refs, probs, threshold=0.5, sample_rate=SR, hop_length=HOP)
    ref = np.concatenate([intervals_to_frames(r, len(p), sample_rate=SR, hop_length=HOP) for r, p in zip(refs, probs)])
    est = np.concatenate([p > 0.5 for p in probs])
    # frame centres 0.0, 0.1, ... : song 1 voiced at 0.2-0.5, song 2 at 0.0-0.2 and 0.8-0.9
    np.testing.assert_array_equal(ref, [0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1])
    recall, false_alarm = mir_eval.melody.voicing_measures(ref.astype(float), est.astype(float))
    assert scores["Voicing Recall"] == pytest.approx(recall)
    assert scores["Voicing False Alarm"] == pytest.approx(false_alarm)
    assert scores["Frame Accuracy"] == pytest.approx(np.mean(ref == est))
    precision = (ref & est).sum() / est.sum()
    assert scores["Precision"] == pytest.approx(precision)
    assert scores["F-measure"] == pytest.approx(2 * precision * recall / (precision + recall))


def test_choose_voicing_threshold_picks_the_most_accurate():
    refs = [np.array([[0.0, 0.45]])]  # frames 0-4 voiced, 5-9 not
    probs = [np.array([0.7, 0.8, 0.75, 0.9, 0.72, 0.6, 0.5, 0.65, 0.3, 0.1])]
    threshold = choose_voicing_threshold(refs, probs, sample_rate=SR, hop_length=HOP, candidates=[0.4, 0.55, 0.68, 0.8])
    assert threshold == 0.68
    scores = evaluate_voicing(refs, probs, threshold=threshold, sample_rate=SR, hop_length=HOP)
    assert scores["Frame Accuracy"] == 1.0


def _blipped_song():
    """Frames 0-9 voiced, 10-19 not; one dropout blip at frame 4 and one false blip at frame 14."""
    p = np.array([0.8] * 10 + [0.2] * 10)
    p[4], p[14] = 0.2, 0.9
    return [np.array([[0.0, 0.95]])], [p]


def test_choose_voicing_settings_by_hand():
    refs, probs = _blipped_song()
    rate = {"sample_rate": SR, "hop_length": HOP}
    # no filter: both blips stay wrong, 18 of 20 frames right at any threshold between 0.2 and 0.8
    assert choose_voicing_settings(refs, probs, median_filters=(1,), candidates=[0.1, 0.5, 0.85], **rate) \
        == (0.5, 1, 0.9)
    # a 3- or 5-frame median removes both blips; the tie at accuracy 1 goes to the longer filter
    assert choose_voicing_settings(refs, probs, median_filters=(1, 3), candidates=[0.1, 0.5, 0.85], **rate) \
        == (0.5, 3, 1.0)
    assert choose_voicing_settings(refs, probs, median_filters=(5, 1, 3), candidates=[0.1, 0.5, 0.85], **rate) \
        == (0.5, 5, 1.0)
    # two thresholds equally right: the lower one, as choose_voicing_threshold picks it
    assert choose_voicing_settings(refs, probs, median_filters=(1, 3, 5), candidates=[0.1, 0.3, 0.5, 0.85], **rate) \
        == (0.3, 5, 1.0)
    with pytest.raises(ValueError, match="median_filters is empty"):
        choose_voicing_settings(refs, probs, median_filters=(), **rate)


@pytest.mark.filterwarnings("ignore:Estimated melody has no voiced frames")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_choose_voicing_settings_equals_a_brute_force_search(seed):
    rng = np.random.default_rng(seed)
    refs, probs = [], []
    for n in (60, 85):
        on = np.sort(rng.uniform(0, n / 10, size=4))
        refs.append(on.reshape(2, 2))
        truth = intervals_to_frames(refs[-1], n, sample_rate=SR, hop_length=HOP)
        probs.append(np.clip(0.3 * truth + 0.35 + 0.4 * rng.standard_normal(n), 0.01, 0.99).round(2))
    medians, candidates = (1, 5, 9, 13), np.linspace(0.05, 0.95, 19)
    best = max((evaluate_voicing(refs, probs, threshold=float(t), median_filter=m, sample_rate=SR,
                                 hop_length=HOP)["Frame Accuracy"], m, -float(t))
               for m in medians for t in candidates)
    expected = (-best[2], best[1], best[0])
    assert choose_voicing_settings(refs, probs, median_filters=medians, sample_rate=SR, hop_length=HOP) == expected


def test_evaluate_keys_is_the_mean_of_mir_eval():
    refs, ests = ["C major", "A minor", "F# major", "D minor"], ["C major", "C major", "C# major", "D major"]
    ours = evaluate_keys(refs, ests)
    direct = [mir_eval.key.evaluate(r, e) for r, e in zip(refs, ests)]
    for key in direct[0]:
        assert ours[key] == pytest.approx(np.mean([d[key] for d in direct]))
    # by hand: correct 1, relative 0.3, fifth 0.5, parallel 0.2
    assert ours["Weighted Score"] == pytest.approx((1 + 0.3 + 0.5 + 0.2) / 4)
    assert ours["Correct"] == pytest.approx(1 / 4)  # only the first key is exactly right


def test_evaluate_tags_equals_sklearn_and_skips_undefined_tags():
    rng = np.random.default_rng(0)
    targets = rng.integers(0, 2, size=(40, 4)).astype(float)
    targets[:, 3] = 0.0  # never present: no AUC
    scores = 0.6 * targets + 0.7 * rng.random((40, 4))
    result = evaluate_tags(targets, scores, tag_names=["rock", "vocal", "piano", "flute"])
    assert result["skipped"] == ["flute"]
    expected_roc = [roc_auc_score(targets[:, j], scores[:, j]) for j in range(3)]
    expected_pr = [average_precision_score(targets[:, j], scores[:, j]) for j in range(3)]
    assert result["ROC-AUC"] == pytest.approx(np.mean(expected_roc))
    assert result["PR-AUC"] == pytest.approx(np.mean(expected_pr))
    assert result["per_tag_roc_auc"]["vocal"] == pytest.approx(expected_roc[1])
    assert roc_auc_score(targets[:, :3], scores[:, :3], average="macro") == pytest.approx(result["ROC-AUC"])


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="no songs"):
        evaluate_chords([], [])
    with pytest.raises(ValueError, match="2 reference chord annotations but 1"):
        evaluate_chords([SONG_A, SONG_B], [SONG_A])
    with pytest.raises(ValueError, match=r"\(25, frames\)"):
        decode_chords(np.zeros((24, 5)), sample_rate=SR, hop_length=HOP)
    with pytest.raises(ValueError, match="empty"):
        decode_chords(np.zeros((25, 0)), sample_rate=SR, hop_length=HOP)
    with pytest.raises(ValueError, match="threshold"):
        voicing_decisions(np.ones(4) * 0.5, threshold=1.5)
    with pytest.raises(ValueError, match="odd"):
        voicing_decisions(np.ones(4) * 0.5, threshold=0.5, median_filter=4)
    with pytest.raises(ValueError, match="finite"):
        voicing_decisions(np.array([0.1, np.nan]), threshold=0.5)
    with pytest.raises(ValueError, match="same shape"):
        evaluate_tags(np.ones((4, 2)), np.ones((4, 3)))
    with pytest.raises(ValueError, match="multi-hot"):
        evaluate_tags(np.full((4, 2), 0.5), np.ones((4, 2)))
    with pytest.raises(ValueError, match="no tag"):
        evaluate_tags(np.ones((4, 2)), np.ones((4, 2)))
    with pytest.raises(ValueError, match="no songs"):
        evaluate_keys([], [])
    assert len(CHORD_LABELS) == 25


def test_voicing_precision_divides_by_the_estimated_frames():
    """4 reference frames, 6 estimated, 2 in common: precision 2/6, recall 2/4 (counted by hand)."""
    reference = [np.array([[0.0, 0.35]])]  # centres 0.0 ... 0.3: frames 0-3 voiced
    probabilities = [np.array([0.1, 0.1, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.1, 0.1])]  # frames 2-7 voiced
    scores = evaluate_voicing(reference, probabilities, threshold=0.5, sample_rate=SR, hop_length=HOP)
    assert scores["Precision"] == pytest.approx(2 / 6)
    assert scores["Recall"] == scores["Voicing Recall"] == pytest.approx(2 / 4)
    assert scores["F-measure"] == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))  # 0.4
    assert scores["Voicing False Alarm"] == pytest.approx(4 / 6)  # frames 4-7 of the 6 unvoiced ones
    assert scores["Frame Accuracy"] == pytest.approx(4 / 10)  # frames 2, 3, 8, 9


def test_a_probability_equal_to_the_threshold_is_unvoiced():
    """Voiced means above the threshold: p == threshold is not voiced."""
    p = np.array([0.5, 0.5000001, 0.4999999, 0.25, 0.75])
    np.testing.assert_array_equal(voicing_decisions(p, threshold=0.5), [False, True, False, False, True])
    np.testing.assert_array_equal(voicing_decisions(p, threshold=0.25)[3], False)
    np.testing.assert_array_equal(voicing_decisions(p, threshold=0.75)[4], False)


def test_a_frame_centred_on_an_interval_start_is_in_and_on_its_end_is_out():
    """Half-open intervals [start, end): frame centres 0, 0.25, 0.5, 0.75, 1.0 s are exact in binary."""
    rate = {"sample_rate": 16000, "hop_length": 4000}
    np.testing.assert_array_equal(intervals_to_frames([[0.25, 0.75]], 5, **rate), [0, 1, 1, 0, 0])
    # two touching intervals: the shared edge belongs to the second; no gap, no double count
    np.testing.assert_array_equal(intervals_to_frames([[0.0, 0.5], [0.5, 1.0]], 5, **rate), [1, 1, 1, 1, 0])
    assert not intervals_to_frames(np.zeros((0, 2)), 5, **rate).any()


def test_enharmonic_keys_are_correct():
    """'Eb major' and 'D# major' are the same key: mir_eval scores 1, and "Correct" counts it."""
    assert mir_eval.key.evaluate("Eb major", "D# major")["Weighted Score"] == 1.0
    scores = evaluate_keys(["Eb major", "Gb minor", "C major"], ["D# major", "F# minor", "G major"])
    assert scores["Correct"] == pytest.approx(2 / 3)
    assert scores["Weighted Score"] == pytest.approx((1 + 1 + 0.5) / 3)


def test_energy_scores_by_hand():
    """Levels 1, 0.1 and 1e-4 (0, -20 and -80 dB) score 1, 1 - 20/60 and 0 (floored) with floor -60 dB."""
    y = np.concatenate([np.full(22050, 1.0), np.full(22050, 0.1), np.full(22050, 1e-4)]).astype(np.float32)
    scores = energy_scores(y, hop_length=512)  # frames of 1024 samples, centred on i * 512
    assert len(scores) == 1 + len(y) // 512
    centres = np.arange(len(scores)) * 512
    for start, end, expected in ((0, 22050, 1.0), (22050, 44100, 2 / 3), (44100, 66150, 0.0)):
        inside = (centres - 512 >= start) & (centres + 512 <= end)
        assert inside.sum() > 30
        np.testing.assert_allclose(scores[inside], expected, atol=1e-5)


def test_energy_scores_above_t_are_the_energy_voicing_baseline_at_floor_times_1_minus_t():
    from mirbook.data.baselines import energy_voicing

    rng = np.random.default_rng(0)
    envelope = np.repeat(10 ** (rng.uniform(-3, 0, 40)), 2205)  # 40 levels of 0.1 s, 0 to -60 dB
    y = (envelope * rng.standard_normal(envelope.size)).astype(np.float32)
    scores = energy_scores(y, hop_length=512, frame_length=512, floor_db=-60.0)
    for t in (0.25, 0.5, 0.8):
        ours = voiced_intervals(scores, threshold=t, sample_rate=SR, hop_length=512)
        theirs = energy_voicing(y, SR, hop_length=512, frame_length=512, threshold_db=-60.0 * (1 - t))
        assert len(ours) > 1
        np.testing.assert_allclose(ours, theirs)


def _loud_where_voiced(voicing, seconds, rng):
    """White noise at 0 dB inside the voiced intervals and -20 dB outside them."""
    t = np.arange(int(seconds * SR)) / SR
    level = np.where(((t[:, None] >= voicing[:, 0]) & (t[:, None] < voicing[:, 1])).any(axis=1), 0.5, 0.05)
    return (level * rng.standard_normal(t.size)).astype(np.float32)


def test_voicing_baselines_tune_energy_on_validation_and_score_the_trivial_detectors():
    rng = np.random.default_rng(1)
    voicings = [np.array([[0.5, 2.0], [3.0, 4.5]]), np.array([[1.0, 3.5]]), np.array([[0.0, 1.5], [4.0, 6.0]])]
    songs = [(_loud_where_voiced(v, 6.0, rng), v) for v in voicings]
    rows, choice = voicing_baselines(songs[:2], songs[2:], sample_rate=SR, hop_length=512, median_filters=(1, 5, 9))
    # a loudness step of 20 dB marks the voice: the energy detector finds it on the test song
    assert rows["energy on the mix"]["Frame Accuracy"] >= 0.97
    # the threshold lies between the two levels' scores (1 - 20/60 and 1), its dB as floor * (1 - t)
    assert 2 / 3 < choice["threshold"] < 1
    assert choice["threshold_db"] == pytest.approx(-60.0 * (1 - choice["threshold"]))
    # clean steps: every filter length ties and the tie goes to the longest, the grid's edge
    assert choice["median_filter"] == 9 and choice["at_edge"] == ["median filter"]
    # thresholds that tie go to the lowest: 0.7, 0.75 and 0.8 decide the same frames, so 0.7, an edge
    _, low = voicing_baselines(songs[:2], songs[2:], sample_rate=SR, hop_length=512, median_filters=(1, 5, 9),
                               candidates=(0.7, 0.75, 0.8))
    assert low["threshold"] == 0.7 and low["at_edge"] == ["threshold", "median filter"]
    # trivial detectors: the voiced share of the test frames, computed from the labels
    n_frames = 1 + int(6.0 * SR) // 512
    voiced = intervals_to_frames(voicings[2], n_frames, sample_rate=SR, hop_length=512).mean()
    assert rows["every frame voiced"]["Frame Accuracy"] == pytest.approx(voiced)
    assert rows["every frame voiced"]["Voicing False Alarm"] == 1.0
    assert rows["no frame voiced"]["Frame Accuracy"] == pytest.approx(1 - voiced)
    assert rows["no frame voiced"]["Voicing Recall"] == 0.0


def test_energy_baseline_refuses_bad_inputs():
    with pytest.raises(ValueError, match="floor_db must be negative"):
        energy_scores(np.ones(4096, dtype=np.float32), hop_length=512, floor_db=0.0)
    with pytest.raises(ValueError, match="one mono signal"):
        energy_scores(np.ones((2, 4096), dtype=np.float32), hop_length=512)
    with pytest.raises(ValueError, match="valid_songs is empty"):
        voicing_baselines([], [(np.ones(4096), np.zeros((0, 2)))], sample_rate=SR, hop_length=512)


def test_voicing_table_is_markdown_with_one_row_per_detector():
    scores = {"Frame Accuracy": 0.9125, "Voicing Recall": 1.0, "Voicing False Alarm": 0.0004,
              "Precision": 0.5, "F-measure": 2 / 3}
    table = voicing_table({"net": scores, "all voiced": scores})
    assert table.splitlines() == [
        "| detector | frame accuracy | voicing recall | voicing false alarm | precision | f-measure |",
        "|---|---:|---:|---:|---:|---:|",
        "| net | 0.912 | 1.000 | 0.000 | 0.500 | 0.667 |",
        "| all voiced | 0.912 | 1.000 | 0.000 | 0.500 | 0.667 |",
    ]
    with pytest.raises(ValueError, match="rows is empty"):
        voicing_table({})


def test_baseline_report_states_the_choice_the_table_and_the_gap_closed():
    def scores(accuracy):
        return {"Frame Accuracy": accuracy, "Voicing Recall": 0.5, "Voicing False Alarm": 0.25,
                "Precision": 0.5, "F-measure": 0.5}

    rows = {"energy on the mix": scores(0.6), "every frame voiced": scores(0.45), "no frame voiced": scores(0.55)}
    choice = {"threshold": 0.8, "threshold_db": -12.0, "median_filter": 65, "valid_accuracy": 0.577,
              "at_edge": []}
    text = baseline_report("net", scores(0.95), rows, choice)
    head, table, sentence = text.split("\n\n")
    assert "threshold 0.80 (-12.0 dB below the loudest frame), median filter 65 frames" in head
    assert "(inside both grids)" in head
    assert table == voicing_table({"net": scores(0.95), **rows})
    # by hand: 0.6 - 0.55 = +0.05 over the better trivial detector, 0.6 - 0.95 = -0.35, 0.05 / 0.4 = 12 %
    assert "decides 0.600 of the frames correctly, +0.050 against the better trivial detector (0.550" in sentence
    assert "-0.350 against the network (0.950): loudness closes 12% of the gap" in sentence
    edge = baseline_report("net", scores(0.95), rows, {**choice, "at_edge": ["median filter"]})
    assert "(at the edge of its grid: median filter)" in edge


def test_chord_recall_of_a_collection_counts_only_comparable_time():
    """By hand: song A is 10 s, 5 s of them an 'X' sonority, the other 5 s C major estimated right; song B
    is 10 s of D minor estimated as C major. majmin: 5 s right of 15 s comparable, 1/3 (a mean of the
    songs' scores weighted by their lengths would give 0.5). Song C, 10 s of 'X' only, has nothing to
    compare and leaves the result as it is (the weighted mean would fall to 1/3 with it)."""
    references = [(np.array([[0.0, 5.0], [5.0, 10.0]]), ["X", "C:maj"]),
                  (np.array([[0.0, 10.0]]), ["D:min"]),
                  (np.array([[0.0, 10.0]]), ["X"])]
    estimates = [(np.array([[0.0, 10.0]]), ["C:maj"])] * 3
    two = evaluate_chords(references[:2], estimates[:2])
    assert two["majmin"] == pytest.approx(1 / 3) and two["root"] == pytest.approx(1 / 3)
    three = evaluate_chords(references, estimates)
    assert three["majmin"] == pytest.approx(1 / 3) and three["root"] == pytest.approx(1 / 3)
    assert evaluate_chords(references[:1], estimates[:1])["majmin"] == pytest.approx(1.0)
    single = mir_eval.chord.evaluate(references[1][0], references[1][1], *estimates[1])
    assert evaluate_chords(references[1:2], estimates[1:2]) == pytest.approx(dict(single))
