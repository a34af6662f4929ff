"""Non-learned and conventional baselines: label checks of the embedded music world, and what
every learned model of the book is set beside.

- :func:`template_chords`: the classic chroma + template-matching chord recogniser (Fujishima
  1999-style): librosa's CQT chroma, cosine similarity with 24 major/minor triad templates and a
  threshold for 'no chord', decoded like the deep chroma model's output. The
  deep chroma chapter (paper Section 5.7.1) uses it as the comparison baseline; a clearly
  above-chance WCSR on the synthetic songs shows the chord labels are right.
- :func:`energy_voicing`: voice activity by thresholding the frame energy of the *isolated*
  vocal stem; on synthetic songs it reproduces the voicing labels, the check that they are
  exact (book: "The data in this book").
- :func:`tagger_baselines` (the three tagger chapters, paper Section 5.7.2): MFCC statistics and
  logistic regression (Section 2.1), tag scores that read no audio (:func:`audio_free_tag_scores`)
  and Krumhansl-Kessler key profiles on chroma (:func:`krumhansl_keys`).

All return mir_eval-ready annotations or scores that ``mirbook.evaluate`` reads.
"""

from __future__ import annotations

from pathlib import Path

import librosa
import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from mirbook.checks import as_waveform_batch, check_frontend, check_sample_rate
from mirbook.data.cache import ArrayCache, default_cache_dir, load_features
from mirbook.data.styles import STYLE_NAMES
from mirbook.evaluate import decode_chords, evaluate_keys, evaluate_tags, key_song_scores
from mirbook.features import MFCC, frame_statistics
from mirbook.frames import merge_frame_labels
from mirbook.representations import Chroma, Frontend, LogCompression, MelSpectrogram
from mirbook.vocab import KEY_LABELS, NO_KEY, chord_templates

__all__ = ["template_chords", "template_similarities", "template_posteriors", "energy_voicing", "KRUMHANSL_KESSLER_MAJOR", "KRUMHANSL_KESSLER_MINOR",
           "LOGISTIC_C_GRID", "key_profiles", "key_correlations", "krumhansl_keys", "clip_features",
           "mfcc_statistics", "logistic_tag_scores", "mfcc_tag_baseline", "audio_free_tag_scores",
           "tagger_baselines", "key_baseline", "baseline_metrics", "baseline_table", "tag_families", "family_table",
           "family_means", "family_metrics", "describe_c_choice", "hardest_tags_sentence"]


def _mono(audio, name: str) -> np.ndarray:
    batch = as_waveform_batch(np.asarray(audio, dtype=np.float32), min_samples=2048, name=name)
    if batch.shape[0] != 1:
        raise ValueError(f"{name} must be one mono signal (samples,); got a batch of {batch.shape[0]}")
    return batch[0].numpy()


def template_chords(audio, sample_rate: int, *, hop_length: int = 2048, no_chord: float = 0.6,
                    sharpness: float = 20.0, smooth: int = 1) -> tuple[np.ndarray, list[str]]:
    """Chord intervals and Harte labels by chroma template matching (deep chroma chapter baseline).

    ``audio``: mono float waveform. Each frame (every ``hop_length`` samples) scores the
    cosine similarity of its CQT chroma (``librosa.feature.chroma_cqt``) with the 24 triads of
    ``mirbook.vocab.chord_templates``; 'N' scores the constant ``no_chord`` (flat chroma, as from drums or
    silence, matches no triad better than about 0.5). A softmax of slope ``sharpness`` turns the
    scores into posteriors, decoded exactly as the deep chroma model's are
    (``mirbook.evaluate.decode_chords`` with ``smooth`` frames), so a comparison isolates the
    features. Returns ``(intervals, labels)``.
    """
    if not 0.0 < no_chord < 1.0:
        raise ValueError(f"no_chord must be a cosine similarity in (0, 1); got {no_chord!r}")
    posteriors = template_posteriors(template_similarities(audio, sample_rate, hop_length=hop_length),
                                     no_chord=no_chord, sharpness=sharpness)
    return decode_chords(posteriors, sample_rate=sample_rate, hop_length=hop_length, smooth=smooth)


