"""Tests of mirbook.models: the six Section 5.7 models (notation, sizes, shapes, overfitting, errors)."""

import inspect

import numpy as np
import pytest
import torch

from mirbook.layers import C1, D1, P1
from mirbook.models import (
    MODELS,
    ChromaOutput,
    TagOutput,
    count_parameters,
    layer_table,
)
from mirbook.vocab import CHORD_CHROMA, CHORD_LABELS, NO_KEY, chord_chroma

TAGGERS = ["conv1d_tagger", "conv2d_tagger", "crnn_tagger"]


def _batch(model, n=8, frames=None, seed=0):
    """A random batch in the format of the dataset the model trains on."""
    g = torch.Generator().manual_seed(seed)
    if model.task == "chords":
        x = torch.randn(n, model.n_bins, model.context, generator=g)
        labels = torch.randint(0, 25, (n,), generator=g)
        chroma = torch.from_numpy(np.stack([chord_chroma(CHORD_LABELS[i]) for i in labels]))
        return [x, chroma, labels]
    if model.task == "voice":
        frames = frames or max(model.min_frames, 20)
        x = torch.randn(n, model.n_bins, frames, generator=g)
        return [x, torch.randint(0, 2, (n, frames), generator=g).float()]
    frames = frames or 2 * model.min_frames + 40
    x = torch.randn(n, model.n_bins, frames, generator=g)
    return [x, torch.randint(0, 2, (n, model.n_tags), generator=g).float(), torch.randint(0, 24, (n,), generator=g)]


def test_registry_and_tutorial_notation():
    assert {name: cls.notation for name, cls in MODELS.items()} == {
        "deep_chroma": "d2-d2-d2-d1",
        "conv2d_voice": "c2-c2-p1-c2-c2-p1-c2-p1-d1-d1-d1",
        "brnn_voice": "r1-r1-d1",
        "conv1d_tagger": "c1-p1-c1-p1-d1-d1-d1",
        "conv2d_tagger": "c2-p2-c2-p2-c2-p2-d2",
        "crnn_tagger": "c2-p2-c2-p2-r1-r2-d1",
    }
    assert {cls.task for cls in MODELS.values()} == {"chords", "voice", "tags"}


def test_layer_notation_of_each_preset():
    """The cpu presets follow the tutorial's strings; paper presets follow the original publications."""
    for name, cls in MODELS.items():
        if name != "conv2d_voice":  # Schlüter & Grill 2015 pools in 2-D and has four convolutions
            assert cls.from_preset("cpu").layer_notation == cls.notation, name
    paper = {name: cls.from_preset("paper").layer_notation for name, cls in MODELS.items()}
    assert paper == {
        "deep_chroma": "d2-d2-d2-d1",
        "conv2d_voice": "c2-c2-p2-c2-c2-p2-d1-d1-d1",
        "brnn_voice": "r1-r1-r1-d1",
        "conv1d_tagger": "c1-p1-c1-p1-d1-d1",
        "conv2d_tagger": "c2-p2-c2-p2-c2-p2-c2-p2-d2",
        "crnn_tagger": "c2-p2-c2-p2-c2-p2-c2-p2-r1-r2-d1",
    }


