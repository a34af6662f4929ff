"""Transposition augmentation (Section 5.1: data preprocessing): the audio and its labels move together.

On a CQT a transposition is a shift along the bins (Section 3.2, Eq. 4); chords, chroma and
keys move by the same number of semitones. Used by the models whose ``transpose`` option is set
(deep chroma and tagger chapters).
"""

from __future__ import annotations

import torch

from mirbook.vocab import IGNORE_CHORD, NO_KEY

__all__ = ["transpose_labels", "transpose_spectrogram"]


def transpose_spectrogram(x: torch.Tensor, semitones: torch.Tensor, *, bins_per_semitone: int) -> torch.Tensor:
    """Move each example of a log-frequency batch ``(batch, bins, frames)`` up by ``semitones[b]``.

    Bin ``f`` of the result is bin ``f - bins_per_semitone * semitones[b]`` of the input; bins
    shifted in from outside are filled with the example's smallest value (silence on a log scale).
    """
    batch, bins, frames = x.shape
    source = torch.arange(bins, device=x.device)[None, :] - bins_per_semitone * semitones.to(x.device)[:, None]
    inside = (source >= 0) & (source < bins)
    shifted = x.gather(1, source.clamp(0, bins - 1)[:, :, None].expand(batch, bins, frames))
    return torch.where(inside[:, :, None], shifted, x.amin(dim=(1, 2), keepdim=True))


def transpose_labels(semitones: torch.Tensor, *, chroma: torch.Tensor | None = None, chords: torch.Tensor | None = None,
                     keys: torch.Tensor | None = None) -> list[torch.Tensor]:
    """Transpose targets with the audio: chroma ``(batch, 12)`` rolled, chord (``CHORD_LABELS``)
    and key (``KEY_LABELS``) indices moved by ``semitones[b]``; 'N', ignored chords
    (``IGNORE_CHORD``) and unknown keys (``NO_KEY``) stay."""
    out = []
    if chroma is not None:
        source = (torch.arange(12, device=chroma.device)[None, :] - semitones[:, None]) % 12
        out.append(chroma.gather(1, source))
    if chords is not None:
        root, minor = (chords - 1) % 12, (chords > 12).long()
        stay = (chords == 0) | (chords == IGNORE_CHORD)
        out.append(torch.where(stay, chords, 1 + 12 * minor + (root + semitones) % 12))
    if keys is not None:
        moved = 12 * (keys // 12) + (keys % 12 + semitones) % 12
        out.append(torch.where(keys == NO_KEY, keys, moved))
    return out