def template_similarities(audio, sample_rate: int, *, hop_length: int = 2048) -> np.ndarray:
    """``(25, frames)`` cosine similarity of each frame's CQT chroma with the 24 triad templates.

    Row 0 ('N') is zero: :func:`template_posteriors` puts the 'no chord' constant there. Computed
    once per song, so that ``mirbook.scoring.choose_template_settings`` can try many settings
    (deep chroma chapter).
    """
    y = _mono(audio, "audio")
    sample_rate = check_sample_rate(sample_rate)
    if isinstance(hop_length, bool) or not isinstance(hop_length, int) or hop_length < 1 or hop_length % 32:
        raise ValueError(f"hop_length must be a positive multiple of 32 (CQT octaves); got {hop_length!r}")
    chroma = librosa.feature.chroma_cqt(y=y, sr=sample_rate, hop_length=hop_length)
    chroma = chroma / (np.linalg.norm(chroma, axis=0, keepdims=True) + 1e-9)
    return chord_templates() @ chroma


def template_posteriors(similarities: np.ndarray, *, no_chord: float, sharpness: float) -> np.ndarray:
    """Chord posteriors from :func:`template_similarities`: 'N' scores ``no_chord``, then a softmax
    of slope ``sharpness`` over the 25 classes of every frame."""
    scores = np.array(similarities, dtype=float)
    scores[0] = no_chord
    posteriors = np.exp(sharpness * (scores - scores.max(axis=0, keepdims=True)))
    return posteriors / posteriors.sum(axis=0, keepdims=True)


def energy_voicing(vocal_stem, sample_rate: int, *, hop_length: int = 512, frame_length: int = 512,
                   threshold_db: float = -60.0) -> np.ndarray:
    """Voiced intervals ``(n, 2)`` of an isolated vocal stem: frames louder than ``threshold_db``.

    The frame RMS (``librosa.feature.rms``, centred frames) is compared with the stem's loudest
    frame; frames within ``threshold_db`` dB of it count as voiced. On a mixture this fails
    (everything is loud), which is why the voice chapters learn a detector.
    """
    y = _mono(vocal_stem, "vocal_stem")
    sample_rate = check_sample_rate(sample_rate)
    if not threshold_db < 0:
        raise ValueError(f"threshold_db must be negative (dB below the loudest frame); got {threshold_db!r}")
    rms = librosa.feature.rms(y=y, frame_length=frame_length, hop_length=hop_length)[0]
    peak = rms.max()
    if peak <= 0:
        return np.zeros((0, 2))
    voiced = 20 * np.log10(np.maximum(rms, 1e-12) / peak) > threshold_db
    intervals, labels = merge_frame_labels(list(voiced), sample_rate=sample_rate, hop_length=hop_length)
    return intervals[np.array(labels, dtype=bool)].reshape(-1, 2)


# -- tagger baselines (paper Section 5.7.2: the three tagger chapters) -------------------------

#: Krumhansl & Kessler's (1982) probe-tone ratings of the 12 pitch classes in C major and C minor,
#: index 0 = the tonic: how well each tone fits the key. Rolled by k semitones they profile key k.
KRUMHANSL_KESSLER_MAJOR = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
KRUMHANSL_KESSLER_MINOR = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)

#: Inverse regularisation strengths the MFCC + logistic regression baseline chooses from.
LOGISTIC_C_GRID = (1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0)


def key_profiles() -> np.ndarray:
    """The 24 Krumhansl-Kessler key profiles ``(24, 12)``, rows in ``mirbook.vocab.KEY_LABELS``
    order (12 major keys from C, then 12 minor keys): the C profiles rolled to each tonic."""
    major, minor = np.array(KRUMHANSL_KESSLER_MAJOR), np.array(KRUMHANSL_KESSLER_MINOR)
    return np.stack([np.roll(major, k) for k in range(12)] + [np.roll(minor, k) for k in range(12)])