def test_paper_presets_have_the_published_layer_sizes():
    """Parameter counts of the paper presets equal the counts implied by the published layer sizes.

    Each expected value is written out from the layer list quoted in the model's docstring
    (weights + biases), plus what this package adds: the input batch norm (2 per bin), batch
    norm inside conv blocks (2 per channel), the 24-unit key head of the taggers and deep chroma's
    12 -> 25 chord classifier. PyTorch GRUs/LSTMs carry two bias vectors per gate.
    """
    expected = {
        # Korzeniowski & Widmer 2016: 178 bands x 15 frames -> 512 -> 512 -> 512 -> 12
        "deep_chroma": (178 * 15 * 512 + 512) + 2 * (512 * 512 + 512) + (512 * 12 + 12) + (12 * 25 + 25) + 2 * 178,
        # Schlüter & Grill 2015: 80 x 115 -> conv 64, 32 (3x3) -> pool 3 -> conv 128, 64 -> pool 3 -> 64 x 7 x 11
        "conv2d_voice": (9 * 64 + 64) + (64 * 9 * 32 + 32) + (32 * 9 * 128 + 128) + (128 * 9 * 64 + 64)
        + 2 * (64 + 32 + 128 + 64) + (64 * 7 * 11 * 256 + 256) + (256 * 64 + 64) + (64 + 1) + 2 * 80,
        # three bidirectional LSTM layers of 50 on 80 mel bands, then one sigmoid output
        "brnn_voice": 2 * 4 * (80 * 50 + 50 * 50 + 2 * 50) + 2 * 2 * 4 * (100 * 50 + 50 * 50 + 2 * 50) + 101 + 2 * 80,
        # Dieleman & Schrauwen 2014: 128 mel -> conv 32x8 -> pool 4 -> conv 32x8 -> pool 4 -> 100 -> 50 (+ 24 keys)
        "conv1d_tagger": (128 * 8 * 32 + 32) + (32 * 8 * 32 + 32) + (32 * 100 + 100) + (100 * 74 + 74) + 2 * 128,
        # Choi et al. 2016 FCN-4: 3x3 convs of 128, 384, 768, 2048 with batch norm -> 50 (+ 24 keys)
        "conv2d_tagger": (9 * 128 + 128) + (128 * 9 * 384 + 384) + (384 * 9 * 768 + 768) + (768 * 9 * 2048 + 2048)
        + 2 * (128 + 384 + 768 + 2048) + (2048 * 74 + 74) + 2 * 96,
        # Choi et al. 2017 CRNN: 3x3 convs of 64, 128, 128, 128 with batch norm, GRU 32, GRU 32 -> 50 (+ 24 keys)
        "crnn_tagger": (9 * 64 + 64) + (64 * 9 * 128 + 128) + 2 * (128 * 9 * 128 + 128) + 2 * (64 + 3 * 128)
        + 3 * (128 * 32 + 32 * 32 + 2 * 32) + 3 * (32 * 32 + 32 * 32 + 2 * 32) + (32 * 74 + 74) + 2 * 96,
    }
    print(f"\n{'model':<15}{'cpu':>12}{'paper':>12}")
    for name, cls in MODELS.items():
        cpu, paper = count_parameters(cls.from_preset("cpu")), count_parameters(cls.from_preset("paper"))
        print(f"{name:<15}{cpu:>12,}{paper:>12,}")
        assert paper == expected[name], name
        assert cpu <= paper, f"{name}: the cpu preset should not be larger than the paper preset"


@pytest.mark.parametrize("name", list(MODELS))
def test_frontend_matches_what_the_model_reads(name):
    for preset in ("cpu", "paper"):
        model = MODELS[name].from_preset(preset)
        frontend = model.frontend()
        assert (frontend.sample_rate, frontend.hop_length, frontend.n_bins) == (
            model.sample_rate, model.hop_length, model.n_bins), preset
    model = MODELS[name].from_preset("cpu")
    audio = torch.randn(2, model.sample_rate * 3) * 0.1
    features = model.frontend()(audio)
    assert features.shape[:2] == (2, model.n_bins) and torch.isfinite(features).all()
    first, second = model.frontend(), model.frontend()
    assert first is not second  # a fresh copy each call: moving one to a device leaves the model's alone
    assert torch.equal(second(audio), features)
    assert "frontend" not in " ".join(model.state_dict())  # the recipe is stored, not the filters


def test_layer_table_lists_each_block_with_its_shape_and_parameters():
    model = torch.nn.Sequential(C1(4, 3, kernel_size=2), P1(2), D1(3, 2))
    model.train()
    table = layer_table(model, torch.randn(1, 4, 9))
    # c1: 4 x 3 x 2 weights + 3 biases; p1: none; d1: 3 x 2 weights + 2 biases
    assert table == (
        "block  module  output shape  parameters\n"
        "input          (1, 4, 9)\n"
        "c1     0       (1, 3, 8)             27\n"
        "p1     1       (1, 3, 4)              0\n"
        "d1     2       (1, 2, 4)              8"
    )
    assert model.training and not model[0]._forward_hooks  # mode restored, hooks removed
    chroma = MODELS["deep_chroma"].from_preset("cpu")
    rows = layer_table(chroma, torch.randn(2, chroma.n_bins, chroma.context)).splitlines()
    assert [row.split()[0] for row in rows[2:]] == chroma.layer_notation.split("-")
    assert rows[2].split()[1] == "hidden.0" and f"{count_parameters(chroma.hidden[0]):,}" == rows[2].split()[-1]


