"""Input checks at mirbook's edges (DESIGN: "Inputs are checked at the edges").

Every public entry point that takes audio or a sample rate calls these, so a bad input fails
early with a ValueError that says what was expected and what came, never later with a cryptic
shape error deep inside a layer.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["as_waveform_batch", "check_sample_rate", "check_finite", "within_amplitude", "MAX_AMPLITUDE",
           "check_positive_int", "check_choice", "check_intervals", "FRONTEND_ATTRIBUTES", "check_frontend"]


#: The largest magnitude accepted in audio. Audio is expected in [-1, 1] (integer PCM read as
#: floats reaches 2**31); beyond this, squared STFT or CQT magnitudes overflow float32.
MAX_AMPLITUDE = 1e12


def within_amplitude(x: torch.Tensor, limit: float = MAX_AMPLITUDE) -> bool:
    """Whether every value of ``x`` is finite and at most ``limit`` in magnitude (one pass)."""
    if x.numel() == 0:
        return True
    low, high = torch.aminmax(x.detach())
    return float(low) >= -limit and float(high) <= limit  # as Python floats (a float16 limit is inf); NaN fails


def check_finite(x: torch.Tensor, *, name: str = "input", max_amplitude: float | None = None) -> None:
    """Raise ValueError if ``x`` holds NaN or infinite values (or, for audio, values beyond ``max_amplitude``)."""
    if max_amplitude is not None:
        if within_amplitude(x, max_amplitude):  # one pass; NaN and inf fail it
            return
    elif bool(torch.isfinite(x.sum())):  # NaN and inf propagate through a sum
        return
    if not torch.isfinite(x).all():
        n_bad = int((~torch.isfinite(x)).sum())
        raise ValueError(f"{name} must be finite; it holds {n_bad} NaN or infinite values")
    if max_amplitude is not None:
        peak = float(x.detach().abs().max())
        raise ValueError(
            f"{name} must be audio of magnitude at most {max_amplitude:.0e} (float32 powers overflow beyond); "
            f"it reaches {peak:.3g}. Scale it into [-1, 1], e.g. x / abs(x).max()")


_MAX_CHANNELS = 8  # (n, c) with c at most this and n much larger reads as soundfile's channels-last audio


def as_waveform_batch(
    waveform: torch.Tensor | np.ndarray, *, min_samples: int = 1, name: str = "waveform", finite: bool = True
) -> torch.Tensor:
    """Return ``waveform`` as a float ``(batch, samples)`` tensor, checking it on the way.

    A 1-D input becomes a batch of one. Stereo or other 3-D input is refused, and so is a
    ``(samples, channels)`` array as soundfile reads it (a few columns, many rows): down-mix it
    explicitly, so no channel is averaged by surprise. NaN, inf and magnitudes above
    :data:`MAX_AMPLITUDE` are refused (:func:`check_finite`); ``finite=False`` leaves that test to
    the caller (the CQT runs it on its first decimated signal, a quarter of the samples, which
    every input sample reaches).
    Used by ``mirbook.representations`` (book: "MIR problems and audio representations").
    """
    if isinstance(waveform, np.ndarray):
        if waveform.dtype.kind not in "biufc":
            raise ValueError(f"{name} must be a numeric array (float32 audio in [-1, 1]); got dtype {waveform.dtype}")
        waveform = torch.from_numpy(np.asarray(waveform, order="C"))  # keeps a 0-d array 0-d
    if not isinstance(waveform, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor or numpy array; got {type(waveform).__name__}")
    if not waveform.is_floating_point():
        raise ValueError(
            f"{name} must be floating point (float32 audio in [-1, 1]); got dtype {waveform.dtype}. "
            "Convert integer PCM with x.float() / 32768."
        )
    if waveform.dim() == 1:
        waveform = waveform.unsqueeze(0)
    if waveform.dim() != 2:
        raise ValueError(
            f"{name} must be mono with shape (samples,) or (batch, samples); got shape "
            f"{tuple(waveform.shape)}. Down-mix stereo explicitly, e.g. x.mean(dim=-2)."
        )
    if 0 < waveform.shape[1] <= _MAX_CHANNELS and waveform.shape[0] > 16 * waveform.shape[1]:
        raise ValueError(
            f"{name} of shape {tuple(waveform.shape)} looks like (samples, channels) stereo: down-mix with "
            "x.mean(axis=1); mirbook reads mono (samples,) or (batch, samples)"
        )
    if waveform.shape[0] == 0:
        raise ValueError(f"{name} is an empty batch (shape {tuple(waveform.shape)})")
    if waveform.shape[-1] < min_samples:
        raise ValueError(
            f"{name} is too short: {waveform.shape[-1]} samples, at least {min_samples} expected"
        )
    if finite:
        check_finite(waveform, name=name, max_amplitude=MAX_AMPLITUDE)
    return waveform


def check_sample_rate(sample_rate: int, *, expected: int | None = None, name: str = "sample_rate") -> int:
    """Return ``sample_rate`` as int after checking it is positive (and equal to ``expected``)."""
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) or sample_rate <= 0:
        raise ValueError(f"{name} must be a positive integer in Hz; got {sample_rate!r}")
    if expected is not None and int(sample_rate) != int(expected):
        raise ValueError(
            f"{name} must be {expected} Hz for this module; got {sample_rate} Hz. "
            "Resample first, e.g. torchaudio.functional.resample(x, sr, "
            f"{expected})."
        )
    return int(sample_rate)


def check_positive_int(value, name: str) -> int:
    """Return ``value`` as int after checking it is a positive integer (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive int; got {value!r}")
    return int(value)


def check_choice(value, name: str, choices: tuple):
    """Return ``value`` after checking it is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}; got {value!r}")
    return value


def check_intervals(intervals, *, name: str = "intervals", positive: bool = False) -> np.ndarray:
    """Return ``intervals`` as a float ``(n, 2)`` array of finite times in seconds, each ending at or after its start.

    An empty input gives ``(0, 2)``. ``positive=True`` asks what ``mir_eval`` asks of annotations:
    times at or after 0 and every interval strictly longer than zero.
    """
    if isinstance(intervals, torch.Tensor):
        intervals = intervals.detach().cpu().numpy()
    try:
        array = np.asarray(intervals, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be numbers in seconds, shape (n, 2); got {intervals!r:.80}") from err
    if array.size == 0:
        return array.reshape(0, 2)
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(f"{name} must have shape (n, 2) (start, end in seconds); got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite times in seconds; they hold NaN or infinite values")
    shorter = array[:, 1] <= array[:, 0] if positive else array[:, 1] < array[:, 0]
    if shorter.any():
        i = int(np.flatnonzero(shorter)[0])
        raise ValueError(f"{name} must each end {'after' if positive else 'at or after'} their start; "
                         f"interval {i} is {array[i].tolist()}")
    if positive and (array < 0).any():
        raise ValueError(f"{name} must be times at or after 0 s; the earliest is {array.min()}")
    return array


#: What every frontend (a ``mirbook.representations`` module or ``Frontend``) exposes: datasets,
#: models and ``mirbook.predict`` read the frame rate and the number of bins from these.
FRONTEND_ATTRIBUTES = ("sample_rate", "hop_length", "n_bins")


def check_frontend(frontend, *, like=None, name: str = "frontend"):
    """Return ``frontend`` after checking the frontend contract (Section 5.1's input stage).

    It must be an ``nn.Module`` with positive int ``sample_rate``, ``hop_length`` and ``n_bins``;
    with ``like`` (a model, or another frontend) those three must equal ``like``'s.
    """
    if frontend is None:
        raise ValueError(
            f"{name} is required: pass e.g. frontend=model.frontend() or "
            "mirbook.representations.Frontend(CQT(...), LogCompression())")
    if not isinstance(frontend, torch.nn.Module):
        raise ValueError(f"{name} must be a torch.nn.Module; got {type(frontend).__name__}")
    for attribute in FRONTEND_ATTRIBUTES:
        value = getattr(frontend, attribute, None)
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(f"{name} must have a positive int attribute {attribute!r} (the frontend contract of "
                             f"mirbook.representations); {type(frontend).__name__} has {attribute}={value!r}")
    if like is not None:
        ours = {a: int(getattr(frontend, a)) for a in FRONTEND_ATTRIBUTES}
        theirs = {a: int(getattr(like, a)) for a in FRONTEND_ATTRIBUTES}
        if ours != theirs:
            raise ValueError(f"{name} gives {ours}; {type(like).__name__} expects {theirs} "
                             "(use the model's own frontend(), or one with the same settings)")
    return frontend