def key_correlations(chroma) -> np.ndarray:
    """Pearson correlation ``(clips, 24)`` of each clip's 12-d chroma ``(clips, 12)`` with the 24
    Krumhansl-Kessler profiles (:func:`key_profiles`); a flat chroma correlates 0 with every key."""
    chroma = np.asarray(chroma, dtype=np.float64)
    if chroma.ndim == 1:
        chroma = chroma[None]
    if chroma.ndim != 2 or chroma.shape[1] != 12 or chroma.shape[0] == 0:
        raise ValueError(f"chroma must have shape (clips, 12) or (12,); got {chroma.shape}")
    if not np.isfinite(chroma).all():
        raise ValueError("chroma must be finite (no NaN or inf)")
    centred = chroma - chroma.mean(axis=1, keepdims=True)
    profiles = key_profiles()
    profiles = profiles - profiles.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(centred, axis=1, keepdims=True) * np.linalg.norm(profiles, axis=1)
    return np.divide(centred @ profiles.T, norms, out=np.zeros((len(chroma), 24)), where=norms > 0)


def krumhansl_keys(chroma) -> list[str]:
    """The key of each clip by the Krumhansl-Kessler method: the profile that correlates best
    with its mean chroma ``(clips, 12)`` or ``(12,)``. Returns ``mirbook.vocab.KEY_LABELS`` names
    ('C major', 'A minor'), ready for ``mirbook.evaluate.evaluate_keys``. Tagger chapters' key
    baseline; a flat chroma (silence, noise) gives 'C major', the first profile."""
    return [KEY_LABELS[k] for k in key_correlations(chroma).argmax(axis=1)]


def clip_features(clips, frontend, *, cache_dir=None, progress: bool = False) -> torch.Tensor:
    """The clips of a ``TaggedClips`` split seen through another ``frontend``: ``(clips, bins,
    clip_frames)``, the same songs, the same clip positions (the frontend must share the split's
    sample rate and hop length). Computed once per song and cached like the datasets' features
    (``mirbook.data.cache``, keyed by the frontend's settings). Tagger chapters' baselines."""
    check_frontend(frontend)
    if (int(frontend.sample_rate), int(frontend.hop_length)) != (clips.sample_rate, clips.hop_length):
        raise ValueError(f"frontend must have the split's sample_rate {clips.sample_rate} and hop_length "
                         f"{clips.hop_length}; got {int(frontend.sample_rate)} and {int(frontend.hop_length)}")
    cache = ArrayCache(None if cache_dir is False else Path(cache_dir) if cache_dir is not None
                       else default_cache_dir())
    features, _ = load_features(clips.tracks, frontend, cache=cache, cache_songs=clips.source.cache_songs,
                                batch_size=8, progress=progress, desc=f"{clips.split}: baseline features")
    return torch.stack([features[j][:, s: s + clips.clip_frames] for j, s in clips._index])


def _targets(clips) -> np.ndarray:
    return torch.stack([clips[i][1] for i in range(len(clips))]).numpy()


def mfcc_statistics(clips, *, n_mels: int = 128, n_mfcc: int = 20, cache_dir=None) -> np.ndarray:
    """MFCC statistics ``(clips, 2 * n_mfcc)`` of a ``TaggedClips`` split (Section 2.1): the
    means and standard deviations over time of ``n_mfcc`` MFCCs of a decibel mel spectrogram with
    ``n_mels`` bands at the split's frame rate (``mirbook.features``). Tagger chapters."""
    frontend = Frontend(MelSpectrogram(sample_rate=clips.sample_rate, hop_length=clips.hop_length,
                                       n_mels=n_mels), LogCompression(mode="db"))
    log_mel = clip_features(clips, frontend, cache_dir=cache_dir)
    return frame_statistics(MFCC(n_mels=n_mels, n_mfcc=n_mfcc)(log_mel)).numpy()


def logistic_tag_scores(train_features, train_targets, test_features, *, C: float) -> np.ndarray:
    """One-vs-rest logistic regression (scikit-learn, standardised features, L2 penalty of
    inverse strength ``C``) fitted on the training clips; tag probabilities of the test clips.
    A tag that is constant in training scores its constant. Tagger chapters' MFCC baseline."""
    train_targets = np.asarray(train_targets)
    scores = np.empty((len(test_features), train_targets.shape[1]))
    with threadpool_limits(1):  # small problems: extra BLAS threads only contend for the cores
        for j in range(train_targets.shape[1]):
            _fit_one(train_features, train_targets[:, j], test_features, C, scores[:, j])
    return scores


def _fit_one(train_features, y, test_features, C, out) -> None:
    if y.min() == y.max():
        out[:] = y[0]
        return
    classifier = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=5000))
    out[:] = classifier.fit(train_features, y).predict_proba(test_features)[:, 1]


