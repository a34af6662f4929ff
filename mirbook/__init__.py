"""mirbook: the companion package of the executable book on deep learning for MIR.

It follows Choi, Fazekas, Cho & Sandler (2017), "A Tutorial on Deep Learning for Music
Information Retrieval". One idea per module (the README's "Package map" lists the same)::

    representations   STFT, mel, CQT, chroma, log compression (Section 3.2): "Audio representations", every model chapter
    cqt_engine        the CQT's plan, kernels, decimation and batched products behind representations.CQT
    spectral_sums     compiled CPU loops: the mel's band sums and the CQT's squared magnitudes
    layers            the Figure 8 blocks d1 d2 c1 c2 p1 p2 r1 r2 (Section 4): "Layers", "Deep learning"
    models            the six reference models of Section 5.7, their frontends, augmentation, layer_table: model chapters
    data              the synthetic music world, sources (the world, out-of-world pieces, real datasets), caches, the task Datasets: "Data"
    frames            frame <-> interval conversions between frame-wise outputs and mir_eval: time-varying chapters
    io                atomic writes, .lab files, the checkout folder: checkpoints, caches, predictions
    resample          any sample rate to any other: torchaudio's sinc kernel, soxr where that kernel is huge: predict, real datasets
    train             fit (one training loop, Section 2.2) and checkpoints: every chapter that trains
    diagnostics       gradient norms per input frame and per layer (Sections 2.2, 4.5, 5.3): "Gradients through depth and time"
    evaluate          metrics on annotations: mir_eval chords, voicing, keys; scikit-learn tag AUCs: model chapters
    intervals         paired bootstrap (over songs, or seeds then songs) and DeLong's test of two systems on shared test items: "Comparing the six models"
    scoring           runners that drive a model over a split and call evaluate: model chapters
    items             per-song test outputs of a chapter's run, model beside baseline, for paired intervals: model chapters, "Comparing the six models"
    predict           a trained model on your own audio in one call, mir_eval-style output: model chapters
    features          MFCC statistics for the designed pipeline of Section 2.1: "Deep learning"
    plot              the figures chapters share (histories, voicing, tags): model chapters
    runtime           device, seeds, evaluation mode, median timing: every chapter
    records           measurements shipped as package data (comparison records, tagger budgets, the paper presets' GPU timings): model chapters, "Comparing the six models"
    checks            input checks at the package's edges (audio, sample rates, options, frontends)
    vocab             chord and key vocabularies, chord templates, NO_KEY

Dependencies point one way: data -> models -> train; evaluate knows annotations only, scoring
and predict bring models and data to it.
"""

__version__ = "0.1.0"
