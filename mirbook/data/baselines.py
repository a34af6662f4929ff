"""Two non-learned baselines that check the labels of the embedded music world are learnable.

- :func:`template_chords`: the classic chroma + template-matching chord recogniser (Fujishima
  1999-style): librosa's CQT chroma, cosine similarity with 24 major/minor triad templates and a
  threshold for 'no chord', decoded like the deep chroma model's output. The
  deep chroma chapter (paper Section 5.7.1) uses it as the comparison baseline; a clearly
  above-chance WCSR on the synthetic songs shows the chord labels are right.
- :func:`energy_voicing`: voice activity by thresholding the frame energy of the *isolated*
  vocal stem; on synthetic songs it reproduces the voicing labels, the check that they are
  exact (book: "The data in this book").

Both return mir_eval-ready annotations.
"""

from __future__ import annotations

import librosa
import numpy as np

from mirbook.checks import as_waveform_batch, check_sample_rate
from mirbook.evaluate import decode_chords
from mirbook.frames import merge_frame_labels
from mirbook.vocab import chord_templates

__all__ = ["template_chords", "energy_voicing"]


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
    y = _mono(audio, "audio")
    sample_rate = check_sample_rate(sample_rate)
    if not 0.0 < no_chord < 1.0:
        raise ValueError(f"no_chord must be a cosine similarity in (0, 1); got {no_chord!r}")
    if isinstance(hop_length, bool) or not isinstance(hop_length, int) or hop_length < 1 or hop_length % 32:
        raise ValueError(f"hop_length must be a positive multiple of 32 (CQT octaves); got {hop_length!r}")
    chroma = librosa.feature.chroma_cqt(y=y, sr=sample_rate, hop_length=hop_length)
    chroma = chroma / (np.linalg.norm(chroma, axis=0, keepdims=True) + 1e-9)
    scores = chord_templates() @ chroma
    scores[0] = no_chord
    posteriors = np.exp(sharpness * (scores - scores.max(axis=0, keepdims=True)))
    posteriors /= posteriors.sum(axis=0, keepdims=True)
    return decode_chords(posteriors, sample_rate=sample_rate, hop_length=hop_length, smooth=smooth)


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
