"""From model outputs to task scores (paper Table 1's tasks; Section 5.7's six models).

- Chords (deep chroma chapter): frame posteriors -> merged intervals with Harte labels
  (:func:`decode_chords`), scored with ``mir_eval.chord.evaluate`` and aggregated over songs
  weighted by duration -- the weighted chord symbol recall (WCSR) of MIREX (:func:`evaluate_chords`).
- Singing voice (Conv2D and BRNN voice chapters): frame probabilities -> optional median
  filter -> threshold (both picked on validation data by :func:`choose_voicing_settings`) ->
  ``mir_eval.melody.voicing_measures`` plus frame accuracy, precision and F-measure
  (:func:`evaluate_voicing`); :func:`voiced_intervals` gives the mir_eval-style intervals, and
  :func:`energy_scores` turns a mix's frame loudness into scores of the same kind (the
  conventional baseline the two chapters tune and score exactly like their networks);
  :func:`voicing_transfer` sets a detector's scores in its own world beside those on music the
  world did not write (the out-of-world pieces), with what transfers and what does not.
- Key (tagger chapters): ``mir_eval.key.evaluate``'s weighted score, averaged (:func:`evaluate_keys`).
- Per song, for paired intervals (``mirbook.intervals``; the comparison page):
  :func:`chord_song_seconds`, :func:`voicing_song_frames` and :func:`key_song_scores` give each
  song's share of a pooled score, so that a resample of songs recomputes it exactly.
- Tags (tagger chapters): macro ROC-AUC and PR-AUC with scikit-learn (:func:`evaluate_tags`).
  mir_eval has no tagging metric: it scores *annotations* against references (beats, chords,
  melody, keys, segments ...), whereas auto-tagging is judged as a multi-label ranking problem,
  so the tagging literature (Dieleman & Schrauwen 2014; Choi et al. 2016, 2017) reports the
  area under the ROC curve per tag, averaged over tags.

Frames follow ``mirbook.representations``: frame ``i`` is centred at ``i * hop_length /
sample_rate`` seconds and, as an interval, covers half a hop on either side (from 0 for the first).
The runners that drive a model over a dataset split live in ``mirbook.scoring``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import librosa
import mir_eval
import numpy as np
import torch
from scipy.ndimage import median_filter as _median_filter
from scipy.ndimage import uniform_filter1d
from sklearn.metrics import average_precision_score, roc_auc_score

from mirbook.checks import as_waveform_batch, check_intervals, check_positive_int
from mirbook.frames import intervals_to_frames, merge_frame_labels
from mirbook.vocab import CHORD_LABELS

__all__ = [
    "decode_chords",
    "evaluate_chords",
    "chord_song_seconds",
    "voicing_decisions",
    "voiced_intervals",
    "evaluate_voicing",
    "voicing_song_frames",
    "FRAME_KINDS",
    "voicing_errors_by_kind",
    "choose_voicing_threshold",
    "choose_voicing_settings",
    "energy_scores",
    "voicing_baselines",
    "voicing_table",
    "baseline_report",
    "voicing_transfer",
    "evaluate_keys",
    "key_song_scores",
    "evaluate_tags",
]


def _as_array(x, *, name: str, ndim: int) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array; got shape {x.shape}")
    if x.size == 0:
        raise ValueError(f"{name} is empty (shape {x.shape})")
    if not np.isfinite(x).all():
        raise ValueError(f"{name} must be finite; it holds NaN or infinite values")
    return x


def _check_lists(references, estimates, *, what: str) -> None:
    if len(references) == 0:
        raise ValueError(f"no songs to evaluate: the list of reference {what} is empty")
    if len(references) != len(estimates):
        raise ValueError(f"{len(references)} reference {what} but {len(estimates)} estimates; one per song expected")


def decode_chords(posteriors, *, sample_rate: int, hop_length: int, smooth: int = 1) -> tuple[np.ndarray, list[str]]:
    """Chord posteriors ``(25, frames)`` -> ``(intervals, Harte labels)`` (deep chroma chapter).

    Each frame takes its most probable class of ``mirbook.vocab.CHORD_LABELS`` after the
    posteriors are averaged over ``smooth`` frames (a moving average; 1 = none), a simple
    stand-in for the HMM/CRF smoothing of the literature; runs of one label are merged.
    """
    posteriors = _as_array(posteriors, name="posteriors", ndim=2)
    if posteriors.shape[0] != len(CHORD_LABELS):
        raise ValueError(f"posteriors must have shape ({len(CHORD_LABELS)}, frames); got {posteriors.shape}")
    smooth = check_positive_int(smooth, "smooth (frames)")
    if smooth > 1:
        posteriors = uniform_filter1d(posteriors, smooth, axis=1, mode="nearest")
    classes = posteriors.argmax(axis=0)
    return merge_frame_labels([CHORD_LABELS[c] for c in classes], sample_rate=sample_rate, hop_length=hop_length)


#: mir_eval's chord comparisons: each scores only the reference chords inside its vocabulary.
CHORD_COMPARISONS = ("thirds", "thirds_inv", "triads", "triads_inv", "tetrads", "tetrads_inv", "root", "mirex",
                     "majmin", "majmin_inv", "sevenths", "sevenths_inv")


def evaluate_chords(references: Sequence[tuple], estimates: Sequence[tuple]) -> dict[str, float]:
    """Weighted chord symbol recall of a collection, for every ``mir_eval.chord`` comparison (deep chroma chapter).

    ``references`` and ``estimates``: one ``(intervals, labels)`` pair per song. For each comparison
    (:data:`CHORD_COMPARISONS`; "majmin" is the chapter's metric) the result is the time where the
    estimate matches the reference over the time where the two can be compared, summed over all
    songs: references outside a comparison's vocabulary (an 'X', or a seventh chord under majmin)
    count in neither. The segmentation scores ("underseg", "overseg", "seg") are means over songs
    weighted by their duration.
    """
    _check_lists(references, estimates, what="chord annotations")
    matched = dict.fromkeys(CHORD_COMPARISONS, 0.0)
    comparable = dict.fromkeys(CHORD_COMPARISONS, 0.0)
    segmentation: dict[str, float] = {}
    weight = 0.0
    for i, (reference, estimate) in enumerate(zip(references, estimates)):
        song_matched, song_comparable, scores, duration = _song_chord_sums(i, reference, estimate)
        for key in ("underseg", "overseg", "seg"):
            segmentation[key] = segmentation.get(key, 0.0) + duration * scores[key]
        weight += duration
        for name in CHORD_COMPARISONS:
            matched[name] += song_matched[name]
            comparable[name] += song_comparable[name]
    result = {name: matched[name] / comparable[name] if comparable[name] > 0 else 0.0 for name in CHORD_COMPARISONS}
    return {**result, **{key: value / weight for key, value in segmentation.items()}}


def chord_song_seconds(references: Sequence[tuple], estimates: Sequence[tuple], *,
                       comparison: str = "majmin") -> np.ndarray:
    """Per song ``(seconds matched, seconds comparable)`` under one ``mir_eval.chord`` comparison, ``(songs, 2)``.

    The sums of the two columns over any set of songs give :func:`evaluate_chords`' WCSR of
    that set (matched / comparable), so a bootstrap over songs recomputes the pooled score
    exactly (``mirbook.intervals.pooled_ratio``; deep chroma chapter, comparison page).
    """
    if comparison not in CHORD_COMPARISONS:
        raise ValueError(f"comparison must be one of {CHORD_COMPARISONS}; got {comparison!r}")
    _check_lists(references, estimates, what="chord annotations")
    rows = []
    for i, (reference, estimate) in enumerate(zip(references, estimates)):
        matched, comparable, _, _ = _song_chord_sums(i, reference, estimate)
        rows.append((matched[comparison], comparable[comparison]))
    return np.array(rows, dtype=float).reshape(-1, 2)


def _song_chord_sums(i: int, reference, estimate) -> tuple[dict, dict, dict, float]:
    """One song's seconds matched and comparable per comparison, mir_eval's scores and its duration."""
    ref_int, ref_lab = _chord_annotation(reference, name=f"references[{i}]")
    est_int, est_lab = _chord_annotation(estimate, name=f"estimates[{i}]")
    # mir_eval cuts the estimate to the reference's span; one wholly outside would become empty
    inside = (est_int[:, 1] > ref_int[0, 0]) & (est_int[:, 0] < ref_int[-1, 1])
    est_int, est_lab = est_int[inside], [label for label, keep in zip(est_lab, inside) if keep]
    if len(est_lab) == 0:
        est_int, est_lab = np.array([[ref_int[0, 0], ref_int[-1, 1]]]), ["N"]  # what mir_eval pads with
    try:
        with warnings.catch_warnings():  # a song with no comparable chord warns; the sums handle it
            warnings.simplefilter("ignore", UserWarning)
            scores = mir_eval.chord.evaluate(ref_int, ref_lab, est_int, est_lab)
    except mir_eval.chord.InvalidChordException as err:
        raise ValueError(f"song {i} has a label that is not a Harte chord label: {err}") from err
    duration = float(ref_int[-1, 1] - ref_int[0, 0])
    # the same alignment mir_eval.chord.evaluate makes, kept as sums of seconds
    est_int, est_lab = mir_eval.util.adjust_intervals(est_int, est_lab, ref_int.min(), ref_int.max(),
                                                      mir_eval.chord.NO_CHORD, mir_eval.chord.NO_CHORD)
    intervals, ref_aligned, est_aligned = mir_eval.util.merge_labeled_intervals(ref_int, ref_lab,
                                                                               est_int, est_lab)
    durations = mir_eval.util.intervals_to_durations(intervals)
    matched, comparable = {}, {}
    for name in CHORD_COMPARISONS:
        comparison = np.asarray(getattr(mir_eval.chord, name)(ref_aligned, est_aligned), dtype=float)
        valid = comparison >= 0
        matched[name] = float(np.sum(durations[valid] * comparison[valid]))
        comparable[name] = float(np.sum(durations[valid]))
    return matched, comparable, scores, duration


def _chord_annotation(annotation, *, name: str) -> tuple[np.ndarray, list[str]]:
    """``(intervals (n, 2), n Harte labels)`` checked as mir_eval.chord needs them, or a ValueError naming ``name``."""
    try:
        intervals, labels = annotation
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be an (intervals, labels) pair; got {annotation!r:.80}") from err
    intervals = check_intervals(intervals, name=f"{name} intervals", positive=True)
    if len(intervals) == 0:
        raise ValueError(f"{name} is an empty chord annotation; every song needs at least one interval")
    if isinstance(labels, str) or not all(isinstance(label, str) for label in np.atleast_1d(labels).tolist()):
        raise ValueError(f"{name} labels must be a list of Harte chord labels (strings); got {labels!r:.80}")
    labels = [str(label) for label in np.atleast_1d(labels).tolist()]
    if len(labels) != len(intervals):
        raise ValueError(f"{name} has {len(intervals)} intervals but {len(labels)} labels; one label per interval")
    if np.any(intervals[1:, 0] < intervals[:-1, 1]):
        raise ValueError(f"{name} intervals must be in time order without overlaps")
    return intervals, labels


def voicing_decisions(probabilities, *, threshold: float, median_filter: int = 1) -> np.ndarray:
    """Frame probabilities ``(frames,)`` -> boolean voicing after an optional median filter.

    A frame is voiced when its (filtered) probability is above ``threshold``; one equal to it is
    unvoiced. ``median_filter`` is the filter length in frames (odd; 1 = none): it removes voiced or
    unvoiced blips shorter than half of it, as Schlüter & Grill (2015) do (voice chapters).
    """
    p = _as_array(probabilities, name="probabilities", ndim=1)
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be in (0, 1); got {threshold!r}")
    median_filter = check_positive_int(median_filter, "median_filter (frames)")
    if median_filter % 2 == 0:
        raise ValueError(f"median_filter must be odd (a centred window of frames); got {median_filter}")
    if median_filter > 1:
        p = _median_filter(p, size=median_filter, mode="nearest")
    return p > threshold


def voiced_intervals(probabilities, *, threshold: float, sample_rate: int, hop_length: int,
                     median_filter: int = 1) -> np.ndarray:
    """Voiced intervals ``(n, 2)`` in seconds from frame probabilities (voice chapters, ``mirbook.predict``)."""
    voiced = voicing_decisions(probabilities, threshold=threshold, median_filter=median_filter)
    intervals, labels = merge_frame_labels(list(voiced), sample_rate=sample_rate, hop_length=hop_length)
    return intervals[np.array(labels, dtype=bool)].reshape(-1, 2)


def _song_voicing_frames(references, probabilities, *, threshold, sample_rate, hop_length, median_filter):
    """Per song: reference and estimated voicing of every frame (two lists of boolean arrays)."""
    _check_lists(references, probabilities, what="voicing annotations")
    ref, est = [], []
    for i, (intervals, p) in enumerate(zip(references, probabilities)):
        intervals = check_intervals(intervals, name=f"references[{i}]")
        est.append(voicing_decisions(p, threshold=threshold, median_filter=median_filter))
        ref.append(intervals_to_frames(intervals, len(est[-1]), sample_rate=sample_rate, hop_length=hop_length))
    return ref, est


def _voicing_frames(references, probabilities, **settings):
    ref, est = _song_voicing_frames(references, probabilities, **settings)
    return np.concatenate(ref), np.concatenate(est)


def voicing_song_frames(references: Sequence, probabilities: Sequence, *, threshold: float, sample_rate: int,
                        hop_length: int, median_filter: int = 1) -> np.ndarray:
    """Per song ``(frames decided right, frames)``, ``(songs, 2)``: column sums over any set of songs
    give :func:`evaluate_voicing`'s "Frame Accuracy" of that set (voice chapters, comparison page)."""
    ref, est = _song_voicing_frames(references, probabilities, threshold=threshold, sample_rate=sample_rate,
                                    hop_length=hop_length, median_filter=median_filter)
    return np.array([(float((r == e).sum()), float(len(r))) for r, e in zip(ref, est)]).reshape(-1, 2)


def evaluate_voicing(references: Sequence, probabilities: Sequence, *, threshold: float, sample_rate: int,
                     hop_length: int, median_filter: int = 1) -> dict[str, float]:
    """Singing-voice detection scores over all frames of all songs (voice chapters).

    ``references``: one array of voiced intervals ``(n, 2)`` per song, each ending at or after
    its start (a ValueError names the song otherwise); ``probabilities``: one
    ``(frames,)`` array per song. Returns mir_eval.melody's "Voicing Recall" and "Voicing False
    Alarm", plus "Frame Accuracy", "Precision", "Recall" and "F-measure" of the voiced class.
    """
    ref, est = _voicing_frames(references, probabilities, threshold=threshold, sample_rate=sample_rate,
                               hop_length=hop_length, median_filter=median_filter)
    recall, false_alarm = mir_eval.melody.voicing_measures(ref.astype(float), est.astype(float))
    precision = float((ref & est).sum() / est.sum()) if est.any() else 0.0
    f_measure = mir_eval.util.f_measure(precision, recall)
    return {"Voicing Recall": float(recall), "Voicing False Alarm": float(false_alarm),
            "Frame Accuracy": float((ref == est).mean()), "Precision": precision, "Recall": float(recall),
            "F-measure": float(f_measure)}


#: The four kinds of frame of a voice song with a non-vocal lead: kind -> (voice sounds, lead sounds).
FRAME_KINDS = {"voice only": (True, False), "lead only": (False, True), "both": (True, True),
               "neither voice nor lead": (False, False)}


def voicing_errors_by_kind(references: Sequence, leads: Sequence, probabilities: Sequence, *, threshold: float,
                           sample_rate: int, hop_length: int, median_filter: int = 1) -> dict[str, dict]:
    """Where a voice detector errs: its error rate on each of :data:`FRAME_KINDS` over all songs.

    ``references``: voiced intervals per song; ``leads``: intervals where the non-vocal lead (the
    hard negative: violin, flute, a synth lead, a sampled melody instrument) plays, ``None`` or
    empty for a song without one; ``probabilities``: one ``(frames,)`` array per song, decided as
    :func:`evaluate_voicing` decides them. Returns ``{kind: {"frames", "errors", "error_rate"}}``:
    on "voice only" and "both" an error is a missed voiced frame, on the other two a false alarm
    ("lead only": the false-alarm rate on the lead's frames; ``error_rate`` is NaN where a kind has
    no frames). Voice chapters, in the world and on the out-of-world pieces.
    """
    _check_lists(references, leads, what="lead annotations")
    ref, est = _voicing_frames(references, probabilities, threshold=threshold, sample_rate=sample_rate,
                               hop_length=hop_length, median_filter=median_filter)
    lead = np.concatenate([
        intervals_to_frames(np.zeros((0, 2)) if intervals is None else intervals, len(p),
                            sample_rate=sample_rate, hop_length=hop_length)
        for intervals, p in zip(leads, probabilities)])
    result = {}
    for kind, (voice, lead_plays) in FRAME_KINDS.items():
        mask = (ref == voice) & (lead == lead_plays)
        errors = int((est[mask] != ref[mask]).sum())
        frames = int(mask.sum())
        result[kind] = {"frames": frames, "errors": errors, "error_rate": errors / frames if frames else float("nan")}
    return result


def _best_threshold(references, probabilities, *, sample_rate, hop_length, median_filter, candidates):
    candidates = np.linspace(0.05, 0.95, 19) if candidates is None else np.asarray(candidates, dtype=float)
    if candidates.size == 0:
        raise ValueError("candidates is empty: give at least one threshold in (0, 1)")
    with warnings.catch_warnings():  # extreme candidates may voice no frame at all; that is expected here
        warnings.filterwarnings("ignore", message=".*no voiced frames", category=UserWarning)
        accuracy = [evaluate_voicing(references, probabilities, threshold=float(t), sample_rate=sample_rate,
                                     hop_length=hop_length, median_filter=median_filter)["Frame Accuracy"]
                    for t in candidates]
    best = int(np.argmax(accuracy))
    return float(candidates[best]), accuracy[best]


def choose_voicing_threshold(references: Sequence, probabilities: Sequence, *, sample_rate: int, hop_length: int,
                             median_filter: int = 1, candidates: Sequence[float] | None = None) -> float:
    """The threshold (from ``candidates``, default 0.05 ... 0.95) with the best frame accuracy.

    Pick it on *validation* songs, then apply it to the test songs (voice chapters). Ties go
    to the lowest threshold.
    """
    return _best_threshold(references, probabilities, sample_rate=sample_rate, hop_length=hop_length,
                           median_filter=median_filter, candidates=candidates)[0]


def choose_voicing_settings(references: Sequence, probabilities: Sequence, *, sample_rate: int, hop_length: int,
                            median_filters: Sequence[int] = (1, 17, 33, 49, 65),
                            candidates: Sequence[float] | None = None) -> tuple[float, int, float]:
    """``(threshold, median_filter, frame accuracy)`` with the best frame accuracy on validation songs.

    Each median filter length (frames) gets its best threshold (:func:`choose_voicing_threshold`);
    the pair with the highest frame accuracy wins, a tie going to the longer filter
    (Schlüter & Grill 2015 smooth the voice detector's output the same way; voice chapters).
    """
    if len(median_filters) == 0:
        raise ValueError("median_filters is empty: give at least one filter length (frames), e.g. (1,)")
    choices = []
    for median in median_filters:
        threshold, accuracy = _best_threshold(references, probabilities, sample_rate=sample_rate,
                                              hop_length=hop_length, median_filter=median, candidates=candidates)
        choices.append((accuracy, median, threshold))
    accuracy, median, threshold = max(choices)
    return threshold, median, accuracy


def energy_scores(audio, *, hop_length: int, frame_length: int = 1024, floor_db: float = -60.0) -> np.ndarray:
    """Frame loudness of a mono signal as voicing scores ``(frames,)`` in [0, 1] (voice chapters' baseline).

    The RMS of centred frames (``librosa.feature.rms``, frame ``i`` centred on sample
    ``i * hop_length``) in dB below the loudest frame, mapped linearly from ``floor_db`` (and
    quieter) to 0 up to 0 dB to 1. A score above ``t`` is then exactly the decision of
    ``mirbook.data.baselines.energy_voicing`` with ``threshold_db = floor_db * (1 - t)``, so the
    energy detector on the *mix* takes the same median filter, threshold search
    (:func:`choose_voicing_settings`) and scores (:func:`evaluate_voicing`) as a network.
    """
    batch = as_waveform_batch(np.asarray(audio, dtype=np.float32), min_samples=2, name="audio")
    if batch.shape[0] != 1:
        raise ValueError(f"audio must be one mono signal (samples,); got a batch of {batch.shape[0]}")
    hop_length = check_positive_int(hop_length, "hop_length (samples)")
    frame_length = check_positive_int(frame_length, "frame_length (samples)")
    if not floor_db < 0:
        raise ValueError(f"floor_db must be negative (dB below the loudest frame); got {floor_db!r}")
    rms = librosa.feature.rms(y=batch[0].numpy(), frame_length=frame_length, hop_length=hop_length)[0]
    peak = rms.max()
    if peak <= 0:
        return np.zeros(len(rms))
    db = 20 * np.log10(np.maximum(rms, 1e-12) / peak)
    return np.clip(1.0 - db / floor_db, 0.0, 1.0)


def voicing_baselines(valid_songs: Sequence, test_songs: Sequence, *, sample_rate: int, hop_length: int,
                      median_filters: Sequence[int] = (1, 17, 33, 65, 129, 257, 513),
                      candidates: Sequence[float] | None = None,
                      floor_db: float = -60.0) -> tuple[dict[str, dict[str, float]], dict]:
    """Conventional and trivial voice detectors on the test songs, beside a network (voice chapters).

    ``valid_songs`` / ``test_songs``: one ``(mono audio, voiced intervals (n, 2))`` pair per song.
    The energy detector on the mix (:func:`energy_scores`, ``floor_db``) gets its threshold
    (``candidates``, default 0.02 ... 0.98) and median filter (frames) from the validation songs
    with :func:`choose_voicing_settings`, like the networks. Returns ``(rows, choice)``: rows
    name -> :func:`evaluate_voicing` scores for "energy on the mix", "every frame voiced" and
    "no frame voiced"; ``choice`` holds the chosen "threshold", its "threshold_db" below the
    loudest frame, "median_filter", "valid_accuracy", "at_edge", the grids whose first or
    last value was chosen (empty when both choices lie inside their grids), and "song_frames",
    the energy detector's :func:`voicing_song_frames` on the test songs.
    """
    rate = {"sample_rate": sample_rate, "hop_length": hop_length}
    candidates = np.round(np.arange(0.02, 0.99, 0.02), 2) if candidates is None else np.asarray(candidates, float)
    scored = {}
    for split, songs in (("valid", valid_songs), ("test", test_songs)):
        if len(songs) == 0:
            raise ValueError(f"{split}_songs is empty: give one (audio, voiced intervals) pair per song")
        scored[split] = ([np.asarray(voicing, dtype=float).reshape(-1, 2) for _, voicing in songs],
                         [energy_scores(audio, hop_length=hop_length, floor_db=floor_db) for audio, _ in songs])
    threshold, median, valid_accuracy = choose_voicing_settings(*scored["valid"], median_filters=median_filters,
                                                                candidates=candidates, **rate)
    references, energy = scored["test"]
    rows = {"energy on the mix": evaluate_voicing(references, energy, threshold=threshold, median_filter=median,
                                                  **rate)}
    with warnings.catch_warnings():  # "no frame voiced" has no voiced estimate, as intended
        warnings.filterwarnings("ignore", message=".*no voiced frames", category=UserWarning)
        for name, value in (("every frame voiced", 1.0), ("no frame voiced", 0.0)):
            rows[name] = evaluate_voicing(references, [np.full(len(p), value) for p in energy], threshold=0.5,
                                          **rate)
    at_edge = [name for name, value, grid in (("threshold", threshold, list(candidates)),
                                              ("median filter", median, list(median_filters)))
               if value in (min(grid), max(grid))]
    choice = {"threshold": threshold, "threshold_db": floor_db * (1 - threshold), "median_filter": median,
              "valid_accuracy": valid_accuracy, "at_edge": at_edge,
              "song_frames": voicing_song_frames(references, energy, threshold=threshold, median_filter=median,
                                                 **rate)}
    return rows, choice


def voicing_table(rows: dict[str, dict[str, float]]) -> str:
    """A Markdown table of :func:`evaluate_voicing` scores, one row per detector (voice chapters).

    Columns: frame accuracy, voicing recall, voicing false alarm, precision and F-measure of the
    voiced class, three decimals; display it with ``IPython.display.Markdown``.
    """
    if not rows:
        raise ValueError("rows is empty: give {detector name: evaluate_voicing scores}")
    columns = ("Frame Accuracy", "Voicing Recall", "Voicing False Alarm", "Precision", "F-measure")
    lines = ["| detector | " + " | ".join(c.lower() for c in columns) + " |",
             "|---|" + "---:|" * len(columns)]
    lines += [f"| {name} | " + " | ".join(f"{scores[c]:.3f}" for c in columns) + " |"
              for name, scores in rows.items()]
    return "\n".join(lines)


def baseline_report(model_name: str, model_scores: dict[str, float], rows: dict[str, dict[str, float]],
                    choice: dict) -> str:
    """Markdown: a network's test scores beside :func:`voicing_baselines`' ``(rows, choice)`` (voice chapters).

    The energy detector's validation choice (and whether it sits at a grid's edge), a
    :func:`voicing_table` of the network and the three baselines, and one sentence comparing the
    frame accuracies: the energy detector against the better trivial detector and the network,
    and the share of the gap between them that loudness closes.
    """
    edge = f"at the edge of its grid: {', '.join(choice['at_edge'])}" if choice["at_edge"] else "inside both grids"
    loud, net = rows["energy on the mix"]["Frame Accuracy"], model_scores["Frame Accuracy"]
    trivial = max(rows["every frame voiced"]["Frame Accuracy"], rows["no frame voiced"]["Frame Accuracy"])
    share = (loud - trivial) / (net - trivial) if net != trivial else float("nan")
    return "\n\n".join([
        f"Energy detector, chosen on the validation songs: threshold {choice['threshold']:.2f} "
        f"({choice['threshold_db']:.1f} dB below the loudest frame), median filter {choice['median_filter']} "
        f"frames, validation frame accuracy {choice['valid_accuracy']:.3f} ({edge}).",
        voicing_table({model_name: model_scores, **rows}),
        f"On the test songs the energy detector on the mix decides {loud:.3f} of the frames correctly, "
        f"{loud - trivial:+.3f} against the better trivial detector ({trivial:.3f}, which needs no audio) "
        f"and {loud - net:+.3f} against the network ({net:.3f}): loudness closes {share:.0%} of the gap "
        f"between knowing nothing and the network."])


#: What :func:`voicing_transfer` compares across worlds: (name, where it is read, higher is better).
TRANSFER_MEASURES = (("frame accuracy", ("network", "Frame Accuracy"), True),
                     ("voicing recall", ("network", "Voicing Recall"), True),
                     ("false alarms where only the lead plays", ("kinds", "lead only"), False),
                     ("false alarms where neither voice nor lead plays", ("kinds", "neither voice nor lead"), False))


def voicing_transfer(model_name: str, worlds: dict[str, dict], *, sample_rate: int, hop_length: int,
                     median_filters: Sequence[int] = (1, 17, 33, 49, 65), tolerance: float = 0.05,
                     aims: tuple[float, float] | None = None) -> tuple[str, dict]:
    """A voice detector in two worlds side by side, with what transfers (voice chapters).

    ``worlds``: two entries, the world the detector learned in first, ``name -> {"valid", "test",
    "baselines"}``. ``valid`` and ``test`` are dicts of per-song ``"references"`` (voiced
    intervals), ``"probabilities"`` (the network's frame probabilities), ``"leads"`` (the lead's
    intervals, None: no lead) and, for ``test``, optionally ``"styles"`` (each song's arrangement);
    ``baselines`` are :func:`voicing_baselines`' rows on the test songs. Each world's threshold and
    median filter are chosen on its own validation songs (:func:`choose_voicing_settings`).

    Returns ``(markdown, scores)``; ``scores[world]`` holds the chosen ``"threshold"`` and
    ``"median_filter"``, and for the test songs ``"network"`` (:func:`evaluate_voicing`),
    ``"kinds"`` (error rates of :func:`voicing_errors_by_kind`), ``"styles"`` (style -> frame
    accuracy) and ``"song_frames"`` (:func:`voicing_song_frames`), the same for the validation
    songs under ``"valid"``. The Markdown: the chosen
    settings; a table of the network and the baselines (frame accuracy, voicing recall and false
    alarm per world); the network's error rate per frame kind (and per arrangement); a sentence
    on what transfers (a measure of :data:`TRANSFER_MEASURES` that is at most ``tolerance``
    worse in the second world); with ``aims = (least frame accuracy, most lead-only false
    alarms)``, whether the second world's validation and test songs meet them.
    """
    if len(worlds) != 2:
        raise ValueError(f"worlds must hold two worlds (the detector's own first); got {len(worlds)}")
    rate = {"sample_rate": sample_rate, "hop_length": hop_length}
    scores = {}
    for name, world in worlds.items():
        valid, test = world["valid"], world["test"]
        threshold, median, _ = choose_voicing_settings(valid["references"], valid["probabilities"],
                                                       median_filters=median_filters, **rate)
        decide = {"threshold": threshold, "median_filter": median, **rate}
        scores[name] = {"threshold": threshold, "median_filter": median, **_voicing_scores(test, decide),
                        "valid": _voicing_scores(valid, decide)}
    (own, own_scores), (other, other_scores) = scores.items()
    settings = "Settings chosen on each world's validation songs: " + "; ".join(
        f"{w}, threshold {scores[w]['threshold']:.2f} and a median filter of {scores[w]['median_filter']} frames"
        for w in worlds) + "."
    columns = (("frame accuracy", "Frame Accuracy"), ("voicing recall", "Voicing Recall"),
               ("voicing false alarm", "Voicing False Alarm"))
    header = [f"{label}, {world}" for label, _ in columns for world in worlds]
    lines = ["| detector | " + " | ".join(header) + " |", "|---|" + "---:|" * len(header)]
    rows = {model_name: {w: scores[w]["network"] for w in worlds}}
    for detector in worlds[own]["baselines"]:
        rows[detector] = {w: worlds[w]["baselines"][detector] for w in worlds}
    lines += [f"| {detector} | " + " | ".join(f"{by_world[w][key]:.3f}" for _, key in columns for w in worlds)
              + " |" for detector, by_world in rows.items()]
    kinds = ["| where | " + " | ".join(f"error rate, {w}" for w in worlds) + " |", "|---|---:|---:|"]
    kinds += [f"| {kind} frames ({'missed' if voice else 'false alarms'}) | "
              + " | ".join(_rate(scores[w]["kinds"][kind]) for w in worlds) + " |"
              for kind, (voice, _) in FRAME_KINDS.items()]
    kinds += [f"| songs arranged as: {style} (1 - frame accuracy) | "
              + " | ".join(_rate(1 - scores[w]["styles"][style]) if style in scores[w]["styles"] else "-"
                           for w in worlds) + " |"
              for style in dict.fromkeys(s for w in worlds for s in scores[w]["styles"])]
    holds, fails = [], []
    for label, (part, key), higher in TRANSFER_MEASURES:
        a, b = own_scores[part][key], other_scores[part][key]
        if np.isnan(a) or np.isnan(b):
            continue
        worse = (a - b) if higher else (b - a)
        (fails if worse > tolerance else holds).append(f"{label} ({a:.3f} -> {b:.3f})")
    loud = {w: worlds[w]["baselines"]["energy on the mix"]["Frame Accuracy"] for w in worlds}
    net = {w: scores[w]["network"]["Frame Accuracy"] for w in worlds}
    sentence = (f"Against the energy detector the network's frame accuracy is {net[own] - loud[own]:+.3f} "
                f"{own} and {net[other] - loud[other]:+.3f} {other}. From {own} to {other} "
                f"(a measure transfers when it is at most {tolerance:.2f} worse), what transfers: "
                f"{'; '.join(holds) or 'nothing'}; what does not: {'; '.join(fails) or 'nothing'}.")
    if aims is not None:
        accuracy, lead = aims
        reached = []
        for split, got in (("validation", other_scores["valid"]), ("test", other_scores)):
            a, f = got["network"]["Frame Accuracy"], got["kinds"]["lead only"]
            met = a >= accuracy and not f > lead  # no lead frames: nothing to falsely call voiced
            reached.append(f"{split} songs {a:.3f} and {_rate(f)} ({'met' if met else 'not met'})")
        sentence += (f" The aim {other} is a frame accuracy of at least {accuracy:.2f} with false alarms on "
                     f"at most {lead:.2f} of the frames where only the lead plays: {'; '.join(reached)}.")
    return "\n\n".join([settings, "\n".join(lines), "\n".join(kinds), sentence]), scores


def _voicing_scores(songs: dict, decide: dict) -> dict:
    refs, probs = songs["references"], songs["probabilities"]
    styles = songs.get("styles") or ()
    with warnings.catch_warnings():  # an arrangement without voice has no voiced frame; that is expected
        warnings.filterwarnings("ignore", message=".*no voiced frames", category=UserWarning)
        by_style = {}
        for style in dict.fromkeys(styles):
            chosen = [i for i, s in enumerate(styles) if s == style]
            by_style[style] = evaluate_voicing([refs[i] for i in chosen], [probs[i] for i in chosen],
                                               **decide)["Frame Accuracy"]
        return {"network": evaluate_voicing(refs, probs, **decide),
                "kinds": {kind: value["error_rate"] for kind, value in
                          voicing_errors_by_kind(refs, songs["leads"], probs, **decide).items()},
                "styles": by_style, "song_frames": voicing_song_frames(refs, probs, **decide)}


def _rate(value: float) -> str:
    return "-" if np.isnan(value) else f"{value:.3f}"


def evaluate_keys(references: Sequence[str], estimates: Sequence[str]) -> dict[str, float]:
    """Mean over songs of ``mir_eval.key.evaluate``'s "Weighted Score", and "Correct" (key accuracy).

    The weighted score gives 1 for the right key, 0.5 for a perfect fifth away, 0.3 for the
    relative and 0.2 for the parallel key (MIREX); "Correct" is the fraction of songs whose key
    is exactly right (a weighted score of 1), which mir_eval 0.8 does not report. Tagger chapters.
    """
    _check_lists(references, estimates, what="keys")
    totals: dict[str, float] = {"Correct": 0.0}
    for ref, est in zip(references, estimates):
        scores = mir_eval.key.evaluate(ref, est)
        for key, value in scores.items():
            totals[key] = totals.get(key, 0.0) + value
        totals["Correct"] += float(scores["Weighted Score"] == 1.0)
    return {key: value / len(references) for key, value in totals.items()}


def key_song_scores(references: Sequence[str], estimates: Sequence[str]) -> np.ndarray:
    """``mir_eval.key.weighted_score`` of every song, ``(songs,)``: their mean is :func:`evaluate_keys`'
    "Weighted Score" (tagger chapters, comparison page)."""
    _check_lists(references, estimates, what="keys")
    return np.array([mir_eval.key.weighted_score(ref, est) for ref, est in zip(references, estimates)], dtype=float)


def evaluate_tags(targets, scores, *, tag_names: Sequence[str] | None = None) -> dict:
    """Macro ROC-AUC and PR-AUC (average precision) over tags, with scikit-learn (tagger chapters).

    ``targets``: multi-hot ``(clips, n_tags)``; ``scores``: ``(clips, n_tags)`` probabilities or
    logits. A tag that is always or never present in ``targets`` has no AUC; it is left out of
    the averages and listed under "skipped". Returns ``{"ROC-AUC", "PR-AUC", "per_tag_roc_auc",
    "skipped"}`` (mir_eval has no tagging metric; see the module docstring).
    """
    targets = _as_array(targets, name="targets", ndim=2)
    scores = _as_array(scores, name="scores", ndim=2)
    if targets.shape != scores.shape:
        raise ValueError(f"targets and scores must have the same shape; got {targets.shape} and {scores.shape}")
    if not np.isin(targets, (0.0, 1.0)).all():
        raise ValueError("targets must be multi-hot (0 or 1)")
    names = list(tag_names) if tag_names is not None else [str(i) for i in range(targets.shape[1])]
    if len(names) != targets.shape[1]:
        raise ValueError(f"tag_names has {len(names)} names but there are {targets.shape[1]} tags")
    positives = targets.sum(axis=0)
    usable = (positives > 0) & (positives < len(targets))
    if not usable.any():
        raise ValueError("no tag has both positive and negative clips; AUC is undefined for all tags")
    kept = np.flatnonzero(usable)
    roc = [float(roc_auc_score(targets[:, j], scores[:, j])) for j in kept]
    pr = [float(average_precision_score(targets[:, j], scores[:, j])) for j in kept]
    return {"ROC-AUC": float(np.mean(roc)), "PR-AUC": float(np.mean(pr)),
            "per_tag_roc_auc": {names[j]: value for j, value in zip(kept, roc)},
            "skipped": [n for n, u in zip(names, usable) if not u]}