@pytest.mark.parametrize("frames", [0, 1, 60])
def test_time_varying_output_shapes(frames):
    chroma = MODELS["deep_chroma"].from_preset("cpu").eval()
    out = chroma(torch.randn(3, chroma.n_bins, chroma.context + frames))
    assert isinstance(out, ChromaOutput)
    assert out.chroma.shape == (3, 12, frames + 1) and out.chords.shape == (3, 25, frames + 1)
    conv = MODELS["conv2d_voice"].from_preset("cpu").eval()
    assert conv(torch.randn(3, conv.n_bins, conv.excerpt_frames + frames)).shape == (3, frames + 1)
    brnn = MODELS["brnn_voice"].from_preset("cpu").eval()
    assert brnn(torch.randn(3, brnn.n_bins, frames + 1)).shape == (3, frames + 1)


@pytest.mark.parametrize("name", TAGGERS)
@pytest.mark.parametrize("extra", [0, 37, 400])
def test_taggers_take_any_clip_length(name, extra):
    model = MODELS[name].from_preset("cpu", n_tags=7).eval()
    out = model(torch.randn(2, model.n_bins, model.min_frames + extra))
    assert isinstance(out, TagOutput)
    assert out.tags.shape == (2, 7) and out.key.shape == (2, 24)


@pytest.mark.parametrize("name", ["deep_chroma", "conv2d_voice", "brnn_voice"])
def test_predict_frames_gives_one_output_per_frame_aligned_with_forward(name):
    """Whole-song inference equals running the model on the window centred on each frame."""
    torch.manual_seed(0)
    model = MODELS[name].from_preset("cpu").eval()
    song = torch.randn(2, model.n_bins, 90)
    frames = model.predict_frames(song)
    if name == "deep_chroma":
        chroma, chords = frames
        assert chroma.shape == (2, 12, 90) and chords.shape == (2, 25, 90)
        half = model.context // 2
        direct = model(song[:, :, 40 - half: 40 + half + 1])
        torch.testing.assert_close(chroma[:, :, 40], torch.sigmoid(direct.chroma[:, :, 0]))
        torch.testing.assert_close(chords[:, :, 40], torch.softmax(direct.chords[:, :, 0], dim=1))
    elif name == "conv2d_voice":
        assert frames.shape == (2, 90)
        half = model.excerpt_frames // 2
        direct = model(song[:, :, 40 - half: 40 + half + 1])
        torch.testing.assert_close(frames[:, 40], torch.sigmoid(direct[:, 0]))
        assert frames.min() >= 0 and frames.max() <= 1
    else:
        torch.testing.assert_close(frames, torch.sigmoid(model(song)))
    assert not model.training


