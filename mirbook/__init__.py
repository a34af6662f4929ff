"""mirbook: the companion package of the executable book on deep learning for MIR.

It follows Choi, Fazekas, Cho & Sandler (2017), "A Tutorial on Deep Learning for Music
Information Retrieval". Modules mirror the paper:

- ``mirbook.representations``: Section 3.2 (STFT, mel, CQT, chroma, log compression).
- ``mirbook.layers``: Section 4 and Figure 8 (the d1 d2 c1 c2 p1 p2 r1 r2 blocks).
- ``mirbook.models``: Section 5.7 (the six reference models).
- ``mirbook.data``: the embedded music world the chapters train on, and real-dataset adapters.
- ``mirbook.train`` and ``mirbook.evaluate``: one training loop and the mir_eval-based scores.
- ``mirbook.predict``: a trained model applied to your own audio, returning mir_eval-style
  annotations (chord intervals and labels, voiced intervals, tag scores and a key).
- ``mirbook.features`` and ``mirbook.plot``: MFCC statistics for the conventional baseline of
  Section 2.1, and the figure helpers the chapters share.
- ``mirbook.runtime``: device selection and seeding, used by every chapter; ``mirbook.checks``:
  the input checks at the package's edges; ``mirbook.vocab``: chord and key vocabularies.
"""

__version__ = "0.1.0"