def mfcc_tag_baseline(train, valid, test, *, grid=LOGISTIC_C_GRID, cache_dir=None) -> dict:
    """The conventional tagger of Section 2.1 / Figure 2 (a) on ``TaggedClips`` splits: MFCC
    statistics (:func:`mfcc_statistics`) and :func:`logistic_tag_scores`, ``C`` chosen from
    ``grid`` by the macro ROC-AUC on ``valid``. Returns ``{"scores"`` (test clips, tags),
    ``"C"``, ``"valid_roc_auc"`` (one per grid value), ``"at_edge"`` (the choice is the smallest
    or largest value of the grid)``}``. Tagger chapters."""
    grid = sorted(float(c) for c in grid)
    if not grid or grid[0] <= 0:
        raise ValueError(f"grid must hold positive values of C; got {grid!r}")
    x = {name: mfcc_statistics(split, cache_dir=cache_dir)
         for name, split in (("train", train), ("valid", valid), ("test", test))}
    y_train, y_valid = _targets(train), _targets(valid)
    valid_auc = [evaluate_tags(y_valid, logistic_tag_scores(x["train"], y_train, x["valid"], C=c))["ROC-AUC"]
                 for c in grid]
    best = int(np.argmax(valid_auc))
    return {"scores": logistic_tag_scores(x["train"], y_train, x["test"], C=grid[best]), "C": grid[best],
            "grid": grid, "valid_roc_auc": valid_auc, "at_edge": best in (0, len(grid) - 1)}


def audio_free_tag_scores(train_targets, test_targets, tag_names, *, given, prior: float = 1.0) -> np.ndarray:
    """Tag scores that use no audio: P(tag | the ``given`` tags' values), counted on the training
    clips' labels and looked up with each test clip's *true* values of the ``given`` tags.

    ``given``: tag names whose labels the scorer may read, e.g. the style tags plus 'vocal' and
    'major' for P(tag | style, vocal, mode). Each combination of their values is a cell; a
    cell's estimate is ``(positives + prior * p) / (clips + prior)`` with ``p`` the tag's rate over
    all training clips, so a cell no training clip fell into scores the overall rate. It shows how
    much of a macro ROC-AUC the world's correlations between tags explain (tagger chapters).
    """
    names = list(tag_names)
    unknown = [t for t in given if t not in names]
    if unknown or not given:
        raise ValueError(f"given must name tags of {names}; got {list(given)!r}")
    train_targets, test_targets = np.asarray(train_targets, float), np.asarray(test_targets, float)
    columns = [names.index(t) for t in given]
    rate = train_targets.mean(axis=0)
    cells: dict[tuple, list[int]] = {}
    for i, row in enumerate(train_targets[:, columns]):
        cells.setdefault(tuple(row), []).append(i)
    scores = np.empty(test_targets.shape)
    for i, row in enumerate(test_targets[:, columns]):
        members = cells.get(tuple(row), [])
        scores[i] = (train_targets[members].sum(axis=0) + prior * rate) / (len(members) + prior)
    return scores


def tagger_baselines(train, valid, test, *, cache_dir=None) -> dict:
    """Every baseline of the tagger chapters on the ``test`` clips, each next to what a tagger
    reports (``mirbook.scoring.score_tagger``):

    - ``"mfcc"``: :func:`mfcc_tag_baseline`, with its "ROC-AUC" and "PR-AUC";
    - ``"audio_free"`` and ``"style_only"``: :func:`audio_free_tag_scores` given (style, vocal,
      mode) and the style alone (only when the tags name styles, vocal and major: the synthetic world);
    - ``"key"``: :func:`key_baseline` (Krumhansl-Kessler profiles on each clip's mean chroma;
      only when some clip has a key annotation).
    """
    result = {"mfcc": mfcc_tag_baseline(train, valid, test, cache_dir=cache_dir)}
    targets = _targets(test)
    result["mfcc"].update(evaluate_tags(targets, result["mfcc"]["scores"], tag_names=test.tag_names))
    if set(STYLE_NAMES) | {"vocal", "major"} <= set(test.tag_names):
        for name, given in (("audio_free", (*STYLE_NAMES, "vocal", "major")), ("style_only", STYLE_NAMES)):
            scores = audio_free_tag_scores(_targets(train), targets, test.tag_names, given=given)
            result[name] = {"scores": scores, "given": given,
                            **evaluate_tags(targets, scores, tag_names=test.tag_names)}
    key = key_baseline(test, cache_dir=cache_dir)
    if key is not None:
        result["key"] = key
    return result