@pytest.mark.parametrize("name", list(MODELS))
def test_every_model_overfits_a_tiny_batch(name):
    """Without dropout or augmentation, 60 Adam steps (lr 0.01) on 8 random examples cut the loss 4-fold."""
    torch.manual_seed(0)
    options = {key: value for key, value in (("dropout", 0.0), ("conv_dropout", 0.0), ("transpose", 0))
               if key in inspect.signature(MODELS[name]).parameters}
    model = MODELS[name].from_preset("cpu", **options)
    assert not model.transpose  # deep chroma's and the taggers' cpu presets transpose: not here
    assert all(m.p == 0 for m in model.modules() if isinstance(m, torch.nn.modules.dropout._DropoutNd))
    assert all(m.dropout == 0 for m in model.modules() if isinstance(m, torch.nn.RNNBase))
    batch = _batch(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(60):
        loss = model.loss(batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] / 4, (name, losses[0], losses[-1])


@pytest.mark.parametrize("name", list(MODELS))
def test_wrong_inputs_raise_clear_errors(name):
    model = MODELS[name].from_preset("cpu")
    good = _batch(model, n=2)[0]
    with pytest.raises(ValueError, match=f"{model.n_bins} bins"):
        model(good[:, :-1])
    with pytest.raises(ValueError, match="unsqueeze"):
        model(good[0])
    with pytest.raises(ValueError, match="empty batch"):
        model(good[:0])
    with pytest.raises(ValueError, match="finite"):
        model(torch.full_like(good, float("nan")))
    if model.min_frames > 1:
        with pytest.raises(ValueError, match=f"at least {model.min_frames} frames"):
            model(good[:, :, : model.min_frames - 1])
    with pytest.raises(ValueError, match="preset must be one of"):
        MODELS[name].from_preset("gpu")


def test_bad_model_options_raise():
    with pytest.raises(ValueError, match="odd"):
        MODELS["deep_chroma"].from_preset("cpu", context=14)
    with pytest.raises(ValueError, match="too small"):
        MODELS["conv2d_voice"].from_preset("cpu", excerpt_frames=21)
    with pytest.raises(ValueError, match="tag_names has 2 names"):
        MODELS["crnn_tagger"].from_preset("cpu", n_tags=3, tag_names=["rock", "pop"])
    with pytest.raises(ValueError, match="same non-zero length"):
        MODELS["conv2d_tagger"].from_preset("cpu", channels=(8, 8), pools=((2, 2),))
    with pytest.raises(ValueError, match="representation"):
        MODELS["brnn_voice"](frontend={"representation": "mfcc"})
    tagger = MODELS["conv1d_tagger"].from_preset("cpu", tag_names=["rock", "pop", "vocal"])
    assert tagger.n_tags == 3 and tagger.tag_names == ("rock", "pop", "vocal")


def test_a_configuration_with_the_former_excerpt_option_name_still_builds():
    model = MODELS["conv2d_voice"].from_preset("cpu", excerpt_frames=31)
    config = {("n_frames" if key == "excerpt_frames" else key): value for key, value in model.config.items()}
    rebuilt = MODELS["conv2d_voice"].from_config(config)
    assert rebuilt.excerpt_frames == 31 and rebuilt.config == model.config


def test_chord_classifier_starts_as_template_matching():
    """Before training, a perfect chord template is classified as its chord and silence as 'N'."""
    model = MODELS["deep_chroma"].from_preset("cpu")
    templates = torch.tensor(CHORD_CHROMA)
    assert torch.equal(model.chord_classifier(templates).argmax(dim=1), torch.arange(25))


def test_transposition_moves_spectrogram_and_labels_together():
    from mirbook.models import transpose_labels, transpose_spectrogram
    from mirbook.vocab import chord_index, key_index

    x = torch.arange(2 * 24 * 3, dtype=torch.float32).reshape(2, 24, 3)
    up = transpose_spectrogram(x, torch.tensor([2, -1]), bins_per_semitone=2)
    torch.testing.assert_close(up[0, 4:], x[0, :-4])  # +2 semitones = 4 bins up
    assert torch.all(up[0, :4] == x[0].min())  # filled with the quietest value
    torch.testing.assert_close(up[1, :-2], x[1, 2:])
    semitones = torch.tensor([2, -1, 5])
    labels = torch.tensor([chord_index("C:maj"), chord_index("C:min"), 0])
    chroma = torch.from_numpy(np.stack([chord_chroma(CHORD_LABELS[i]) for i in labels]))
    keys = torch.tensor([key_index("B major"), key_index("C minor"), NO_KEY])
    moved_chroma, moved_chords, moved_keys = transpose_labels(semitones, chroma=chroma, chords=labels, keys=keys)
    assert [CHORD_LABELS[i] for i in moved_chords] == ["D:maj", "B:min", "N"]
    torch.testing.assert_close(moved_chroma, torch.from_numpy(np.stack([chord_chroma(c) for c in ("D:maj", "B:min", "N")])))
    assert moved_keys.tolist() == [key_index("C# major"), key_index("B minor"), NO_KEY]


def test_transpose_option_needs_a_cqt_and_only_acts_in_training():
    with pytest.raises(ValueError, match="CQT"):
        MODELS["conv2d_tagger"].from_preset("paper", transpose=3)
    with pytest.raises(ValueError, match="transpose must be"):
        MODELS["deep_chroma"].from_preset("cpu", transpose=12)
    model = MODELS["crnn_tagger"].from_preset("cpu")
    assert model.transpose == 6 and model.config["transpose"] == 6
    model.eval()
    assert torch.equal(model.random_semitones(5), torch.zeros(5, dtype=torch.long))
    model.train()
    torch.manual_seed(0)
    shifts = model.random_semitones(1000)
    assert shifts.min() == -6 and shifts.max() == 6


def test_conv2d_voice_cpu_excerpt_reaches_the_dense_layers_in_every_frame():
    """The cpu window is covered by the pooling without a remainder: every frame moves the output."""
    torch.manual_seed(0)
    model = MODELS["conv2d_voice"].from_preset("cpu").eval()
    x = torch.randn(1, model.n_bins, model.excerpt_frames, requires_grad=True)
    model(x).sum().backward()
    per_frame = x.grad.abs().sum(dim=1)[0]
    assert per_frame.shape == (model.excerpt_frames,) and (per_frame > 0).all(), per_frame
    wider = MODELS["conv2d_voice"].from_preset("cpu", excerpt_frames=31).eval()
    x = torch.randn(1, wider.n_bins, 31, requires_grad=True)
    wider(x).sum().backward()
    assert (x.grad.abs().sum(dim=1)[0][-6:] == 0).all()  # 31 frames: the last 6 fall off the pooling floors


def test_centre_bands_frontend_reads_each_song_against_its_own_band_means():
    """centre_bands=True: each band of each clip has mean zero, and a change of level cancels."""
    model = MODELS["conv2d_voice"].from_preset("cpu")
    assert model.frontend_spec["centre_bands"] is True
    torch.manual_seed(0)
    audio = torch.randn(2, model.sample_rate * 2) * 0.1
    centred = model.frontend()(audio)
    assert centred.abs().mean() > 0.1 and centred.mean(dim=-1).abs().max() < 1e-4
    assert torch.allclose(model.frontend()(audio * 3.0), centred, atol=1e-3)  # a level change is removed
    plain = MODELS["conv2d_voice"](frontend={**model.frontend_spec, "centre_bands": False}).frontend()(audio)
    assert torch.allclose(plain - plain.mean(dim=-1, keepdim=True), centred, atol=1e-4)
    with pytest.raises(ValueError, match="centre_bands"):
        MODELS["conv2d_voice"](frontend={**model.frontend_spec, "centre_bands": "yes"}).frontend()


def test_brnn_voice_deltas_add_the_frame_differences_as_inputs():
    torch.manual_seed(0)
    plain = MODELS["brnn_voice"].from_preset("cpu", deltas=False)
    with_deltas = MODELS["brnn_voice"].from_preset("cpu")
    assert with_deltas.deltas and not plain.deltas
    first = with_deltas.recurrent[0]
    assert next(first.parameters()).shape[1] == 2 * with_deltas.n_bins
    assert next(plain.recurrent[0].parameters()).shape[1] == plain.n_bins
    # the difference channel sees change only: a song that holds one spectrum gives all-zero deltas
    seen = []
    hook = with_deltas.delta_norm.register_forward_hook(lambda m, i, o: seen.append(i[0]))
    with_deltas.eval()(torch.randn(2, with_deltas.n_bins, 1).expand(-1, -1, 30).contiguous())
    hook.remove()
    assert seen and torch.count_nonzero(seen[0]) == 0
    with pytest.raises(ValueError, match="deltas"):
        MODELS["brnn_voice"].from_preset("cpu", deltas=1)


@pytest.mark.parametrize("name", TAGGERS)
def test_tagger_loss_weighs_the_tags_by_tag_weight(name):
    """loss = tag_weight x BCE(tags) + CE(key); the weight is checked and kept in the config."""
    torch.manual_seed(0)
    model = MODELS[name].from_preset("cpu", n_tags=5, transpose=0, tag_weight=3.0).eval()
    x, tags, key = _batch(model)
    out = model(x)
    bce = torch.nn.functional.binary_cross_entropy_with_logits(out.tags, tags)
    ce = torch.nn.functional.cross_entropy(out.key, key)
    torch.testing.assert_close(model.loss([x, tags, key]), 3.0 * bce + ce)
    unknown = torch.full_like(key, NO_KEY)  # real tagging data: no key, only the tag term
    torch.testing.assert_close(model.loss([x, tags, unknown]), 3.0 * bce)
    assert model.config["tag_weight"] == 3.0 and MODELS[name](**model.config).tag_weight == 3.0
    for bad in (0, -1.0, True, "4"):
        with pytest.raises(ValueError, match="tag_weight must be a positive number"):
            MODELS[name].from_preset("cpu", tag_weight=bad)


@pytest.mark.parametrize("name, documented", [("conv1d_tagger", 6.0), ("conv2d_tagger", 12.0), ("crnn_tagger", 8.0)])
def test_taggers_default_tag_weight_is_the_documented_one(name, documented):
    """Each tagger's docstring states its cpu preset's ``tag_weight``; the default must be that number."""
    import re

    assert f"``tag_weight={documented:g}``" in " ".join(MODELS[name].__doc__.split())
    assert re.findall(r"tag_weight=(\d+)", MODELS[name].__doc__) == [f"{documented:g}"]
    model = MODELS[name].from_preset("cpu", n_tags=3)
    assert model.tag_weight == documented and model.config["tag_weight"] == documented
    assert MODELS[name](n_tags=3).tag_weight == documented
