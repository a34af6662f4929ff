"""The engines behind mirbook.representations: the CQT's plans, layouts and in-place paths
(mirbook.cqt_engine) and the compiled loops (mirbook.spectral_sums) agree with the plain
computations they replace. Parity with librosa is tested in test_representations.py."""

from __future__ import annotations

import copy
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from test_representations import EXACT, SIGNALS, default, edge_frames

from mirbook import cqt_engine, spectral_sums
from mirbook.representations import CQT, STFT, Chroma, MelSpectrogram


def unfolded_products(x: torch.Tensor, weight: torch.Tensor, *, hop: int, left_pad: int, n_frames: int) -> torch.Tensor:
    """The plain computation: zero-pad each clip, copy out every frame, multiply."""
    n_taps = weight.shape[0]
    right = max(0, (n_frames - 1) * hop + n_taps - left_pad - x.shape[1])
    padded = torch.nn.functional.pad(x, (left_pad, right))
    return padded.unfold(-1, n_taps, hop)[:, :n_frames] @ weight


@pytest.mark.parametrize("n_samples", [100, 1000, 5000])
def test_clip_and_frame_products_equal_copied_frames(n_samples):
    """Both strided products (clips read in place; a flat batch with zero gaps) give every frame's
    product, also for clips shorter than a frame and frames that reach past either end."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(3, n_samples, dtype=torch.float64, generator=generator)
    weight = torch.randn(700, 6, dtype=torch.float64, generator=generator)
    hop, left_pad = 256, 350
    m = 4  # 700 taps over a hop of 256: frames 4 hops apart do not overlap
    n_frames = m * -(-(1 + n_samples // hop) // m)
    expected = unfolded_products(x, weight, hop=hop, left_pad=left_pad, n_frames=n_frames)
    clips = cqt_engine.clip_products(x, weight, hop=hop, left_pad=left_pad, n_frames=n_frames)
    torch.testing.assert_close(clips.reshape(3, n_frames, 6), expected)
    # each segment leaves room after its clip for the last frame's reach
    segment, margin = m * hop * -(-(n_samples + 700 + hop) // (m * hop)), 1024
    flat = cqt_engine.flat_batch(x, segment=segment, margin=margin)
    frames = cqt_engine.frame_products(flat, weight, batch=3, segment=segment, margin=margin, hop=hop, left_pad=left_pad)
    torch.testing.assert_close(frames.reshape(3, segment // hop, 6)[:, :n_frames], expected)


def test_decimation_lowpass_keeps_the_band_and_stops_aliases():
    """Unit gain at DC and where the kernels read, about -120 dB where aliases would land."""
    fir = cqt_engine.decimation_lowpass(2, 0.1)
    assert len(fir) % 2 == 1
    response = np.abs(np.fft.rfft(fir, 1 << 16))
    frequency = np.fft.rfftfreq(1 << 16)
    assert np.abs(response[frequency <= 0.1] - 1).max() < 1e-4
    assert response[frequency >= 0.4].max() < 1e-5


@pytest.mark.parametrize("n_samples", [600, 3000, 16384])
def test_autograd_and_inference_paths_agree(n_samples):
    """Without autograd the CQT reads the clips in place (frames at the clip ends from padded
    copies; a clip shorter than a frame or two is all ends) and writes decimated signals in
    place; with autograd it lays the batch out with zero gaps first. Both paths agree."""
    y = torch.from_numpy(np.stack([SIGNALS["chords"][:n_samples], SIGNALS["noise"][:n_samples]]))
    for module in map(default, (CQT, Chroma)):
        with torch.no_grad():
            inference = module(y)
        with_graph = module(y.clone().requires_grad_(True))
        assert with_graph.requires_grad
        torch.testing.assert_close(with_graph.detach(), inference, rtol=1e-5, atol=1e-6)
        # float64 takes torch's operations where float32 takes the compiled loops (mirbook.spectral_sums)
        with torch.no_grad():
            double = copy.deepcopy(module).double()(y.double())
        assert double.dtype == torch.float64
        torch.testing.assert_close(double.float(), inference, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("position", [0, 7000, -1])
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")], ids=["nan", "inf", "-inf"])
def test_cqt_finds_a_single_bad_sample_anywhere(position, bad):
    """The CQT tests finiteness on its first decimated signal, not on the input: one bad sample
    at either end or inside any clip of a batch must still be refused, with or without autograd."""
    y = torch.from_numpy(np.stack([SIGNALS["chords"], SIGNALS["noise"][: len(SIGNALS["chords"])]]))
    y[1, position] = bad
    for module in map(default, (CQT, Chroma)):
        with pytest.raises(ValueError, match="1 NaN or infinite"), torch.no_grad():
            module(y)
        with pytest.raises(ValueError, match="1 NaN or infinite"):
            module(y.clone().requires_grad_(True))


def test_audio_at_the_amplitude_limit_is_not_mistaken_for_nan():
    """Finite audio as loud as ``checks.MAX_AMPLITUDE`` passes the check on the decimated signal
    and gives a finite CQT; louder audio is refused, as its powers would overflow float32."""
    y = torch.full((1, 8192), 1e12)
    with torch.no_grad():
        out = default(CQT)(y)
        assert out.shape == (1, 84, 17) and torch.isfinite(out).all()
        with pytest.raises(ValueError, match="magnitude at most"):
            default(CQT)(torch.full((1, 8192), 3e38))


@pytest.mark.parametrize("threads", [1, 3])
def test_mel_band_sums_and_band_groups_equal_the_dense_product(monkeypatch, threads):
    """Both ways of skipping the filter bank's zeros equal the full filter bank times the power
    spectrogram: the compiled band sums (CPU, float32, no autograd; its frames split over
    ``threads`` threads) and the products over each band group's bins (autograd; float64), also
    with empty filters (many bands, short n_fft), a magnitude input and another power."""
    x = torch.from_numpy(np.stack([SIGNALS["noise"], SIGNALS["chirp"][: len(SIGNALS["noise"])]]))
    options = (dict(), dict(n_mels=256, n_fft=512, hop_length=128), dict(power=1.0, n_mels=40),
               dict(power=1.5, pad_mode="reflect"))
    # the thread policy would run inputs this short on one thread: let them have ``threads``
    monkeypatch.setattr(spectral_sums, "THREADED_MIN_SAMPLES", 0)
    monkeypatch.setattr(spectral_sums, "free_cores", lambda: threads)
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        for option in options:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torchaudio warns about the empty filters
                mel = MelSpectrogram(**option)
            stft = STFT(n_fft=mel.stft.n_fft, hop_length=mel.hop_length, power=mel.stft.power, pad_mode=mel.stft.pad_mode)
            with torch.no_grad():
                dense = mel.filterbank @ stft(x)
                band_sums = mel(x)
            with_graph = mel(x.clone().requires_grad_(True))
            assert with_graph.requires_grad and band_sums.shape == with_graph.shape == dense.shape
            for ours in (band_sums, with_graph.detach()):
                assert (ours - dense).abs().max() <= EXACT * dense.max()
            with torch.no_grad():
                double = mel.double()(x.double())
            assert double.dtype == torch.float64
            assert (double - dense).abs().max() <= EXACT * dense.max()
    finally:
        torch.set_num_threads(previous)


def test_cqt_and_chroma_give_the_same_in_chunks_of_clips(monkeypatch):
    """Long batches go through the CQT a few clips at a time; forcing one clip per chunk changes nothing."""
    n = min(len(v) for v in SIGNALS.values())
    y = torch.from_numpy(np.stack([SIGNALS["chords"][:n], SIGNALS["noise"][:n], SIGNALS["chirp"][:n]]))
    for module in map(default, (CQT, Chroma)):
        with torch.no_grad():
            whole = module(y)
            monkeypatch.setattr(cqt_engine, "CHUNK_SAMPLES", 1)
            chunked = module(y)
            monkeypatch.undo()
        torch.testing.assert_close(chunked, whole)


@pytest.mark.parametrize(
    "options", [dict(), dict(hop_length=2048, f_min=65.4, n_bins=144, bins_per_octave=24)], ids=["default", "24bpo"]
)
def test_cqt_decimation_plans_agree(monkeypatch, options):
    """The CQT may compute an octave at the rate of the one above (its kernels taken to that rate
    through the anti-alias filter) instead of halving once more: the same transform as librosa's
    plan to float32 rounding, except near the clip ends, where librosa's resampler cuts each
    decimated signal."""
    n = min(len(v) for v in SIGNALS.values())
    y = torch.from_numpy(np.stack([SIGNALS["chords"][:n], SIGNALS["noise"][:n], SIGNALS["chirp"][:n]]))
    chosen = CQT(**options)
    plans = cqt_engine.candidate_levels
    monkeypatch.setattr(cqt_engine, "candidate_levels", lambda *args: plans(*args)[:1])
    librosa_plan = CQT(**options)
    assert chosen._plan.levels != librosa_plan._plan.levels  # two different computations are compared
    with torch.no_grad():
        ours, reference = chosen(y), librosa_plan(y)
    scale, edges = reference.abs().max(), edge_frames(chosen)
    assert (ours - reference)[..., edges:-edges].abs().max() <= 1e-5 * scale
    assert (ours - reference).abs().max() <= 1e-3 * scale


@pytest.fixture
def three_threads():
    """torch on three threads for the test (the module runs on one), restored after."""
    previous = torch.get_num_threads()
    torch.set_num_threads(3)
    yield
    torch.set_num_threads(previous)


def spy_threads(monkeypatch) -> list[int]:
    """torch's thread count at every FFT of the STFT, every compiled loop's call and the CQT's
    final square root, in order."""
    seen: list[int] = []

    def counting(function):
        def call(*args, **kwargs):
            seen.append(torch.get_num_threads())
            return function(*args, **kwargs)
        return call

    monkeypatch.setattr(torch.fft, "rfft", counting(torch.fft.rfft))
    monkeypatch.setattr(spectral_sums, "_in_threads", counting(spectral_sums._in_threads))
    monkeypatch.setattr(torch.Tensor, "sqrt_", counting(torch.Tensor.sqrt_))
    return seen


@pytest.mark.parametrize("cls", [STFT, MelSpectrogram, CQT, Chroma], ids=["stft", "mel", "cqt", "chroma"])
def test_a_short_input_runs_on_one_thread_with_one_thread_values(monkeypatch, three_threads, cls):
    """Below THREADED_MIN_SAMPLES a call's torch operations and loops run on one thread, whatever
    torch's setting (three here), and give the one-thread values bit for bit; the setting is
    restored after the call, also after a refused input."""
    y = torch.from_numpy(np.stack([SIGNALS["chords"], SIGNALS["noise"][: len(SIGNALS["chords"])]]))
    assert y.numel() < spectral_sums.THREADED_MIN_SAMPLES
    module = default(cls)
    seen = spy_threads(monkeypatch)
    with torch.no_grad():
        ours = module(y)
    assert seen and set(seen) == {1}, seen
    assert torch.get_num_threads() == 3
    monkeypatch.undo()
    torch.set_num_threads(1)
    with torch.no_grad():
        assert torch.equal(ours, module(y))
    torch.set_num_threads(3)
    with pytest.raises(ValueError, match="finite"):
        module(torch.full_like(y, float("nan")))
    assert torch.get_num_threads() == 3


@pytest.mark.parametrize(("free", "expected"), [(0, 1), (1, 1), (2, 2), (8, 3)])
def test_a_long_input_uses_at_most_the_free_cores(monkeypatch, three_threads, free, expected):
    """Above the threshold a call takes torch's threads (three) but no more than the free cores."""
    monkeypatch.setattr(spectral_sums, "free_cores", lambda: free)
    monkeypatch.setattr(spectral_sums, "THREADED_MIN_SAMPLES", 1000)
    seen = spy_threads(monkeypatch)
    with torch.no_grad():
        default(MelSpectrogram)(torch.from_numpy(SIGNALS["noise"]))
    assert seen and set(seen) == {expected}, seen
    assert spectral_sums.threads_for(999) == 1 and spectral_sums.threads_for(1000) == expected
    assert torch.get_num_threads() == 3


@pytest.mark.parametrize(("runnable", "own", "expected"), [(1, 1, 2), (2, 1, 1), (2, 2, 2), (3, 2, 1), (9, 1, 0)])
def test_free_cores_counts_the_other_processes_runnable_tasks(monkeypatch, three_threads, runnable, own, expected):
    """On two usable cores: runnable tasks of the machine (this thread included) minus this
    process's own running threads are other processes' work, one core each."""
    monkeypatch.setattr(spectral_sums.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(spectral_sums.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(spectral_sums, "_runnable", lambda: runnable)
    monkeypatch.setattr(spectral_sums, "_own_running", lambda: own)
    assert spectral_sums.free_cores() == expected


def test_own_running_threads_include_the_caller():
    """The calling thread is running while it reads /proc, so it counts itself (Linux)."""
    if not Path("/proc/self/task").is_dir():
        pytest.skip("needs Linux /proc")
    assert 1 <= spectral_sums._own_running() <= len(list(Path("/proc/self/task").iterdir()))
    assert spectral_sums._runnable() >= 1
