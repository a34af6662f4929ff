"""The six reference models of the paper's Section 5.7 (Figure 13), built from ``mirbook.layers``.

============= ============================ ================================ ===================
registry key  class                        notation (Section 5.7)           task (book chapter)
============= ============================ ================================ ===================
deep_chroma   :class:`DeepChroma`          d2-d2-d2-d1                      chroma, chords
conv2d_voice  :class:`Conv2dVoiceDetector` c2-c2-p1-c2-c2-p1-c2-p1-d1-d1-d1 singing voice
brnn_voice    :class:`BRNNVoiceDetector`   r1-r1-d1                         singing voice
conv1d_tagger :class:`Conv1dTagger`        c1-p1-c1-p1-d1-d1-d1             tags + key
conv2d_tagger :class:`Conv2dTagger`        c2-p2-c2-p2-c2-p2-d2             tags + key
crnn_tagger   :class:`CRNNTagger`          c2-p2-c2-p2-r1-r2-d1             tags + key
============= ============================ ================================ ===================

Every model consumes a *representation batch* ``(batch, bins, frames)`` -- what the datasets of
``mirbook.data`` yield -- and carries the recipe of its input: :meth:`ReferenceModel.frontend`
builds the matching ``mirbook.representations.Frontend`` (waveform -> log representation), and
``sample_rate``, ``hop_length``, ``n_bins`` (read from that frontend) say what it expects.
``mirbook.predict`` chains the two for a reader's own audio. Two presets each: ``"cpu"`` (the keyword defaults; trains in
minutes on a laptop on the embedded music world) and ``"paper"`` (the published configuration).

Notation: the class attribute ``notation`` is the tutorial's string; the instance property
``layer_notation`` reads the blocks the instance was actually built with (a paper preset that
follows the original publication more closely than the tutorial's sketch can differ, and says so).
Each model starts with a per-bin batch normalisation of its input (standardisation, Section 5.1;
Choi et al.'s CRNN does the same), which is not a layer of the notation.

Modules: ``base`` (:class:`ReferenceModel`), ``frontends`` (:func:`build_frontend`,
:class:`BandCentring`), ``augmentation`` (transposition of inputs and labels), ``summary``
(:func:`count_parameters`, :func:`layer_table`), and the models: ``chords``, ``voice``, ``taggers``.
"""

from __future__ import annotations

from mirbook.models.augmentation import transpose_labels, transpose_spectrogram
from mirbook.models.base import ReferenceModel
from mirbook.models.chords import ChromaOutput, DeepChroma
from mirbook.models.frontends import BandCentring, build_frontend
from mirbook.models.summary import count_parameters, layer_table
from mirbook.models.taggers import Conv1dTagger, Conv2dTagger, CRNNTagger, TagOutput
from mirbook.models.voice import BRNNVoiceDetector, Conv2dVoiceDetector

__all__ = [
    "MODELS",
    "BRNNVoiceDetector",
    "BandCentring",
    "CRNNTagger",
    "ChromaOutput",
    "Conv1dTagger",
    "Conv2dTagger",
    "Conv2dVoiceDetector",
    "DeepChroma",
    "ReferenceModel",
    "TagOutput",
    "build_frontend",
    "count_parameters",
    "layer_table",
    "transpose_labels",
    "transpose_spectrogram",
]

#: Registry from the book's chapter names (``book/models/<key>.ipynb``) to the model classes.
MODELS: dict[str, type[ReferenceModel]] = {
    "deep_chroma": DeepChroma,
    "conv2d_voice": Conv2dVoiceDetector,
    "brnn_voice": BRNNVoiceDetector,
    "conv1d_tagger": Conv1dTagger,
    "conv2d_tagger": Conv2dTagger,
    "crnn_tagger": CRNNTagger,
}
