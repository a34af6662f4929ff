"""mirbook.frames.merge_frame_labels: a label change at any frame, the second one included, starts a run.

Worked by hand with one frame per second (hop = rate = 10): frame i is centred at i s and covers
half a second either side, from 0. Kills mutmut's surviving mutant that looked for changes from the
third frame on (benchmarks/results/mutation.md).
"""

import numpy as np

from mirbook.frames import merge_frame_labels


def test_a_change_at_the_second_frame_starts_a_new_run():
    intervals, labels = merge_frame_labels(["N", "C:maj", "C:maj"], sample_rate=10, hop_length=10)
    assert labels == ["N", "C:maj"]
    np.testing.assert_allclose(intervals, [[0.0, 0.5], [0.5, 2.5]])


def test_every_frame_its_own_run_when_each_differs_from_the_last():
    intervals, labels = merge_frame_labels(["a", "b", "a", "a"], sample_rate=10, hop_length=10)
    assert labels == ["a", "b", "a"]
    np.testing.assert_allclose(intervals, [[0.0, 0.5], [0.5, 1.5], [1.5, 3.5]])
