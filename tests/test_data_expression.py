"""Regression test for the wavetable oscillator of ``mirbook.data.expression``."""

import numpy as np

from mirbook.data.expression import harmonic_source


def test_phase_just_below_a_full_cycle_wraps_instead_of_indexing_past_the_table():
    # a phase of 1 - 1e-9 cycles rounds to exactly the table size in float32; it must read as phase 0
    sample_rate = 22050
    offset = np.random.default_rng(0).uniform(0, 1)
    f0 = np.array([(1 - 1e-9 - offset) * sample_rate, 220.0])
    tone = harmonic_source(f0, sample_rate, np.array([1.0, 0.5]), np.random.default_rng(0))
    assert tone.shape == (2,)
    assert abs(tone[0]) < 1e-3  # sin(k * 2 pi) = 0 for every harmonic