def key_baseline(clips, *, cache_dir=None) -> dict | None:
    """:func:`krumhansl_keys` on the mean ``mirbook.representations.Chroma`` of each clip of a
    ``TaggedClips`` split that has a key annotation, scored by ``evaluate_keys``: ``{"estimates",
    "scores", "Weighted Score", "Correct", ...}`` ("scores": each clip's weighted score), or None when no clip has a key (tagger chapters, in the
    world and on the out-of-world pieces)."""
    keys = np.array([int(clips[i][2]) for i in range(len(clips))])
    known = keys != NO_KEY
    if not known.any():
        return None
    chroma = clip_features(clips, Chroma(sample_rate=clips.sample_rate, hop_length=clips.hop_length),
                           cache_dir=cache_dir).mean(dim=2).numpy()
    estimates = krumhansl_keys(chroma[known])
    references = [KEY_LABELS[k] for k in keys[known]]
    return {"estimates": estimates, "scores": key_song_scores(references, estimates),
            **evaluate_keys(references, estimates)}


def baseline_metrics(baselines: dict) -> dict[str, float]:
    """The baselines' entries of a tagger chapter's ``RESULTS["metrics"]``:
    ``baseline_roc_auc_macro`` (MFCC + logistic regression), ``audio_free_roc_auc_macro`` and
    ``baseline_key_weighted`` (Krumhansl-Kessler), where the data allowed them."""
    metrics = {"baseline_roc_auc_macro": float(baselines["mfcc"]["ROC-AUC"])}
    if "audio_free" in baselines:
        metrics["audio_free_roc_auc_macro"] = float(baselines["audio_free"]["ROC-AUC"])
    if "key" in baselines:
        metrics["baseline_key_weighted"] = float(baselines["key"]["Weighted Score"])
    return metrics


def baseline_table(model_name: str, model_result: dict, baselines: dict) -> str:
    """A Markdown table of a tagger (``score_tagger``'s result) beside :func:`tagger_baselines`'
    on the same test clips: macro ROC-AUC, PR-AUC and the key's weighted score, three decimals."""
    def cell(value):
        return "—" if value is None else f"{value:.3f}"

    rows = [(model_name, model_result["ROC-AUC"], model_result["PR-AUC"], model_result.get("Key Weighted Score")),
            (f"MFCC statistics + logistic regression (C = {baselines['mfcc']['C']:g})",
             baselines["mfcc"]["ROC-AUC"], baselines["mfcc"]["PR-AUC"], None)]
    if "audio_free" in baselines:
        rows += [("no audio: P(tag \\| style, vocal, mode)", baselines["audio_free"]["ROC-AUC"],
                  baselines["audio_free"]["PR-AUC"], None),
                 ("no audio: P(tag \\| style)", baselines["style_only"]["ROC-AUC"],
                  baselines["style_only"]["PR-AUC"], None)]
    if "key" in baselines:
        rows.append(("Krumhansl-Kessler profiles on mean CQT chroma", None, None,
                     baselines["key"]["Weighted Score"]))
    lines = ["| method | macro ROC-AUC | macro PR-AUC | key weighted score |", "|---|---:|---:|---:|"]
    lines += [f"| {name} | {cell(roc)} | {cell(pr)} | {cell(key)} |" for name, roc, pr, key in rows]
    return "\n".join(lines)


def tag_families(tag_names) -> dict[str, list[str]]:
    """The synthetic world's tags by family: style, instruments, vocal, mode, tempo (the
    instruments are every tag of no other family). Empty for a vocabulary without the styles,
    'vocal', 'major' and the three tempo classes (real datasets). Tagger chapters."""
    names = list(tag_names)
    families = {"style": list(STYLE_NAMES), "vocal": ["vocal"], "mode": ["major"],
                "tempo": ["slow", "medium", "fast"]}
    if not all(t in names for tags in families.values() for t in tags):
        return {}
    named = {t for tags in families.values() for t in tags}
    return {"style": families["style"], "instruments": [t for t in names if t not in named],
            **{k: families[k] for k in ("vocal", "mode", "tempo")}}


def family_table(model_name: str, model_result: dict, baselines: dict) -> str:
    """A Markdown table of the mean per-tag ROC-AUC in each tag family (:func:`tag_families`) of
    a tagger and of :func:`tagger_baselines`' tag scorers on the same test clips (tags without
    an AUC, absent or present on every clip, are left out). Empty string without families."""
    per_tag = model_result["per_tag_roc_auc"]
    families = tag_families(list(per_tag) + list(model_result.get("skipped", [])))
    if not families:
        return ""
    methods = [(model_name, per_tag), ("MFCC + logistic regression", baselines["mfcc"]["per_tag_roc_auc"])]
    if "audio_free" in baselines:
        methods += [("no audio: style, vocal, mode", baselines["audio_free"]["per_tag_roc_auc"]),
                    ("no audio: style", baselines["style_only"]["per_tag_roc_auc"])]
    means = [family_means(scores, families) for _, scores in methods]
    lines = ["| tag family | " + " | ".join(name for name, _ in methods) + " |",
             "|---|" + "---:|" * len(methods)]
    for family, tags in families.items():
        cells = ["—" if m[family] is None else f"{m[family]:.3f}" for m in means]
        lines.append(f"| {family} ({', '.join(tags)}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def family_means(per_tag: dict, families: dict) -> dict:
    """The mean of ``per_tag`` values (a tag -> ROC-AUC dict) over each family's tags that have
    one, or None where none has (tagger chapters: :func:`family_table`, :func:`family_metrics`)."""
    means = {}
    for family, tags in families.items():
        values = [per_tag[t] for t in tags if t in per_tag]
        means[family] = float(np.mean(values)) if values else None
    return means


def family_metrics(model_result: dict, baselines: dict) -> dict[str, float]:
    """The tag-family entries of a tagger chapter's ``RESULTS["metrics"]``: ``roc_auc_<family>``,
    the mean per-tag ROC-AUC of each family of :func:`tag_families` (``roc_auc_instruments``...),
    and ``audio_free_roc_auc_<family>``, the same for the no-audio scorer P(tag | style, vocal,
    mode) where :func:`tagger_baselines` computed it. Empty for a vocabulary without families."""
    per_tag = model_result["per_tag_roc_auc"]
    families = tag_families(list(per_tag) + list(model_result.get("skipped", [])))
    scorers = [("roc_auc", per_tag)]
    if "audio_free" in baselines:
        scorers.append(("audio_free_roc_auc", baselines["audio_free"]["per_tag_roc_auc"]))
    return {f"{prefix}_{family}": mean for prefix, scores in scorers
            for family, mean in family_means(scores, families).items() if mean is not None}


def describe_c_choice(baselines: dict) -> str:
    """One sentence on the MFCC baseline's choice of ``C`` on the validation clips: the value,
    its validation ROC-AUC and whether it lies at an edge of the grid. Tagger chapters."""
    mfcc = baselines["mfcc"]
    best = mfcc["grid"].index(mfcc["C"])
    where = ("at an edge of the grid: a wider grid might do better" if mfcc["at_edge"]
             else "inside the grid, not at an edge")
    return (f"The logistic regression's C = {mfcc['C']:g} was chosen on the validation clips (macro ROC-AUC "
            f"{mfcc['valid_roc_auc'][best]:.3f}, against {min(mfcc['valid_roc_auc']):.3f} to "
            f"{max(mfcc['valid_roc_auc']):.3f} over C = {mfcc['grid'][0]:g} to {mfcc['grid'][-1]:g}); it lies {where}.")


def hardest_tags_sentence(model_result: dict, n: int = 3) -> str:
    """One sentence naming a tagger's ``n`` easiest and ``n`` hardest tags by test ROC-AUC
    (``score_tagger``'s "per_tag_roc_auc"), with their values. Tagger chapters."""
    ranked = sorted(model_result["per_tag_roc_auc"].items(), key=lambda item: item[1])

    def names(items):
        return ", ".join(f"{tag} ({value:.3f})" for tag, value in items)

    return (f"On these test clips the hardest tags are {names(ranked[:n])}; the easiest "
            f"{names(ranked[::-1][:n])}.")
